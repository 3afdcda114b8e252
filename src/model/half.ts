/**
 * IEEE 754 half precision (fp16) and bfloat16 conversions. GGUF stores TQ block scales and F16
 * tensors as fp16; JavaScript has no Float16Array in Node 20, so we convert by hand.
 */

// Shared scratch so float bits can be inspected without allocating per call.
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** fp16 bit pattern (0..65535) to the exactly equal float. */
export function fp16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

let fp16Table: Float32Array | undefined;

/** All 65536 fp16 values as floats: decoding big F16 tensors is then one lookup per element. */
export function fp16Table32(): Float32Array {
  if (!fp16Table) {
    fp16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) fp16Table[h] = fp16ToF32(h);
  }
  return fp16Table;
}

/**
 * Float to the nearest fp16 bit pattern, ties to even (what numpy's astype(float16) and ggml's
 * converters do). Rounds from the float32 value, as ggml does, so a number first rounded to f32
 * and then to f16 gives the same result as in C.
 */
export function f32ToFp16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf stays Inf, NaN stays quiet NaN
  const e = exp - 127 + 15; // re-biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    // Result is subnormal (or zero): shift the full significand (with its implicit 1) into place.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r; // r may carry into the exponent field, which is exactly right
  }
  const rest = mant & 0x1fff;
  let r = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++; // carry may overflow to Inf: correct
  return sign | r;
}

/** bfloat16 bit pattern to float: the top 16 bits of a float32. */
export function bf16ToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** Rounds a number to the nearest fp16 value (as a float), e.g. to predict what a file will store. */
export function roundToFp16(value: number): number {
  return fp16ToF32(f32ToFp16(value));
}
