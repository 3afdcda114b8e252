import { type EngineGeometry } from "../engine/config.js";
import { type BlockShape } from "../model/block-shape.js";
import { DESCRIPTOR_FIELDS, DESCRIPTOR_WORDS, packDescriptor } from "../engine/descriptor.js";
import { type Tile, type TilePlan } from "../engine/tiles.js";
import { normQuantInstances } from "../units/decoder/norm-quant.js";
import { UserError } from "../util/errors.js";

/**
 * The block sequencer's program (docs/block.md): a stream of 256-bit items, eight little-endian
 * 32-bit words each. An instruction's word 0 holds its opcode, words 1..7 its operands; a matmul
 * instruction is followed by one item per tile holding the engine's descriptor (one field a word,
 * in the order of src/engine/descriptor.ts, as the engine's own descriptor stream). The sequencer
 * runs one instruction at a time, so the program's cycles are the sum of its instructions'
 * (src/estimate/cycles/block.ts).
 */
export const PROGRAM_ITEM_WORDS = 8;
export const PROGRAM_ITEM_BITS = 32 * PROGRAM_ITEM_WORDS;
/** Operands and the sequencer's counters are 16 bits wide. */
export const OPERAND_BITS = 16;

export const BLOCK_OPCODES = {
  LOAD_X: 1,
  MATMUL: 2,
  STORE_Y: 3,
  LOAD_A: 4,
  STORE_A: 5,
  ROPE: 6,
  KV_WRITE: 7,
  ATTENTION: 8,
  SET_SCALE: 9,
  SCALE_OUT: 10,
  RESIDUAL: 11,
  LOAD_H: 12,
  STORE_H: 13,
  GATE: 14,
  NORM_QUANT: 15,
} as const;

/** Loads `tokens` vectors of k int8 values from the `xin` stream into the int8 buffer. */
export interface LoadX {
  readonly op: "loadX";
  readonly k: number;
  readonly tokens: number;
}

/**
 * Runs one matmul on the engine: its tiles' descriptors go to the engine, the int8 buffer feeds
 * every tile the whole input (tokens × steps x beats), results land in the result buffer (token t,
 * row group g at t · groups + g).
 */
export interface Matmul {
  readonly op: "matmul";
  readonly tiles: readonly Tile[];
  readonly steps: number;
  readonly tokens: number;
  readonly groupsPerTile: number;
  /** Row groups of the whole matmul, and of its last tile. */
  readonly groups: number;
  readonly lastGroups: number;
}

/** Streams n int32 results per token, row by row, out of the result buffer on `out`. */
export interface StoreY {
  readonly op: "storeY";
  readonly n: number;
  readonly tokens: number;
  readonly groups: number;
}

/**
 * A vector instruction over the A buffer: `tokens` vectors of n A values, vector t at
 * base + t · stride. load: from the `ain` stream; store: to `out` (`out_last` per vector); rope:
 * RoPE in place, vector t at position pos + t (n = heads · headDim); kvWrite: the KV writer
 * quantizes and stores vector t (k then v: n = 2 · kvHeads · headDim) at position pos + t of the
 * layer whose (kv head 0, K) region is at byte `addr` of the KV port.
 */
export interface VectorOp {
  readonly op: "loadA" | "storeA" | "rope" | "kvWrite";
  readonly n: number;
  readonly tokens: number;
  readonly stride: number;
  readonly base: number;
  /** rope, kvWrite: the first vector's position. */
  readonly pos?: number;
  /** kvWrite: the layer's address in the KV cache. */
  readonly addr?: number;
}

/**
 * Attention of `tokens` tokens at positions pos .. pos + tokens − 1 (token t over cache positions
 * 0..pos + t: the KV writes come first): per token and kv head the KV reader copies the rows into
 * the row buffers, then each query head of the group is one job of the attention core. q of token t
 * is heads · headDim A values at qBase + t · qStride, its output goes to outBase + t · outStride.
 */
export interface Attention {
  readonly op: "attention";
  readonly tokens: number;
  readonly pos: number;
  readonly qBase: number;
  readonly qStride: number;
  readonly outBase: number;
  readonly outStride: number;
  /** The layer's (kv head 0, K) region address on the KV port. */
  readonly addr: number;
}

/** Sets token t's activation scale (packScale's 24-bit word), what the quantizer will write. */
export interface SetScale {
  readonly op: "setScale";
  readonly token: number;
  readonly scale: number;
}

/**
 * scaleOut: the result buffer's n rows of each token (row groups a token: `groups`) times the
 * token's scale into the vector buffer at base + t · stride. residual: h (the residual buffer at
 * hBase + t · hStride) += the vector buffer's n values at base + t · stride. loadH / storeH: the
 * residual buffer from `ain` / to `out`.
 */
