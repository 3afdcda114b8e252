/**
 * Per-token absmax activation quantization (BitNet b1.58): s = max|x| / 127 per token and
 * x_q = clamp(round(x / s), −128, 127), rounding half to even as PyTorch's round does. A token
 * of zeros gets s = 1 and zeros.
 */
export function quantizeActivations(x: Float64Array, tokens: number, k: number): { q: Int8Array; scale: Float64Array } {
  const q = new Int8Array(tokens * k);
  const scale = new Float64Array(tokens);
  for (let t = 0; t < tokens; t++) {
    let max = 0;
    for (let j = 0; j < k; j++) max = Math.max(max, Math.abs(x[t * k + j]!));
    const s = max > 0 ? max / 127 : 1;
    scale[t] = s;
    for (let j = 0; j < k; j++) {
      const v = roundHalfEven(x[t * k + j]! / s);
      q[t * k + j] = Math.max(-128, Math.min(127, v));
    }
  }
  return { q, scale };
}

export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
