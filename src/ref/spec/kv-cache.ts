import { UserError } from "../../util/errors.js";
import { leadingOne, packScale, type Scale, shiftRound, shiftRoundBig, toFixed, unpackScale } from "./fixed.js";

/**
 * The KV cache's format (docs/numerics/kv-cache.md): per (token, layer, kv head, kind) one row of
 * headDim int8 values and one scale S = m·2^e, laid out in blocks of P = beatBytes/4 positions (a
 * scale beat, then P rows of rowBytes bytes) so that one head's rows over a context are one run of
 * beats. These functions are the bit-exact reference of the writer and reader RTL.
 */

/** A row of the cache: headDim int8 values and the scale they are multiplied by. */
export interface KvRow {
  readonly q: readonly number[];
  readonly scale: Scale;
}

/** 1/127 with 24 fraction bits (132104): a/127 as a product, not a division. */
export const INV127 = toFixed(1 / 127, 24, 32);

/**
 * Quantizes one head vector of A values (int32) to int8 by its absmax, rounding half up
 * (docs/numerics/kv-cache.md, steps 1–5). Widths: |x| ≤ 2^31, R < 2^24, so x·R < 2^55 (BigInt);
 * at·INV127 < 2^17·2^18 = 2^35 (Number).
 */
export function quantizeKv(x: readonly number[]): KvRow {
  let a = 0;
  for (const v of x) a = Math.max(a, Math.abs(v));
  if (a === 0) return { q: x.map(() => 0), scale: { m: 0, e: 0 } };
  const L = leadingOne(BigInt(a));
  const an = a * 2 ** (31 - L); // 2^31 ≤ an < 2^32
  const R = (127n << 48n) / BigInt(an); // 127·2^16 < R ≤ 127·2^17
  const q = x.map((v) => Number(shiftRoundBig(BigInt(v) * R, L + 17)));
  const at = Math.floor(an / 2 ** 15); // 2^16 ≤ at < 2^17
  const p = at * INV127;
  const m0 = shiftRound(p, 18);
  const scale = m0 < 2 ** 16 ? { m: m0, e: L - 38 } : { m: shiftRound(p, 19), e: L - 37 };
  return { q, scale };
}

/** A row's values as reals (q·m·2^e). */
export function dequantizeKv(row: KvRow): number[] {
  const s = row.scale.m * 2 ** row.scale.e;
  return row.q.map((v) => v * s);
}

/** Where the cache's rows go: the layout's figures for a shape and a memory beat. */
export interface KvLayout {
  readonly headDim: number;
  readonly kvHeads: number;
  readonly layers: number;
  readonly maxContext: number;
  readonly beatBytes: number;
  /** Bytes a row takes: max(4, nextPow2(headDim)), so no row straddles a beat. */
  readonly rowBytes: number;
  /** Positions per block (one scale beat holds their scale words). */
  readonly P: number;
  readonly blockBytes: number;
  readonly regionBytes: number;
  /** Bytes of the whole cache. */
  readonly totalBytes: number;
}