export interface ScaleOut {
  readonly op: "scaleOut";
  /** Values written a token: the rows, or with `split` the gate rows (half of them). */
  readonly n: number;
  readonly tokens: number;
  readonly stride: number;
  readonly base: number;
  readonly groups: number;
  /**
   * A fused gate|up matmul (rows g0, u0, g1, u1, …): even rows to the vector buffer as above, odd
   * rows to the up buffer at uBase + t · uStride.
   */
  readonly split?: { readonly uStride: number; readonly uBase: number };
}

/**
 * act(g)·u over `tokens` vectors of n: g in the vector buffer (base + t · stride, overwritten by
 * the product), u in the up buffer (uBase + t · uStride).
 */
export interface GateOp {
  readonly op: "gate";
  readonly n: number;
  readonly tokens: number;
  readonly stride: number;
  readonly base: number;
  readonly uStride: number;
  readonly uBase: number;
}

export interface ResidualOp {
  readonly op: "residual" | "loadH" | "storeH";
  readonly n: number;
  readonly tokens: number;
  /** residual: the o vectors in the vector buffer. */
  readonly stride?: number;
  readonly base?: number;
  readonly hStride: number;
  readonly hBase: number;
}

export type BlockInstruction = LoadX | Matmul | StoreY | VectorOp | Attention | SetScale | ScaleOut | ResidualOp | GateOp | NormQuantOp;

/**
 * RMSNorm (or bypass) and the activation quantizer over `tokens` vectors of d A values from the
 * vector buffer (base + t · stride) or the residual buffer (hBase + t · hStride), with the norm
 * instance `instance` (src/units/decoder/norm-quant.ts normQuantInstances): int8 values into the
 * int8 buffer (as a load), token t's scale into its scale register; the norm weights (d words
 * {exponent, mantissa}) arrive on `nw` once per token.
 */
export interface NormQuantOp {
  readonly op: "normQuant";
  readonly d: number;
  readonly tokens: number;
  readonly instance: number;
  readonly from: "vector" | "residual";
  readonly stride: number;
  readonly base: number;
}

const VECTOR_OPCODES = { loadA: BLOCK_OPCODES.LOAD_A, storeA: BLOCK_OPCODES.STORE_A, rope: BLOCK_OPCODES.ROPE, kvWrite: BLOCK_OPCODES.KV_WRITE } as const;

function operand(what: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v < 2 ** OPERAND_BITS)) {
    throw new UserError(`block program: ${what} = ${v} does not fit the sequencer's ${OPERAND_BITS}-bit operands`);
  }
  return v;
}

function address(v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) throw new UserError(`block program: address ${v} does not fit 32 bits`);
  return v;
}

function rowGroups(v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 15)) throw new UserError(`block program: ${v} row groups do not fit 15 bits`);
  return v;
}

function item(words: readonly number[]): bigint {
  let v = 0n;
  words.forEach((w, i) => (v |= BigInt(w >>> 0) << BigInt(32 * i)));
  return v;
}

/** The matmul instruction of a plan's matmul (its tiles run in the plan's order). */
export function matmulInstruction(geo: EngineGeometry, tiles: readonly Tile[], tokens: number): Matmul {
  const first = tiles[0]!;
  const last = tiles[tiles.length - 1]!;
  const groups = tiles.reduce((n, t) => n + t.groups, 0);
  if (tiles.some((t) => t.matmul !== first.matmul || t.steps !== first.steps)) throw new Error("a matmul instruction takes the tiles of one matmul");
  if (tiles.slice(0, -1).some((t) => t.groups !== first.groups)) throw new Error("every tile but the last holds the same row groups");
  void geo;
  return { op: "matmul", tiles, steps: first.steps, tokens, groupsPerTile: first.groups, groups, lastGroups: last.groups };
}

