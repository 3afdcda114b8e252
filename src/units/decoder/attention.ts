import { type DelayModel, type PathStep } from "../../fabric/delays.js";
import { adderSteps, PathList, type ClockPath } from "../../fabric/paths.js";
import { bramBlocks, carryCells, res, type Family, type ModuleResources } from "../../fabric/resources.js";
import { type BlockShape } from "../../model/block-shape.js";
import { EXP_INDEX_BITS, expTable, P_FRAC, RECIP_BITS, scoreConstant, V_GUARD, W_BITS } from "../../ref/spec/attention.js";
import { UserError } from "../../util/errors.js";
import { packageVersion, renderTemplate } from "../../util/templates.js";
import { type SourceFile } from "../unit.js";
import { type DecoderUnit } from "./decoder-unit.js";

/**
 * The attention core (src/ref/spec/attention.ts, docs/numerics/attention.md): one query head at a
 * time over L cached rows of its kv head, a whole K or V row (headDim int8 + its scale) a cycle.
 * The sequencer (or the KV reader) sends, per job: L, the head's q, the L K rows, the L V rows;
 * grouped-query attention is the reader's choice of kv head ⌊h / (heads / kvHeads)⌋ per job, and
 * a prefill's causal mask is L = position + 1 per query.
 */

const bitsFor = (n: number): number => Math.max(1, Math.ceil(Math.log2(n)));

/** The datapath widths of one shape (each stated where the template declares it). */
export interface AttentionWidths {
  readonly D: number;
  /** Bits of L (1..maxContext). */
  readonly LW: number;
  readonly AW: number;
  /** Counter bits: up to max(maxContext, headDim + 1, RECIP_BITS + 1). */
  readonly CW: number;
  /** Adder-tree levels of the q·k dot product. */
  readonly TL: number;
  /** The dot product: 24 bits a product (int16 × int8, −2^15·−2^7 = 2^22 included) + TL. */
  readonly DW: number;
  /** ΣP ≤ maxContext · 2^15. */
  readonly SW: number;
  /** |acc| ≤ 2^33 · maxContext, signed. */
  readonly ACCW: number;
  /** A K or V beat: headDim int8 values and the 24-bit scale above them. */
  readonly ROWW: number;
}

export function checkAttentionShape(shape: Pick<BlockShape, "headDim" | "maxContext" | "heads" | "kvHeads">): void {
  const { headDim, maxContext, heads, kvHeads } = shape;
  if (!(Number.isInteger(headDim) && headDim >= 2 && headDim <= 256)) throw new UserError(`attention headDim ${headDim}: expected a whole number 2..256`);
  if (!(Number.isInteger(maxContext) && maxContext >= 1 && maxContext <= 65536)) throw new UserError(`attention maxContext ${maxContext}: expected a whole number 1..65536`);
  if (!(Number.isInteger(heads) && Number.isInteger(kvHeads) && kvHeads >= 1 && heads % kvHeads === 0)) {
    throw new UserError(`attention heads ${heads} / kvHeads ${kvHeads}: expected kvHeads ≥ 1 dividing heads`);
  }
}

export function attentionWidths(shape: Pick<BlockShape, "headDim" | "maxContext" | "heads" | "kvHeads">): AttentionWidths {
  checkAttentionShape(shape);
  const D = shape.headDim;
  const L = shape.maxContext;
  const TL = bitsFor(D);
  const lg = Math.ceil(Math.log2(L));
  return {
    D,
    LW: bitsFor(L + 1),
    AW: bitsFor(L),
    CW: Math.max(bitsFor(L + 1), bitsFor(D + 2), bitsFor(RECIP_BITS + 2)),
    TL,
    DW: 24 + TL,
    SW: 16 + lg,
    ACCW: 34 + lg,
    ROWW: 8 * D + 24,
  };
}

