/**
 * llama.cpp's ternary block formats TQ1_0 and TQ2_0 (REFERENCE.md §4), decoded and encoded with
 * per-byte tables so a multi-GB model decodes at hundreds of millions of weights per second.
 *
 * Both formats pack 256 weights per block followed by an fp16 scale d; weight = trit · d.
 * Blocks run over the row-major flattened tensor, so with rows a multiple of 256 long a block never
 * straddles two rows and trit i of block b is element b·256 + i.
 */
import { UserError } from "../util/errors.js";
import type { TernaryScale } from "./types.js";
import { f32ToFp16, fp16Table32 } from "./half.js";
import type { TernaryTypeName } from "./ggml-types.js";

export const TQ_BLOCK_WEIGHTS = 256;
export const TQ1_BLOCK_BYTES = 54;
export const TQ2_BLOCK_BYTES = 66;

// ---- TQ2_0: qs[64] (four 2-bit codes per byte) then fp16 d --------------------------------------

/** TQ2_TRITS[b·4 + m] = trit in bits 2m..2m+1 of byte b (code − 1). */
const TQ2_TRITS = new Int8Array(256 * 4);
/** Byte holds a non-zero trit / holds the invalid code 3. */
const TQ2_NONZERO = new Uint8Array(256);
const TQ2_INVALID = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  for (let m = 0; m < 4; m++) {
    const code = (b >> (2 * m)) & 3;
    TQ2_TRITS[b * 4 + m] = code - 1;
    if (code !== 1) TQ2_NONZERO[b] = 1;
    if (code === 3) TQ2_INVALID[b] = 1;
  }
}

// ---- TQ1_0: qs[48] (five trits per byte as a base-3 fraction), qh[4] (four trits), fp16 d -------

/** TQ1_TRITS[b·5 + n] = trit n of byte b: ((uint8)(b·3^n)·3 >> 8) − 1. */
const TQ1_TRITS = new Int8Array(256 * 5);
const TQ1_NONZERO5 = new Uint8Array(256);
/** qh bytes carry only four trits; the fifth digit is padding. */
const TQ1_NONZERO4 = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let pow = 1;
  for (let n = 0; n < 5; n++) {
    const t = ((((b * pow) & 0xff) * 3) >> 8) - 1;
    TQ1_TRITS[b * 5 + n] = t;
    if (t !== 0) {
      TQ1_NONZERO5[b] = 1;
      if (n < 4) TQ1_NONZERO4[b] = 1;
    }
    pow *= 3;
  }
}

/**
 * Byte for a base-3 value v (0..242) of five digits (trit + 1, first trit most significant):
 * ceil(v·256/243), the fixed-point fraction the decoder above reads back digit by digit.
 */
const TQ1_ENCODE = new Uint8Array(243);
for (let v = 0; v < 243; v++) TQ1_ENCODE[v] = Math.floor((v * 256 + 242) / 243);

/** Byte packing five trits (trits[0] most significant), exported for exhaustive tests. */
export function packTq1Byte(t0: number, t1: number, t2: number, t3: number, t4: number): number {
  return TQ1_ENCODE[((((t0 + 1) * 3 + t1 + 1) * 3 + t2 + 1) * 3 + t3 + 1) * 3 + t4 + 1]!;
}

/** Trit n (0..4) of a TQ1_0 byte. */
export function unpackTq1Trit(byte: number, n: number): number {
  return TQ1_TRITS[byte * 5 + n]!;
}

export type TqTypeName = TernaryTypeName;

export function tqBlockBytes(type: TqTypeName): number {
  return type === "TQ1_0" ? TQ1_BLOCK_BYTES : TQ2_BLOCK_BYTES;
}

/** Where decoded blocks go: trits at element offset, one scale and one non-zero flag per block. */
export interface DecodeTarget {
  readonly trits: Int8Array;
  readonly blockScales: Float32Array;
  readonly blockNonzero: Uint8Array;
}

/**
 * Decodes `nBlocks` consecutive blocks from src (starting at byte 0) into target, block index
 * `firstBlock` onward. Returns the index (relative to this call) of the first block holding the
 * invalid TQ2_0 code 3, or -1.
 */
