/**
 * How G ternary weights become one table index, and what each table entry holds. The reference
 * kernel, the weight packer and the generated pattern ROM all come from these functions, so the
 * software and the hardware cannot disagree about an encoding.
 *
 * A group of trits (t0 .. t(G-1)) has the balanced-ternary value v = Σ t_i·3^(G-1-i), t0 most significant.
 * - full (TeLLMe): one entry per pattern, 3^G entries; index = v + (3^G - 1)/2.
 * - mirrored (bitnet.cpp TL2): entries for v = 0 .. (3^G - 1)/2 only; index = |v| with a sign bit
 *   (the MSB of the index) telling the lookup to negate, since the pattern -t gives -entry.
 */

export type Encoding = "full" | "mirrored";

export function pow3(g: number): number {
  return 3 ** g;
}

/** Entries stored per table. */
export function tableEntries(g: number, encoding: Encoding): number {
  return encoding === "full" ? pow3(g) : (pow3(g) + 1) / 2;
}

/** Bits addressing one entry (without the mirrored sign bit). */
export function entryAddressBits(g: number, encoding: Encoding): number {
  return ceilLog2(tableEntries(g, encoding));
}

/** Bits per group in the weight buffer: the entry address, plus a sign bit when mirrored. */
export function indexBits(g: number, encoding: Encoding): number {
  return entryAddressBits(g, encoding) + (encoding === "mirrored" ? 1 : 0);
}

/**
 * Width of a signed table entry: a group sum lies in [-G·2^(b-1), G·2^(b-1)] for b-bit activations
 * (the extreme is every activation at -2^(b-1) against a -1 trit). The often-quoted 8 + ⌈log2 G⌉
 * overflows by one for G = 2 and G = 4 at exactly that corner, so size for the true range.
 */
export function entryBits(g: number, actBits: number): number {
  const maxMagnitude = g * 2 ** (actBits - 1);
  return ceilLog2(maxMagnitude + 1) + 1;
}

/** Balanced-ternary value of a group, t0 most significant. */
export function groupValue(trits: ArrayLike<number>, offset: number, g: number): number {
  let v = 0;
  for (let i = 0; i < g; i++) v = v * 3 + trits[offset + i]!;
  return v;
}

/** Index stored in the weight buffer for a group with balanced-ternary value v. */
export function encodeGroupValue(v: number, g: number, encoding: Encoding): number {
  if (encoding === "full") return v + (pow3(g) - 1) / 2;
  const signBit = 1 << entryAddressBits(g, encoding);
  return v < 0 ? signBit | -v : v;
}

/** The index of an all-zero group: what padding columns and padding rows hold. */
export function zeroIndex(g: number, encoding: Encoding): number {
  return encodeGroupValue(0, g, encoding);
}

/** The trit pattern whose sum table entry `e` holds (t0 first). */
export function entryPattern(e: number, g: number, encoding: Encoding): number[] {
  let v = encoding === "full" ? e - (pow3(g) - 1) / 2 : e;
  const digits: number[] = new Array<number>(g).fill(0);
  for (let i = g - 1; i >= 0; i--) {
    // balanced ternary digit: remainder in {-1, 0, 1}
    let r = ((v % 3) + 3) % 3;
    if (r === 2) r = -1;
    digits[i] = r;
    v = (v - r) / 3;
  }
  return digits;
}

/** Splits a stored index into the entry address and the mirrored sign. */
export function decodeIndex(index: number, g: number, encoding: Encoding): { entry: number; negate: boolean } {
  if (encoding === "full") return { entry: index, negate: false };
  const bits = entryAddressBits(g, encoding);
  return { entry: index & ((1 << bits) - 1), negate: (index >> bits) !== 0 };
}

/** The fewest bits b with 2^b ≥ x (0 for x ≤ 1). */
export function ceilLog2(x: number): number {
  // integers in range by the bit length of x − 1 (the resource model calls this thousands of times a sweep)
  if (Number.isInteger(x) && x <= 2 ** 31) return x <= 1 ? 0 : 32 - Math.clz32(x - 1);
  let bits = 0;
  while (2 ** bits < x) bits++;
  return bits;
}