/** The q·k products and the registered adder tree, exact widths per level (template lists). */
function treeContext(D: number): { products: object[]; nodes: object[] } {
  const products = Array.from({ length: D }, (_, i) => ({ i, lo: 8 * i }));
  const nodes: object[] = [];
  for (let n = D, l = 1; n > 1; l++) {
    const m = Math.ceil(n / 2);
    for (let j = 0; j < m; j++) nodes.push({ l, j, hi: 24 + l - 1, prev: l - 1, a: 2 * j, b: 2 * j + 1, pair: 2 * j + 1 < n });
    n = m;
  }
  return { products, nodes };
}

export function attentionRtl(shape: BlockShape): SourceFile {
  const w = attentionWidths(shape);
  const { c, frac } = scoreConstant(shape.headDim);
  const table = expTable();
  const content = renderTemplate("rtl/decoder/attention.v.hbs", {
    version: packageVersion(),
    ...w,
    MAXL: shape.maxContext,
    CMANT: c,
    CF: frac,
    RB: RECIP_BITS,
    WB: W_BITS,
    WSHIFT: 16 + V_GUARD - P_FRAC,
    exp: table.map((v, f) => ({ f, v })),
    rslices: Array.from({ length: Math.ceil((w.ACCW + 1) / 17) }, (_, c, ) => ({ c, lo: 17 * c, top: c === Math.ceil((w.ACCW + 1) / 17) - 1 })),
    ...treeContext(shape.headDim),
  });
  return { name: "trilut_attention.v", content };
}

/** Fixed cycle figures of the template (see its phases). */
export const ATTENTION_CYCLES = {
  /** The len handshake. */
  len: 1,
  /** q → int16 beyond its D steps: the registered shift amount, then shift | round and saturate. */
  convertBeyondD: 2,
  /** A K row's handshake to its score written: input reg, products, TL tree levels, dot·g, shift, round and saturate. */
  scoreLatencyBeyondTree: 5,
  /** A V row's handshake to its accumulation: input reg + score read, table, P, P·m, shift, w, w·v. */
  valueLatency: 7,
  /** Division: one init cycle and RECIP_BITS + 1 quotient bits. */
  divide: RECIP_BITS + 2,
  /** Output pipeline: acc·R by slices, their sum, shift, then round and saturate into the output register. */
  outLatency: 4,
} as const;

/**
 * Exact cycles of one job (one query head over L rows), every input offered from the job's first
 * cycle and the output always ready: len (1), q in (D), conversion (D + 2), L K rows one a cycle and
 * the score pipeline's drain, L V rows and the accumulation pipeline's drain, the division, then D
 * outputs behind a 4-stage pipeline. Jobs run back to back, so a token's heads or a prefill's
 * queries sum: attentionCycles(shape, [L0, L1, …]).
 */
export function attentionJobCycles(shape: Pick<BlockShape, "headDim" | "maxContext" | "heads" | "kvHeads">, L: number): number {
  const w = attentionWidths(shape);
  if (!(Number.isInteger(L) && L >= 1 && L <= shape.maxContext)) throw new UserError(`attention context length ${L}: expected 1..${shape.maxContext}`);
  const c = ATTENTION_CYCLES;
  return c.len + 2 * w.D + c.convertBeyondD + (L + w.TL + c.scoreLatencyBeyondTree) + (L + c.valueLatency) + c.divide + (w.D + c.outLatency);
}

/** Exact cycles of jobs of context lengths `lengths` run back to back (decode: heads × [L]; prefill: per query and head). */
export function attentionCycles(shape: Pick<BlockShape, "headDim" | "maxContext" | "heads" | "kvHeads">, lengths: readonly number[]): number {
  return lengths.reduce((a, L) => a + attentionJobCycles(shape, L), 0);
}

/** Decode of one token at context L: every query head over L rows. */
export function attentionDecodeCycles(shape: BlockShape, L: number): number {
  return shape.heads * attentionJobCycles(shape, L);
}

/** Prefill of n queries at positions p0..p0+n−1: each head of query j over p0 + j + 1 rows. */
export function attentionPrefillCycles(shape: BlockShape, p0: number, n: number): number {
  let total = 0;
  for (let j = 0; j < n; j++) total += shape.heads * attentionJobCycles(shape, p0 + j + 1);
  return total;
}

