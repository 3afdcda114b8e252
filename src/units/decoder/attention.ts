import { type DelayModel, type PathStep } from "../../fabric/delays.js";
import { adderSteps, muxSteps, PathList, type ClockPath } from "../../fabric/paths.js";
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
  /** Counter bits: up to max(maxContext, headDim, RECIP_BITS + 1). */
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
    CW: Math.max(bitsFor(L + 1), bitsFor(D + 1), bitsFor(RECIP_BITS + 2)),
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
    ks1: w.DW + 19,
    oRoundW: w.ACCW + RECIP_BITS + 2,
    exp: table.map((v, f) => ({ f, v })),
    ...treeContext(shape.headDim),
  });
  return { name: "trilut_attention.v", content };
}

/** Fixed cycle figures of the template (see its phases). */
export const ATTENTION_CYCLES = {
  /** The len handshake. */
  len: 1,
  /** A K row's handshake to its score written: input reg, products, TL tree levels, dot·g, shift. */
  scoreLatencyBeyondTree: 4,
  /** A V row's handshake to its accumulation: input reg + score read, table, P, P·m, w, w·v. */
  valueLatency: 6,
  /** Division: one init cycle and RECIP_BITS + 1 quotient bits. */
  divide: RECIP_BITS + 2,
  /** Output pipeline: acc·R, then round and saturate into the output register. */
  outLatency: 2,
} as const;

/**
 * Exact cycles of one job (one query head over L rows), every input offered from the job's first
 * cycle and the output always ready: len (1), q in (D), conversion (D), L K rows one a cycle and
 * the score pipeline's drain, L V rows and the accumulation pipeline's drain, the division, then D
 * outputs behind a 2-stage pipeline. Jobs run back to back, so a token's heads or a prefill's
 * queries sum: attentionCycles(shape, [L0, L1, …]).
 */
