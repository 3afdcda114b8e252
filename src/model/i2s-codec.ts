/**
 * bitnet.cpp's I2_S format (REFERENCE.md §4): the whole tensor flattened row-major, in blocks of
 * 128 weights packed into 32 bytes (weight j of a block in byte j % 32 at bit shift 6 − 2·(j / 32);
 * codes 0 = −1, 1 = 0, 2 = +1, 3 invalid), then one f32 per-tensor scale padded to 32 bytes.
 * Weight = trit · scale.
 */

export const I2S_BLOCK_WEIGHTS = 128;
export const I2S_BLOCK_BYTES = 32;
/** The f32 scale and its padding after the packed bytes (bitnet.cpp's ggml_nbytes adds 32). */
export const I2S_TAIL_BYTES = 32;

/** I2S_TRITS[b·4 + q] = trit of weight q·32 + (byte index) held in byte value b (shift 6 − 2q). */
const I2S_TRITS = new Int8Array(256 * 4);
const I2S_INVALID = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  for (let q = 0; q < 4; q++) {
    const code = (b >> (6 - 2 * q)) & 3;
    I2S_TRITS[b * 4 + q] = code - 1;
    if (code === 3) I2S_INVALID[b] = 1;
  }
}

/** Packed bytes (without the scale tail) of a tensor of `elements` weights. */
export function i2sPackedBytes(elements: number): number {
  return elements / 4;
}

/**
 * Decodes `nBlocks` blocks from src (byte 0 onward) into trits starting at element
 * `firstBlock`·128. Returns the byte index in src of the first byte holding code 3, or -1.
 */
export function decodeI2sBlocks(src: Uint8Array, nBlocks: number, trits: Int8Array, firstBlock: number): number {
  for (let blk = 0; blk < nBlocks; blk++) {
    const o = blk * I2S_BLOCK_BYTES;
    const base = (firstBlock + blk) * I2S_BLOCK_WEIGHTS;
    let bad = 0;
    for (let j = 0; j < 32; j++) {
      const b = src[o + j]!;
      const tb = b * 4;
      trits[base + j] = I2S_TRITS[tb]!;
      trits[base + 32 + j] = I2S_TRITS[tb + 1]!;
      trits[base + 64 + j] = I2S_TRITS[tb + 2]!;
      trits[base + 96 + j] = I2S_TRITS[tb + 3]!;
      bad |= I2S_INVALID[b]!;
    }
    if (bad) {
      for (let j = 0; j < 32; j++) if (I2S_INVALID[src[o + j]!]) return o + j;
    }
  }
  return -1;
}

/**
 * Encodes `nBlocks` blocks of trits from trits[tritBase] into dst (byte 0 onward). Returns the
 * element index (relative to tritBase) of the first value that is not a trit, or -1.
 */
export function encodeI2sBlocks(trits: Int8Array, tritBase: number, nBlocks: number, dst: Uint8Array): number {
  for (let blk = 0; blk < nBlocks; blk++) {
    const o = blk * I2S_BLOCK_BYTES;
    const base = tritBase + blk * I2S_BLOCK_WEIGHTS;
    for (let j = 0; j < 32; j++) {
      let byte = 0;
      for (let q = 0; q < 4; q++) {
        const t = trits[base + q * 32 + j]!;
        if (t < -1 || t > 1) return base - tritBase + q * 32 + j;
        byte |= (t + 1) << (6 - 2 * q);
      }
      dst[o + j] = byte;
    }
  }
  return -1;
}
