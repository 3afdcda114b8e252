/**
 * What the elementwise units of the decoder (scale-out, residual add, gate) share: one element a
 * cycle through a pipeline of L registers that stalls as a whole, so their cycles have one form.
 */

/** A stream port of a unit: name, data bits, whether it has `<name>_last`, its C++ type in the HLS function. */
export interface UnitStream {
  readonly name: string;
  readonly width: number;
  readonly last?: boolean;
  readonly cxxType: string;
}

/**
 * Cycles of a pipeline of `latency` registers taking one element a cycle, from the first cycle
 * after reset to the one in which its last output is taken, for `tokens` vectors of n elements
 * back to back with every input valid and the output always ready: element i is taken in cycle i
 * and leaves in cycle i + latency (no bubble between tokens).
 */
export function pipelineCycles(latency: number, n: number, tokens: number): number {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(tokens) && tokens >= 1)) {
    throw new RangeError(`${tokens} tokens of ${n} elements: expected whole numbers ≥ 1`);
  }
  return tokens * n + latency;
}