/**
 * One instance's resources (ultrascale+), calibrated against yosys 0.55 (test/decoder-attention.test.ts)
 * at maxContext 1024 on headDim 6 and 64:
 * - DSP48E2, structural: D q16×k8 products, D w×v8 products, m_k·C and P·m_v (one each), acc·R
 *   (⌈(ACCW+1)/17⌉ registered slices), dot·g (1: g < 2^17, so {0, g} fits the 18-bit port; 2 once
 *   the dot product is 28 bits or wider: yosys's split, seen at headDim 64);
 * - BRAM36: the score memory (maxContext × 32) and the 1024 × 16 exp ROM (one RAMB18);
 * - LUT, FF and LUTRAM (yosys turns the row delay lines into SRL16s): linear in headDim, fitted on
 *   those two shapes only (exact there); the widths that grow with maxContext (counters, ΣP, the
 *   accumulators) are not yet separated, so other contexts are extrapolations.
 */
export function attentionResources(shape: BlockShape, family: Family): ModuleResources {
  const { D, DW, ACCW } = attentionWidths(shape);
  const dspDot = DW > 27 ? 2 : 1;
  const dsp = 2 * D + dspDot + 1 + 1 + Math.ceil((ACCW + 1) / 17);
  return res({
    lut: Math.round(LUT_FIXED + LUT_PER_LANE * D),
    ff: Math.round(FF_FIXED + FF_PER_LANE * D),
    lutram: Math.round(LUTRAM_FIXED + LUTRAM_PER_LANE * D),
    carry: D * carryCells(ACCW, family),
    bram36: bramBlocks(32, shape.maxContext) + 0.5,
    dsp,
  });
}
// yosys (ultrascale+), the pipelined shifts (clock ≤ 4 ns): headDim 6 → 2597 LUT, 1937 FF, 108 LUTRAM;
// headDim 64 → 9213, 11255, 604 (before: 3542, 1555, 107 and 10007, 10870, 603: one shift instead of
// separate left/right shifters saves LUTs, the added stages cost ~380 FF)
const LUT_PER_LANE = 6616 / 58;
const LUT_FIXED = 2597 - 6 * LUT_PER_LANE;
const FF_PER_LANE = 9318 / 58;
const FF_FIXED = 1937 - 6 * FF_PER_LANE;
const LUTRAM_PER_LANE = 496 / 58;
const LUTRAM_FIXED = 108 - 6 * LUTRAM_PER_LANE;