/** The program's items, as the `prog` stream carries them. */
export function encodeProgram(geo: EngineGeometry, program: readonly BlockInstruction[]): bigint[] {
  const items: bigint[] = [];
  for (const ins of program) {
    switch (ins.op) {
      case "loadX":
        items.push(item([BLOCK_OPCODES.LOAD_X, operand("k", ins.k), 0, operand("tokens", ins.tokens)]));
        break;
      case "matmul": {
        items.push(
          item([
            BLOCK_OPCODES.MATMUL,
            operand("tiles", ins.tiles.length),
            operand("steps", ins.steps),
            operand("tokens", ins.tokens),
            operand("groups per tile", ins.groupsPerTile),
            operand("row groups", ins.groups),
            operand("last tile's groups", ins.lastGroups),
          ]),
        );
        const words = new Uint32Array(DESCRIPTOR_WORDS);
        for (const t of ins.tiles) {
          packDescriptor(geo, { addr: t.addr, beats: t.beats, words: t.words, steps: t.steps, groups: t.groups, tokens: ins.tokens, mode: t.mode, gsteps: t.gsteps }, words, 0);
          items.push(item(Array.from(words)));
        }
        break;
      }
      case "loadA":
      case "storeA":
      case "rope":
      case "kvWrite":
        items.push(
          item([
            VECTOR_OPCODES[ins.op],
            operand("n", ins.n),
            operand("tokens", ins.tokens),
            operand("stride", ins.stride),
            operand("base", ins.base),
            operand("position", ins.pos ?? 0),
            address(ins.addr ?? 0),
          ]),
        );
        break;
      case "setScale":
        items.push(item([BLOCK_OPCODES.SET_SCALE, operand("token", ins.token), address(ins.scale)]));
        break;
      case "scaleOut":
        items.push(
          item([
            BLOCK_OPCODES.SCALE_OUT,
            operand("n", ins.n),
            operand("tokens", ins.tokens),
            operand("stride", ins.stride),
            operand("base", ins.base),
            operand("split stride", ins.split?.uStride ?? 0),
            operand("split base", ins.split?.uBase ?? 0),
            // word 7: rows a token (bits 15..0), row groups a token (30..16), split (31)
            operand("rows a token", ins.split ? 2 * ins.n : ins.n) + rowGroups(ins.groups) * 2 ** 16 + (ins.split ? 2 ** 31 : 0),
          ]),
        );
        break;
      case "normQuant": {
        const h = ins.from === "residual";
        items.push(
          item([
            BLOCK_OPCODES.NORM_QUANT,
            operand("d", ins.d),
            operand("tokens", ins.tokens),
            h ? 0 : operand("stride", ins.stride),
            h ? 0 : operand("base", ins.base),
            h ? operand("residual stride", ins.stride) : 0,
            h ? operand("residual base", ins.base) : 0,
            // word 7: the instance (bits 7..0), the residual buffer as the source (bit 8)
            (ins.instance & 0xff) + (h ? 256 : 0),
          ]),
        );
        break;
      }
      case "gate":
        items.push(
          item([
            BLOCK_OPCODES.GATE,
            operand("n", ins.n),
            operand("tokens", ins.tokens),
            operand("stride", ins.stride),
            operand("base", ins.base),
            operand("up stride", ins.uStride),
            operand("up base", ins.uBase),
          ]),
        );
        break;
      case "residual":
      case "loadH":
      case "storeH":
        items.push(
          item([
            ins.op === "residual" ? BLOCK_OPCODES.RESIDUAL : ins.op === "loadH" ? BLOCK_OPCODES.LOAD_H : BLOCK_OPCODES.STORE_H,
            operand("n", ins.n),
            operand("tokens", ins.tokens),
            operand("stride", ins.stride ?? 0),
            operand("base", ins.base ?? 0),
            operand("residual stride", ins.hStride),
            operand("residual base", ins.hBase),
          ]),
        );
        break;
      case "attention":
        items.push(
          item([
            BLOCK_OPCODES.ATTENTION,
            operand("tokens", ins.tokens),
            operand("q stride", ins.qStride),
            operand("q base", ins.qBase),
            operand("output base", ins.outBase),
            operand("position", ins.pos),
            address(ins.addr),
            operand("output stride", ins.outStride),
          ]),
        );
        break;
      case "storeY":
        items.push(item([BLOCK_OPCODES.STORE_Y, operand("n", ins.n), operand("tokens", ins.tokens), operand("row groups", ins.groups)]));
        break;
    }
  }
  return items;
}

/** Where each descriptor field sits in a descriptor item: word i for field i. */
export function descriptorItemLayout(): { name: string; lsb: number }[] {
  if (DESCRIPTOR_FIELDS.length > PROGRAM_ITEM_WORDS) throw new Error("a descriptor needs more words than a program item has");
  return DESCRIPTOR_FIELDS.map((f, i) => ({ name: f.name, lsb: 32 * i }));
}

/** Where a block program keeps its vectors in the A buffer: a region per kind, one vector a token. */
export interface VectorRegion {
  readonly base: number;
  readonly stride: number;
}

export interface BlockVectorLayout {
  /** q | k | v after the fused matmul's scale-out (hidden + 2·kvHeads·headDim a token). */
  readonly qkv: VectorRegion;
  /** The attention output (hidden a token). */
  readonly attention: VectorRegion;
  /** A values the layout needs. */
  readonly size: number;
}

export function blockVectorLayout(shape: BlockShape, tokens: number): BlockVectorLayout {
  const qkvWidth = shape.hidden + 2 * shape.kvHeads * shape.headDim;
  const qkv = { base: 0, stride: qkvWidth };
  const attention = { base: tokens * qkvWidth, stride: shape.hidden };
  return { qkv, attention, size: attention.base + tokens * shape.hidden };
}