export function decodeTqBlocks(
  type: TqTypeName,
  src: Uint8Array,
  nBlocks: number,
  target: DecodeTarget,
  firstBlock: number,
): number {
  return type === "TQ1_0"
    ? decodeTq1(src, nBlocks, target, firstBlock)
    : decodeTq2(src, nBlocks, target, firstBlock);
}

function decodeTq2(src: Uint8Array, nBlocks: number, target: DecodeTarget, firstBlock: number): number {
  const { trits, blockScales, blockNonzero } = target;
  const half = fp16Table32();
  for (let blk = 0; blk < nBlocks; blk++) {
    const o = blk * TQ2_BLOCK_BYTES;
    const out = (firstBlock + blk) * TQ_BLOCK_WEIGHTS;
    let nz = 0;
    let bad = 0;
    // qs[g·32 + j] holds weights g·128 + m·32 + j for m = 0..3.
    for (let g = 0; g < 2; g++) {
      const qs = o + g * 32;
      const base = out + g * 128;
      for (let j = 0; j < 32; j++) {
        const b = src[qs + j]!;
        const tb = b * 4;
        trits[base + j] = TQ2_TRITS[tb]!;
        trits[base + 32 + j] = TQ2_TRITS[tb + 1]!;
        trits[base + 64 + j] = TQ2_TRITS[tb + 2]!;
        trits[base + 96 + j] = TQ2_TRITS[tb + 3]!;
        nz |= TQ2_NONZERO[b]!;
        bad |= TQ2_INVALID[b]!;
      }
    }
    if (bad) return blk;
    blockScales[firstBlock + blk] = half[src[o + 64]! | (src[o + 65]! << 8)]!;
    blockNonzero[firstBlock + blk] = nz;
  }
  return -1;
}

function decodeTq1(src: Uint8Array, nBlocks: number, target: DecodeTarget, firstBlock: number): number {
  const { trits, blockScales, blockNonzero } = target;
  const half = fp16Table32();
  for (let blk = 0; blk < nBlocks; blk++) {
    const o = blk * TQ1_BLOCK_BYTES;
    const out = (firstBlock + blk) * TQ_BLOCK_WEIGHTS;
    let nz = 0;
    // qs[0..31]: trit n of byte j is weight n·32 + j.
    for (let j = 0; j < 32; j++) {
      const b = src[o + j]!;
      const tb = b * 5;
      trits[out + j] = TQ1_TRITS[tb]!;
      trits[out + 32 + j] = TQ1_TRITS[tb + 1]!;
      trits[out + 64 + j] = TQ1_TRITS[tb + 2]!;
      trits[out + 96 + j] = TQ1_TRITS[tb + 3]!;
      trits[out + 128 + j] = TQ1_TRITS[tb + 4]!;
      nz |= TQ1_NONZERO5[b]!;
    }
    // qs[32..47]: trit n of byte 32 + j is weight 160 + n·16 + j.
    for (let j = 0; j < 16; j++) {
      const b = src[o + 32 + j]!;
      const tb = b * 5;
      const base = out + 160 + j;
      trits[base] = TQ1_TRITS[tb]!;
      trits[base + 16] = TQ1_TRITS[tb + 1]!;
      trits[base + 32] = TQ1_TRITS[tb + 2]!;
      trits[base + 48] = TQ1_TRITS[tb + 3]!;
      trits[base + 64] = TQ1_TRITS[tb + 4]!;
      nz |= TQ1_NONZERO5[b]!;
    }
    // qh[0..3]: trit n (0..3) of byte j is weight 240 + n·4 + j.
    for (let j = 0; j < 4; j++) {
      const b = src[o + 48 + j]!;
      const tb = b * 5;
      const base = out + 240 + j;
      trits[base] = TQ1_TRITS[tb]!;
      trits[base + 4] = TQ1_TRITS[tb + 1]!;
      trits[base + 8] = TQ1_TRITS[tb + 2]!;
      trits[base + 12] = TQ1_TRITS[tb + 3]!;
      nz |= TQ1_NONZERO4[b]!;
    }
    blockScales[firstBlock + blk] = half[src[o + 52]! | (src[o + 53]! << 8)]!;
    blockNonzero[firstBlock + blk] = nz;
  }
  return -1;
}

/**
 * The scale summary of a decoded tensor: uniform when every block with a non-zero trit stores the
 * same d (all-zero blocks are ignored: llama.cpp stores 0 there).
 */
