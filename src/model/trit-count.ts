/**
 * Counting the trits of packed ternary data without unpacking it: inspect needs only how many
 * weights are -1, 0 and +1 and how the scales are laid out, and decoding 2 billion weights into an
 * Int8Array just to count them costs more than reading the file.
 *
 * Every lookup table here maps two packed bytes (one 16-bit read) to their trit counts packed into
 * one integer: minus in bits 0–9, plus in bits 10–19 and (2-bit codes) how many codes are the
 * invalid 3 in bits 20–29. Counting is order-independent, so one table serves every layout that
 * stores a trit as the 2-bit code trit + 1 (TQ2_0, I2_S, Hugging Face packed U8), whatever the bit
 * positions, and the byte order of the 16-bit read does not matter. Ten-bit fields hold up to 1023,
 * so sums are unpacked at least every 127 lookups (254 bytes, 1016 codes).
 */
import { fp16Table32 } from "./half.js";
import { TQ1_BLOCK_BYTES, TQ2_BLOCK_BYTES, type TqTypeName } from "./tq-codec.js";

const FIELD = 10;
const MASK = (1 << FIELD) - 1;
const PLUS_SHIFT = FIELD;
const BAD_SHIFT = 2 * FIELD;
/** 16-bit lookups between unpacks, so no field passes 1023 (8 codes per lookup, 5 digits per byte). */
const LOOKUPS_PER_SUM = 120;

/** Running totals a counting call adds to. */
export interface TritTally {
  minus: number;
  plus: number;
}

/** Packed counts of one byte, for a digit decoder. */
function byteTable(trit: (byte: number, digit: number) => number, digits: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    let v = 0;
    for (let d = 0; d < digits; d++) {
      const x = trit(b, d);
      if (x === -1) v += 1;
      else if (x === 1) v += 1 << PLUS_SHIFT;
      else if (x !== 0) v += 1 << BAD_SHIFT;
    }
    t[b] = v;
  }
  return t;
}

/** The same counts for every 16-bit value: the sum of its two bytes'. */
function pairTable(bytes: Uint32Array): Uint32Array {
  const t = new Uint32Array(65536);
  for (let v = 0; v < 65536; v++) t[v] = bytes[v & 0xff]! + bytes[v >>> 8]!;
  return t;
}

/** 2-bit codes 0, 1, 2 = -1, 0, +1; 3 is invalid (reported as the value 2). */
const CODE2_BYTE = byteTable((b, d) => ((b >> (2 * d)) & 3) - 1, 4);
/** TQ1_0 digit n of byte b: ((uint8)(b·3^n)·3 >> 8) − 1 (REFERENCE.md §4). */
const tq1Trit = (b: number, n: number): number => ((((b * 3 ** n) & 0xff) * 3) >> 8) - 1;
/** qs bytes hold five trits, qh bytes four (their fifth digit is padding). */
const TQ1_BYTE5 = byteTable(tq1Trit, 5);
const TQ1_BYTE4 = byteTable(tq1Trit, 4);

let code2Pairs: Uint32Array | undefined;
let tq1Pairs5: Uint32Array | undefined;
let tq1Pairs4: Uint32Array | undefined;
const code2Table = (): Uint32Array => (code2Pairs ??= pairTable(CODE2_BYTE));

/** A 16-bit view of src; src must start at an even address within its buffer. */
function u16View(src: Uint8Array, bytes: number): Uint16Array {
  if (src.byteOffset % 2 !== 0) throw new Error("trit counting needs a 2-byte-aligned buffer");
  return new Uint16Array(src.buffer, src.byteOffset, bytes >>> 1);
}

/** A chunk buffer the counters can view 16 bits at a time. */
export function alignedChunk(bytes: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(bytes + (bytes & 1)), 0, bytes);
}

/**
 * Counts the 2-bit codes of `length` bytes of src into tally. Returns the index of the first byte
 * holding the invalid code 3 (counting stops there), or -1.
 */