/**
 * The attention half of a block as instructions (src/ref/spec/block.ts attentionSteps): RoPE on
 * q and on k in place, the KV writes of every token, then attention into the attention region.
 */
export function attentionProgram(
  shape: BlockShape,
  layout: BlockVectorLayout,
  run: { readonly position: number; readonly tokens: number; readonly kvAddr: number },
): BlockInstruction[] {
  const { hidden, kvHeads, headDim } = shape;
  const kvDim = kvHeads * headDim;
  const { position: pos, tokens, kvAddr } = run;
  const { qkv, attention } = layout;
  return [
    { op: "rope", n: hidden, tokens, stride: qkv.stride, base: qkv.base, pos },
    { op: "rope", n: kvDim, tokens, stride: qkv.stride, base: qkv.base + hidden, pos },
    { op: "kvWrite", n: 2 * kvDim, tokens, stride: qkv.stride, base: qkv.base + hidden, pos, addr: kvAddr },
    { op: "attention", tokens, pos, qBase: qkv.base, qStride: qkv.stride, outBase: attention.base, outStride: attention.stride, addr: kvAddr },
  ];
}

/** The norm-quant instance of a length and mode (src/units/decoder/norm-quant.ts normQuantInstances). */
function normInstance(shape: BlockShape, d: number, norm: boolean): number {
  const i = normQuantInstances(shape).findIndex((x) => x.d === d && x.norm === norm);
  if (i < 0) throw new Error(`the block has no norm-quant instance of length ${d} (${norm ? "norm" : "bypass"})`);
  return i;
}

/**
 * A whole decoder block as one program (src/ref/spec/block.ts blockSpec, step for step): the
 * residual stream in from `ain`, the four fused matmuls of `plan` (q|k|v, o, gate|up, down: their
 * tiles at their addresses on the weight port), every non-matmul unit, the KV cache written and
 * read on the KV port, and the new residual stream out on `out`. The norm weights arrive on `nw`
 * in the order the norms run: attn_norm, [attn_sub_norm], ffn_norm, [ffn_sub_norm], each once per
 * token.
 */
export function blockProgram(
  geo: EngineGeometry,
  shape: BlockShape,
  plan: TilePlan,
  run: { readonly position: number; readonly tokens: number; readonly kvAddr: number },
): BlockInstruction[] {
  const { hidden, ffn } = shape;
  const { tokens } = run;
  if (plan.matmuls.length !== 4 || plan.tokens !== tokens) throw new Error("a block's plan holds its four matmuls (q|k|v, o, gate|up, down) for the run's tokens");
  const layout = blockVectorLayout(shape, tokens);
  const matmul = (i: number): Matmul => {
    const m = plan.matmuls[i]!;
    return matmulInstruction(geo, plan.tiles.slice(m.firstTile, m.firstTile + m.tileCount), tokens);
  };
  const [qkv, o, gateUp, down] = [0, 1, 2, 3].map(matmul) as [Matmul, Matmul, Matmul, Matmul];
  const sub = shape.subNorms;
  const h = { hStride: hidden, hBase: 0 };
  return [
    { op: "loadH", n: hidden, tokens, ...h },
    // attention
    { op: "normQuant", d: hidden, tokens, instance: normInstance(shape, hidden, true), from: "residual", stride: hidden, base: 0 },
    qkv,
    { op: "scaleOut", n: layout.qkv.stride, tokens, stride: layout.qkv.stride, base: layout.qkv.base, groups: qkv.groups },
    ...attentionProgram(shape, layout, run),
    { op: "normQuant", d: hidden, tokens, instance: normInstance(shape, hidden, sub), from: "vector", ...layout.attention },
    o,
    { op: "scaleOut", n: hidden, tokens, stride: hidden, base: 0, groups: o.groups },
    { op: "residual", n: hidden, tokens, stride: hidden, base: 0, ...h },
    // feed-forward
    { op: "normQuant", d: hidden, tokens, instance: normInstance(shape, hidden, true), from: "residual", stride: hidden, base: 0 },
    gateUp,
    { op: "scaleOut", n: ffn, tokens, stride: ffn, base: 0, groups: gateUp.groups, split: { uStride: ffn, uBase: 0 } },
    { op: "gate", n: ffn, tokens, stride: ffn, base: 0, uStride: ffn, uBase: 0 },
    { op: "normQuant", d: ffn, tokens, instance: normInstance(shape, ffn, sub), from: "vector", stride: ffn, base: 0 },
    down,
    { op: "scaleOut", n: hidden, tokens, stride: hidden, base: 0, groups: down.groups },
    { op: "residual", n: hidden, tokens, stride: hidden, base: 0, ...h },
    { op: "storeH", n: hidden, tokens, ...h },
  ];
}