export function attentionJobCycles(shape: Pick<BlockShape, "headDim" | "maxContext" | "heads" | "kvHeads">, L: number): number {
  const w = attentionWidths(shape);
  if (!(Number.isInteger(L) && L >= 1 && L <= shape.maxContext)) throw new UserError(`attention context length ${L}: expected 1..${shape.maxContext}`);
  const c = ATTENTION_CYCLES;
  return c.len + 2 * w.D + (L + w.TL + c.scoreLatencyBeyondTree) + (L + c.valueLatency) + c.divide + (w.D + c.outLatency);
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
 * One instance's resources (ultrascale+ / 7-series alike), structural where the template is:
 * - DSP48E2: D q16×k8 products, D w×v8 products, dot·g (DW × 18: two when DW + 1 > 27), m_k·C
 *   (16 × 17: one), P·m_v (one), acc·R (ACCW × 25: ⌈ACCW/17⌉ partial products);
 * - BRAM: the score memory, maxContext × 32;
 * - FF: every register the template declares (the row pipelines dominate);
 * - LUT: fitted on yosys (test/decoder-attention.test.ts): the adder tree, the accumulators'
 *   adders, the barrel shifters, the exp ROM and the control.
 */
export function attentionResources(shape: BlockShape, family: Family): ModuleResources {
  const w = attentionWidths(shape);
  const { D, TL, DW, SW, ACCW, ROWW, CW, LW } = w;
  let treeFf = 0;
  let treeCarry = 0;
  for (let n = D, l = 1; n > 1; l++) {
    n = Math.ceil(n / 2);
    treeFf += n * (24 + l);
    treeCarry += n * carryCells(24 + l, family);
  }
  const ff =
    D * (32 + 16) + // qraw, q16
    32 + // qmax
    ROWW + 1 + // k1
    D * 24 + 18 + 10 + 1 + // products, g, E
    treeFf + (TL + 1) * (18 + 10 + 1) + // tree and the scalars beside it
    DW + 19 + 10 + 1 + // dot·g
    32 + 1 + // x
    32 + 32 + // xmax, the score read
    ROWW + 1 + // v1
    4 * (ROWW - 24) + 2 * 24 + 16 + 5 + 1 + 16 + 31 + 9 + W_BITS + 5 + // v2..v5 rows, scales, table, P, P·m, w, valids
    D * (W_BITS + 9) + // w·v
    D * ACCW + SW + // accumulators, ΣP
    6 + SW + 1 + RECIP_BITS + 1 + // lz, remainder, reciprocal
    ACCW + RECIP_BITS + 2 + 2 + 32 + 2 + // o1, out
    3 + LW + 2 * CW; // state, len, counters
  const dspDot = DW + 1 > 27 ? 2 : 1;
  const dsp = 2 * D + dspDot + 1 + 1 + Math.ceil((ACCW + 1) / 17);
  const carry = treeCarry + D * carryCells(ACCW, family) + 12 * carryCells(40, family);
  const lut = Math.round(LUT_PER_TREE_BIT * treeFf + LUT_PER_ACC_BIT * D * ACCW + LUT_FIXED + LUT_PER_LANE * D);
  return res({ lut, ff, carry, bram36: bramBlocks(32, shape.maxContext), dsp });
}
// fitted on yosys (ultrascale+) for headDim 6 and 64 at maxContext 1024: see the test
const LUT_PER_TREE_BIT = 1;
const LUT_PER_ACC_BIT = 1;
const LUT_PER_LANE = 0;
const LUT_FIXED = 2000;

/** The register-to-register paths of trilut_attention, stage by stage. */
export function attentionPaths(shape: BlockShape, m: DelayModel): ClockPath[] {
  const w = attentionWidths(shape);
  const p = new PathList();
  // a barrel shifter: one LUT level per shift-amount bit
  const shift = (_bits: number, stages: number): PathStep[] => Array.from({ length: stages }, (): PathStep => "lut");
  p.add("trilut_attention", "q: lead(max|q|), shift, round, saturate to int16", "ff", ["lut", "lut", "lut", ...shift(32, 5), ...adderSteps(33), "lut"], "ff");
  p.add("trilut_attention", "q16·k8 product", "ff", ["dsp"], "ff");
  p.add("trilut_attention", "adder tree level", "ff", adderSteps(24 + w.TL), "ff");
  p.add("trilut_attention", "dot·g", "ff", ["dsp", "dsp-cascade"], "ff");
  p.add("trilut_attention", "score: round, shift, saturate", "ff", [...adderSteps(w.DW + 20), ...shift(w.DW + 20, 6), "lut", "lut"], "ff");
  p.add("trilut_attention", "score write and running max", "ff", adderSteps(32), "bram");
  p.add("trilut_attention", "max − x, exp ROM", "bram", [...adderSteps(33), ...adderSteps(28), ...muxSteps(2 ** EXP_INDEX_BITS, m)], "ff");
  p.add("trilut_attention", "P = EXP >> n, rounded", "ff", [...shift(17, 5), ...adderSteps(17)], "ff");
  p.add("trilut_attention", "w: round, shift, saturate", "ff", [...adderSteps(33), ...shift(33, 6), "lut", "lut"], "ff");
  p.add("trilut_attention", "w·v8 product", "ff", ["dsp"], "ff");
  p.add("trilut_attention", "accumulate", "ff", adderSteps(w.ACCW), "ff");
  p.add("trilut_attention", "divider step", "ff", [...adderSteps(w.SW + 1), "lut"], "ff");
  p.add("trilut_attention", "acc·R", "ff", ["dsp", "dsp-cascade", "dsp-cascade"], "ff");
  p.add("trilut_attention", "out: round, shift, saturate", "ff", [...adderSteps(w.ACCW + RECIP_BITS + 3), ...shift(64, 7), "lut", "lut"], "ff");
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
  cycles: "per job (query head, context L): 1 + 2·headDim + (L + TL + 4) + (L + 6) + 26 + (headDim + 2): attentionJobCycles",
  cycleFigures: (shape) => ({ ...ATTENTION_CYCLES, treeLevels: attentionWidths(shape).TL }),
  hls: (shape) => attentionHls(shape),
};