/** The register-to-register paths of trilut_attention, stage by stage. */
export function attentionPaths(shape: BlockShape, _m: DelayModel): ClockPath[] {
  const w = attentionWidths(shape);
  const p = new PathList();
  // a barrel shifter: one LUT level per shift-amount bit
  const shift = (_bits: number, stages: number): PathStep[] => Array.from({ length: stages }, (): PathStep => "lut");
  // q → int16: lead(max|q|) → sq registered; then (2q >>> sq) registered; then round and saturate
  p.add("trilut_attention", "q: lead(max|q|) → sq", "ff", ["lut", "lut", "lut", ...adderSteps(6), "lut"], "ff");
  p.add("trilut_attention", "q: 2q >>> sq", "ff", shift(33, 5), "ff");
  p.add("trilut_attention", "q: round, saturate to int16", "ff", [...adderSteps(34), "lut", "lut"], "ff");
  p.add("trilut_attention", "q16·k8 product", "ff", ["dsp"], "ff");
  p.add("trilut_attention", "adder tree level", "ff", adderSteps(24 + w.TL), "ff");
  p.add("trilut_attention", "score shift amount from E", "ff", [...adderSteps(10), "lut"], "ff");
  // dot·g: one DSP while the dot product fits its 27-bit port; wider, yosys splits it over two DSPs
  // and sums the partial products in a LUT adder
  p.add("trilut_attention", "dot·g", "ff", w.DW > 27 ? ["dsp", ...adderSteps(w.DW + 19)] : ["dsp"], "ff");
  // the old critical path (round, shift both ways, saturate: 26 levels, 8.6 ns) as two stages
  p.add("trilut_attention", "score: p·2^32 >>> t", "ff", shift(w.DW + 51, 7), "ff");
  p.add("trilut_attention", "score: round, saturate to int32", "ff", [...adderSteps(w.DW + 52), "lut", "lut", "lut"], "ff");
  p.add("trilut_attention", "score write and running max", "ff", adderSteps(32), "bram");
  // the exp table is a block ROM (yosys: one RAMB18): its address is the path's end; ⌊t/1024⌋ > 16 ends in a FF
  p.add("trilut_attention", "max − x, exp ROM address", "bram", [...adderSteps(33), ...adderSteps(28)], "bram");
  p.add("trilut_attention", "max − x, P's zero flag", "bram", [...adderSteps(33), ...adderSteps(28), "lut", "lut"], "ff");
  p.add("trilut_attention", "P = ((2·EXP >> n) + [n ≠ 0]) >> 1", "ff", [...shift(17, 5), ...adderSteps(18)], "ff");
  p.add("trilut_attention", "w shift amount from e_v", "ff", [...adderSteps(9), ...adderSteps(9), "lut"], "ff");
  p.add("trilut_attention", "w: P·m·2^(WB+1) >> t", "ff", shift(W_BITS + 32, 6), "ff");
  p.add("trilut_attention", "w: round, saturate", "ff", [...adderSteps(W_BITS + 33), "lut", "lut"], "ff");
  p.add("trilut_attention", "w·v8 product", "ff", ["dsp"], "ff");
  p.add("trilut_attention", "accumulate", "ff", adderSteps(w.ACCW), "ff");
  p.add("trilut_attention", "divider step", "ff", [...adderSteps(w.SW + 1), "lut"], "ff");
  const slices = Math.ceil((w.ACCW + 1) / 17);
  p.add("trilut_attention", "acc slice × R", "ff", ["dsp"], "ff");
  p.add("trilut_attention", "acc·R: sum of the slices' products", "ff", Array.from({ length: slices - 1 }, () => adderSteps(w.ACCW + RECIP_BITS + 2)).flat(), "ff");
  p.add("trilut_attention", "out: acc·R >>> (s − 1)", "ff", shift(w.ACCW + RECIP_BITS + 2, 7), "ff");
  p.add("trilut_attention", "out: round, saturate to int32", "ff", [...adderSteps(w.ACCW + RECIP_BITS + 3), "lut", "lut", "lut"], "ff");
  return p.paths;
}

/** The HLS function trilut_attention: the same jobs over element streams (see the template). */
export function attentionHls(shape: BlockShape): SourceFile {
  const w = attentionWidths(shape);
  const { c, frac } = scoreConstant(shape.headDim);
  const content = renderTemplate("hls/decoder/attention.cpp.hbs", {
    version: packageVersion(),
    D: w.D,
    MAXL: shape.maxContext,
    CMANT: c,
    CF: frac,
    RB: RECIP_BITS,
    WB: W_BITS,
    WSHIFT: 16 + V_GUARD - P_FRAC,
    expBits: EXP_INDEX_BITS,
    expList: expTable().join(", "),
  });
  return { name: "trilut_attention.cpp", content };
}

export const attention: DecoderUnit = {
  name: "attention",
  summary:
    "One query head over L cached int8 K/V rows (a row a cycle): q shifted to int16, scores q·k·g·2^E in log2 units " +
    "into a maxContext × 32 memory, two-pass softmax with 2^-x from a 1024-entry table, the V sum weighted by P·scale, " +
    "one restoring division for 1/ΣP per head.",
  has: () => true,
  rtl: (shape) => [attentionRtl(shape)],
  resources: (shape, family) => [{ module: "trilut_attention", instances: 1, resources: attentionResources(shape, family) }],
  paths: (shape, m) => attentionPaths(shape, m),
  cycles: "per job (query head, context L): 1 + (2·headDim + 2) + (L + TL + 5) + (L + 7) + 26 + (headDim + 4): attentionJobCycles",
  cycleFigures: (shape) => ({ ...ATTENTION_CYCLES, treeLevels: attentionWidths(shape).TL }),
  hls: (shape) => attentionHls(shape),
};
