import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "./config.js";

/**
 * The weight layout the engine reads, defined once: the compiler writes memory images with it and
 * the simulator streams the same beats.
 *
 * Rows are cut into row groups of P (row r is lane r mod P of group ⌊r/P⌋); columns into steps of
 * T·G (table t of step s covers columns s·T·G + t·G .. + G-1). Bank p's word at address
 * (s - firstStep)·groups + g holds the T indices of row g·P + p at step s, table t in bits
 * [t·IB, (t+1)·IB). A weight beat is one address across all P banks, bank p in bits
 * [p·T·IB, (p+1)·T·IB). Rows past n and columns past k are padded with the all-zero index.
 */

/** Group indices of a matrix: index of (row r, step s, table t) at (r·steps + s)·T + t. */
export interface PackedIndices {
  readonly rows: number;
  readonly steps: number;
  readonly T: number;
  readonly data: Uint16Array;
}

export function encodeIndices(geo: EngineGeometry, m: TritMatrix): PackedIndices {
  const { G, T } = geo.cfg;
  const steps = Math.ceil(m.k / geo.stepActivations);
  const data = new Uint16Array(m.n * steps * T);
  const pad = geo.zeroIndex;
  // balanced-ternary value → index, for every group value: no encoding work per weight
  const half = (3 ** G - 1) / 2;
  const byValue = geo.indexByValue;
  for (let r = 0; r < m.n; r++) {
    const rowBase = r * m.k;
    for (let s = 0; s < steps; s++) {
      for (let t = 0; t < T; t++) {
        const col = s * geo.stepActivations + t * G;
        let idx = pad;
        if (col < m.k) {
          let v = 0;
          for (let i = 0; i < G; i++) v = v * 3 + (col + i < m.k ? m.trits[rowBase + col + i]! : 0);
          idx = byValue[v + half]!;
        }
        data[(r * steps + s) * T + t] = idx;
      }
    }
  }
  return { rows: m.n, steps, T, data };
}

/** Writes `bits` (≤ 32) of `value` at bit offset `pos` of a little-endian word array. */
export function putBits(words: Uint32Array, pos: number, bits: number, value: number): void {
  let done = 0;
  while (done < bits) {
    const bit = pos + done;
    const word = bit >>> 5;
    const shift = bit & 31;
    const take = Math.min(bits - done, 32 - shift);
    const mask = take === 32 ? 0xffffffff : (1 << take) - 1;
    words[word] = (words[word]! | (((value >>> done) & mask) << shift)) >>> 0;
    done += take;
  }
}

/** Reads `bits` (≤ 32) at bit offset `pos` of a little-endian word array, unsigned. */
export function getBits(words: Uint32Array, pos: number, bits: number): number {
  let value = 0;
  let done = 0;
  while (done < bits) {
    const bit = pos + done;
    const shift = bit & 31;
    const take = Math.min(bits - done, 32 - shift);
    const mask = take === 32 ? 0xffffffff : (1 << take) - 1;
    value = (value | (((words[bit >>> 5]! >>> shift) & mask) << done)) >>> 0;
    done += take;
  }
  return value;
}

export function wordsForBits(bits: number): number {
  return Math.ceil(bits / 32);
}

/** Activation beats for steps [firstStep, firstStep + steps) of one token; columns past k are 0. */
export function activationBeats(
  geo: EngineGeometry,
  x: Int8Array,
  k: number,
  firstStep: number,
  steps: number,
): Uint32Array {
  const perBeat = wordsForBits(geo.actBeatBits);
  const out = new Uint32Array(steps * perBeat);
  const bytes = new Uint8Array(out.buffer);
  for (let s = 0; s < steps; s++) {
    for (let j = 0; j < geo.stepActivations; j++) {
      const col = (firstStep + s) * geo.stepActivations + j;
      if (col < k) bytes[s * perBeat * 4 + j] = x[col]! & 0xff;
    }
  }
  return out;
}