export function kvLayout(s: { headDim: number; kvHeads: number; layers: number; maxContext: number; beatBytes: number }): KvLayout {
  const { headDim, kvHeads, layers, maxContext, beatBytes } = s;
  if (!(Number.isInteger(beatBytes) && beatBytes >= 16 && (beatBytes & (beatBytes - 1)) === 0)) {
    throw new UserError(`KV cache: memory beat of ${beatBytes} bytes; expected a power of two ≥ 16`);
  }
  if (!(Number.isInteger(headDim) && headDim >= 1 && headDim <= beatBytes)) {
    throw new UserError(`KV cache: head dimension ${headDim}; expected 1..${beatBytes} (a row must fit one ${beatBytes}-byte memory beat)`);
  }
  for (const [k, v] of [["kvHeads", kvHeads], ["layers", layers], ["maxContext", maxContext]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new UserError(`KV cache: ${k} ${v}; expected a whole number ≥ 1`);
  }
  const rowBytes = Math.max(4, 2 ** Math.ceil(Math.log2(headDim)));
  const P = beatBytes / 4;
  const blockBytes = beatBytes + P * rowBytes;
  const regionBytes = Math.ceil(maxContext / P) * blockBytes;
  return { headDim, kvHeads, layers, maxContext, beatBytes, rowBytes, P, blockBytes, regionBytes, totalBytes: regionBytes * 2 * kvHeads * layers };
}

export type KvKind = 0 | 1; // K, V

/** Byte offset of a (layer, kvHead, kind)'s region from the cache's base. */
export function regionOffset(l: KvLayout, layer: number, kvHead: number, kind: KvKind): number {
  return ((layer * l.kvHeads + kvHead) * 2 + kind) * l.regionBytes;
}

/** Byte offsets of a position's scale word and row inside its region. */
export function positionOffsets(l: KvLayout, pos: number): { scale: number; row: number } {
  const block = Math.floor(pos / l.P) * l.blockBytes;
  const i = pos % l.P;
  return { scale: block + 4 * i, row: block + l.beatBytes + i * l.rowBytes };
}

/** Beats a reader takes for n positions of one region: whole blocks, then the last block's scale beat and rows. */
export function regionBeats(l: KvLayout, n: number): number {
  const full = Math.floor(n / l.P);
  const rest = n % l.P;
  const blockBeats = l.blockBytes / l.beatBytes;
  return full * blockBeats + (rest > 0 ? 1 + Math.ceil((rest * l.rowBytes) / l.beatBytes) : 0);
}

/** Writes one row and its scale word into a memory image (bytes), at a region's address. */
export function storeRow(image: Uint8Array, l: KvLayout, regionAddr: number, pos: number, row: KvRow): void {
  const o = positionOffsets(l, pos);
  const w = packScale(row.scale);
  for (let b = 0; b < 4; b++) image[regionAddr + o.scale + b] = (w >>> (8 * b)) & 0xff;
  for (let j = 0; j < l.rowBytes; j++) image[regionAddr + o.row + j] = j < l.headDim ? row.q[j]! & 0xff : 0;
}

/** Reads a row back from a memory image. */
export function loadRow(image: Uint8Array, l: KvLayout, regionAddr: number, pos: number): KvRow {
  const o = positionOffsets(l, pos);
  let w = 0;
  for (let b = 0; b < 4; b++) w += image[regionAddr + o.scale + b]! * 2 ** (8 * b);
  const q: number[] = [];
  for (let j = 0; j < l.headDim; j++) {
    const byte = image[regionAddr + o.row + j]!;
    q.push(byte >= 128 ? byte - 256 : byte);
  }
  return { q, scale: unpackScale(w) };
}

/**
 * What the writer does for one token: quantizes each kv head's k and v (x = kvHeads·headDim k
 * values, then as many v values) and stores the rows at `pos` of the layer whose (kvHead 0, K)
 * region starts at `layerAddr`.
 */
export function writeToken(image: Uint8Array, l: KvLayout, layerAddr: number, pos: number, x: readonly number[]): void {
  const n = l.kvHeads * l.headDim;
  if (x.length !== 2 * n) throw new RangeError(`KV writer: ${x.length} values, expected ${2 * n}`);
  for (let kind = 0; kind < 2; kind++) {
    for (let h = 0; h < l.kvHeads; h++) {
      const start = kind * n + h * l.headDim;
      const row = quantizeKv(x.slice(start, start + l.headDim));
      storeRow(image, l, layerAddr + (h * 2 + kind) * l.regionBytes, pos, row);
    }
  }
}

/** A reader stream item's data: q_j in bits 8j+7..8j, packScale(S) above the 8·headDim bits. */
export function rowWord(row: KvRow): bigint {
  let v = BigInt(packScale(row.scale)) << BigInt(8 * row.q.length);
  row.q.forEach((q, j) => (v |= BigInt(q & 0xff) << BigInt(8 * j)));
  return v;
}

/** What the reader outputs for one command: the K rows of positions 0..n−1, then the V rows. */
export function readHead(image: Uint8Array, l: KvLayout, kAddr: number, n: number): { k: KvRow[]; v: KvRow[] } {
  const rows = (addr: number) => Array.from({ length: n }, (_, u) => loadRow(image, l, addr, u));
  return { k: rows(kAddr), v: rows(kAddr + l.regionBytes) };
}