export function summarizeScales(blockScales: Float32Array, blockNonzero: Uint8Array): TernaryScale {
  let common: number | undefined;
  let uniform = true;
  let largest = 0;
  for (let b = 0; b < blockScales.length; b++) {
    const d = blockScales[b]!;
    if (Math.abs(d) > Math.abs(largest)) largest = d;
    if (!blockNonzero[b]) continue;
    if (common === undefined) common = d;
    else if (d !== common) uniform = false;
  }
  const tensorScale = uniform ? (common ?? largest) : largest;
  return { blockScales, uniform, tensorScale };
}

/**
 * Encodes `nBlocks` blocks of trits starting at element `firstBlock`·256 into dst (from byte 0).
 * `scale` is either one scale per block (indexed by absolute block number) or a single tensor
 * scale, in which case blocks without a non-zero trit store d = 0 as llama.cpp's quantizer does.
 */
export function encodeTqBlocks(
  type: TqTypeName,
  trits: Int8Array,
  tritBase: number,
  nBlocks: number,
  scale: Float32Array | number,
  scaleBase: number,
  dst: Uint8Array,
  what: string,
): void {
  for (let blk = 0; blk < nBlocks; blk++) {
    const t = tritBase + blk * TQ_BLOCK_WEIGHTS;
    const nonzero = checkBlockTrits(trits, t, what);
    const d = typeof scale === "number" ? (nonzero ? scale : 0) : scale[scaleBase + blk]!;
    const h = f32ToFp16(d);
    if (type === "TQ1_0") {
      const o = blk * TQ1_BLOCK_BYTES;
      encodeTq1Block(trits, t, dst, o);
      dst[o + 52] = h & 0xff;
      dst[o + 53] = h >> 8;
    } else {
      const o = blk * TQ2_BLOCK_BYTES;
      encodeTq2Block(trits, t, dst, o);
      dst[o + 64] = h & 0xff;
      dst[o + 65] = h >> 8;
    }
  }
}

/** Throws unless the block's 256 values are trits; returns whether any is non-zero. */
function checkBlockTrits(trits: Int8Array, t: number, what: string): boolean {
  // Branch-free first pass (random trits defeat branch prediction): (1 − v) | (v + 1) is negative
  // exactly when v is not -1, 0 or +1.
  let any = 0;
  let outside = 0;
  for (let i = t; i < t + TQ_BLOCK_WEIGHTS; i++) {
    const v = trits[i]!;
    any |= v;
    outside |= (1 - v) | (v + 1);
  }
  if (outside >= 0) return any !== 0;
  let nonzero = false;
  for (let i = 0; i < TQ_BLOCK_WEIGHTS; i++) {
    const v = trits[t + i]!;
    if (v !== 0) {
      if (v !== 1 && v !== -1) throw new UserError(`${what}: element ${t + i} is ${v}, not a trit (-1, 0 or +1)`);
      nonzero = true;
    }
  }
  return nonzero;
}

function encodeTq2Block(trits: Int8Array, t: number, dst: Uint8Array, o: number): void {
  for (let g = 0; g < 2; g++) {
    for (let j = 0; j < 32; j++) {
      const i = t + g * 128 + j;
      dst[o + g * 32 + j] =
        (trits[i]! + 1) | ((trits[i + 32]! + 1) << 2) | ((trits[i + 64]! + 1) << 4) | ((trits[i + 96]! + 1) << 6);
    }
  }
}

function encodeTq1Block(trits: Int8Array, t: number, dst: Uint8Array, o: number): void {
  for (let j = 0; j < 32; j++) {
    const i = t + j;
    dst[o + j] = packTq1Byte(trits[i]!, trits[i + 32]!, trits[i + 64]!, trits[i + 96]!, trits[i + 128]!);
  }
  for (let j = 0; j < 16; j++) {
    const i = t + 160 + j;
    dst[o + 32 + j] = packTq1Byte(trits[i]!, trits[i + 16]!, trits[i + 32]!, trits[i + 48]!, trits[i + 64]!);
  }
  // qh: four trits, shifted up one digit (fifth digit 0) exactly as llama.cpp packs them.
  for (let j = 0; j < 4; j++) {
    const i = t + 240 + j;
    dst[o + 48 + j] = packTq1Byte(trits[i]!, trits[i + 4]!, trits[i + 8]!, trits[i + 12]!, -1);
  }
}