export function countCode2Bytes(src: Uint8Array, length: number, tally: TritTally): number {
  const pairs = code2Table();
  const words = u16View(src, length);
  const nWords = length >>> 1;
  let minus = 0;
  let plus = 0;
  for (let w = 0; w < nWords; w += LOOKUPS_PER_SUM) {
    const end = Math.min(nWords, w + LOOKUPS_PER_SUM);
    let acc = 0;
    for (let i = w; i < end; i++) acc += pairs[words[i]!]!;
    if (acc >>> BAD_SHIFT) {
      for (let i = 2 * w; i < 2 * end; i++) if (CODE2_BYTE[src[i]!]! >>> BAD_SHIFT) return i;
    }
    minus += acc & MASK;
    plus += (acc >>> PLUS_SHIFT) & MASK;
  }
  if (length & 1) {
    const v = CODE2_BYTE[src[length - 1]!]!;
    if (v >>> BAD_SHIFT) return length - 1;
    minus += v & MASK;
    plus += (v >>> PLUS_SHIFT) & MASK;
  }
  tally.minus += minus;
  tally.plus += plus;
  return -1;
}

/** Where counted TQ blocks' scales go: one fp16 d and one "holds a non-zero trit" flag per block. */
export interface BlockScaleTarget {
  readonly blockScales: Float32Array;
  readonly blockNonzero: Uint8Array;
}

/**
 * Counts `nBlocks` TQ1_0 / TQ2_0 blocks from src (byte 0 onward, 2-byte aligned) into tally and
 * records their scales from block `firstBlock` on. Returns the index (relative to this call) of the
 * first TQ2_0 block holding the invalid code 3 (nothing of it is recorded), or -1; the same
 * answers as decodeTqBlocks.
 */
export function countTqBlocks(
  type: TqTypeName,
  src: Uint8Array,
  nBlocks: number,
  tally: TritTally,
  target: BlockScaleTarget,
  firstBlock: number,
): number {
  return type === "TQ1_0" ? countTq1(src, nBlocks, tally, target, firstBlock) : countTq2(src, nBlocks, tally, target, firstBlock);
}

function countTq2(src: Uint8Array, nBlocks: number, tally: TritTally, target: BlockScaleTarget, firstBlock: number): number {
  const pairs = code2Table();
  const half = fp16Table32();
  const words = u16View(src, nBlocks * TQ2_BLOCK_BYTES);
  const { blockScales, blockNonzero } = target;
  const wordsPerBlock = TQ2_BLOCK_BYTES / 2; // 33: qs[64] is 32 words, then d
  let minus = 0;
  let plus = 0;
  let bad = -1;
  for (let blk = 0, w = 0; blk < nBlocks; blk++, w += wordsPerBlock) {
    let acc = 0;
    for (let i = w; i < w + 32; i++) acc += pairs[words[i]!]!;
    if (acc >>> BAD_SHIFT) {
      bad = blk;
      break;
    }
    const m = acc & MASK;
    const p = acc >>> PLUS_SHIFT;
    minus += m;
    plus += p;
    blockScales[firstBlock + blk] = half[src[2 * w + 64]! | (src[2 * w + 65]! << 8)]!;
    blockNonzero[firstBlock + blk] = m + p > 0 ? 1 : 0;
  }
  tally.minus += minus;
  tally.plus += plus;
  return bad;
}

function countTq1(src: Uint8Array, nBlocks: number, tally: TritTally, target: BlockScaleTarget, firstBlock: number): number {
  const pairs5 = (tq1Pairs5 ??= pairTable(TQ1_BYTE5));
  const pairs4 = (tq1Pairs4 ??= pairTable(TQ1_BYTE4));
  const half = fp16Table32();
  const words = u16View(src, nBlocks * TQ1_BLOCK_BYTES);
  const { blockScales, blockNonzero } = target;
  const wordsPerBlock = TQ1_BLOCK_BYTES / 2; // 27: qs[48] is 24 words, qh[4] 2, then d
  let minus = 0;
  let plus = 0;
  for (let blk = 0, w = 0; blk < nBlocks; blk++, w += wordsPerBlock) {
    let acc = pairs4[words[w + 24]!]! + pairs4[words[w + 25]!]!;
    for (let i = w; i < w + 24; i++) acc += pairs5[words[i]!]!;
    const m = acc & MASK;
    const p = acc >>> PLUS_SHIFT;
    minus += m;
    plus += p;
    blockScales[firstBlock + blk] = half[src[2 * w + 52]! | (src[2 * w + 53]! << 8)]!;
    blockNonzero[firstBlock + blk] = m + p > 0 ? 1 : 0;
  }
  tally.minus += minus;
  tally.plus += plus;
  return -1;
}
