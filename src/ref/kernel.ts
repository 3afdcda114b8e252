import { type TritMatrix } from "../model/types.js";

/**
 * The reference kernel, the specification every engine must match bit for bit:
 * y (M×n int32) = x (M×k int8) · Tᵀ, written as the plain add/subtract a ternary weight means.
 */
export function ternaryMatmul(w: TritMatrix, x: Int8Array, tokens: number): Int32Array {
  const { n, k, trits } = w;
  if (x.length !== tokens * k) throw new RangeError(`x holds ${x.length} values, expected ${tokens}×${k}`);
  const y = new Int32Array(tokens * n);
  for (let m = 0; m < tokens; m++) {
    const xBase = m * k;
    for (let r = 0; r < n; r++) {
      const wBase = r * k;
      let acc = 0;
      for (let j = 0; j < k; j++) acc += trits[wBase + j]! * x[xBase + j]!;
      y[m * n + r] = acc;
    }
  }
  return y;
}
