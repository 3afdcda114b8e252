/**
 * What every model reader hands to the rest of trilut. Readers (GGUF, later safetensors) turn
 * their file layouts into these; nothing downstream knows which file a matrix came from.
 */

/** A ternary weight matrix without its scale: n output rows by k input columns, row-major. */
export interface TritMatrix {
  readonly n: number;
  readonly k: number;
  /** n·k values in {-1, 0, +1}; row r, column j at r·k + j. */
  readonly trits: Int8Array;
}

/** How a ternary tensor's scale is stored. */
export interface TernaryScale {
  /** One scale per 256-weight block in storage order (TQ formats), or a single value. */
  readonly blockScales: Float32Array;
  /** True when every block with a non-zero weight carries the same scale (a per-tensor scale). */
  readonly uniform: boolean;
  /** The per-tensor scale when uniform, otherwise the largest block scale. */
  readonly tensorScale: number;
}

export interface TernaryTensor extends TritMatrix {
  readonly name: string;
  readonly scale: TernaryScale;
}

/** Trit counts of a ternary tensor, as fixtures' manifests list them. */
export interface TritCounts {
  readonly minus: number;
  readonly zero: number;
  readonly plus: number;
}

export function countTrits(trits: Int8Array): TritCounts {
  let minus = 0;
  let plus = 0;
  for (let i = 0; i < trits.length; i++) {
    const t = trits[i]!;
    if (t < 0) minus++;
    else if (t > 0) plus++;
  }
  return { minus, zero: trits.length - minus - plus, plus };
}

/** What inspect needs of a ternary tensor: its trit counts and scale layout, without the trits. */
export interface TernaryCounts extends TritCounts {
  readonly scale: TernaryScale;
}
