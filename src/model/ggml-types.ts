/**
 * ggml tensor element types as GGUF files number them, with their block geometry. Knowing every
 * upstream type (not just the ternary ones) lets us size, bounds-check and inspect any tensor in a
 * real model file, e.g. a Q6_K output layer next to TQ2_0 linear weights.
 */

export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** Weights per block; rows (ne[0]) must be a whole number of blocks. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
}

function t(id: number, name: string, blockSize: number, blockBytes: number): GgmlTypeInfo {
  return { id, name, blockSize, blockBytes };
}

/** Upstream ggml types (ids 4, 5 and 31–33 were retired upstream; 36–38 retired, 39 reused). */
const UPSTREAM_TYPES: readonly GgmlTypeInfo[] = [
  t(0, "F32", 1, 4),
  t(1, "F16", 1, 2),
  t(2, "Q4_0", 32, 18),
  t(3, "Q4_1", 32, 20),
  t(6, "Q5_0", 32, 22),
  t(7, "Q5_1", 32, 24),
  t(8, "Q8_0", 32, 34),
  t(9, "Q8_1", 32, 36),
  t(10, "Q2_K", 256, 84),
  t(11, "Q3_K", 256, 110),
  t(12, "Q4_K", 256, 144),
  t(13, "Q5_K", 256, 176),
  t(14, "Q6_K", 256, 210),
  t(15, "Q8_K", 256, 292),
  t(16, "IQ2_XXS", 256, 66),
  t(17, "IQ2_XS", 256, 74),
  t(18, "IQ3_XXS", 256, 98),
  t(19, "IQ1_S", 256, 50),
  t(20, "IQ4_NL", 32, 18),
  t(21, "IQ3_S", 256, 110),
  t(22, "IQ2_S", 256, 82),
  t(23, "IQ4_XS", 256, 136),
  t(24, "I8", 1, 1),
  t(25, "I16", 1, 2),
  t(26, "I32", 1, 4),
  t(27, "I64", 1, 8),
  t(28, "F64", 1, 8),
  t(29, "IQ1_M", 256, 56),
  t(30, "BF16", 1, 2),
  t(34, "TQ1_0", 256, 54),
  t(35, "TQ2_0", 256, 66),
  t(39, "MXFP4", 32, 17),
];

/**
 * bitnet.cpp's fork numbers its own types 36–39, colliding with upstream. Their sizes are not
 * plain blocks (I2_S appends a scale after the packed data; TL1/TL2 depend on the kernel
 * configuration), so blockBytes here describes only the packed part; see tensorByteLength.
 */
const BITNET_TYPES: readonly GgmlTypeInfo[] = [
  ...UPSTREAM_TYPES.filter((x) => x.id < 36),
  t(36, "I2_S", 1, 1),
  t(37, "I8_S", 1, 1),
  t(38, "TL1", 1, 1),
  t(39, "TL2", 1, 1),
];

const byId = (list: readonly GgmlTypeInfo[]): Map<number, GgmlTypeInfo> => new Map(list.map((x) => [x.id, x]));
const UPSTREAM_BY_ID = byId(UPSTREAM_TYPES);
const BITNET_BY_ID = byId(BITNET_TYPES);
const UPSTREAM_BY_NAME = new Map(UPSTREAM_TYPES.map((x) => [x.name, x]));

/** bitnet.cpp writes architectures "bitnet", "bitnet-25", "bitnet-b1.58". */
export function isBitnetArchitecture(architecture: string | undefined): boolean {
  return architecture !== undefined && architecture.toLowerCase().startsWith("bitnet");
}

/** The type for an id as the file's architecture means it, or undefined when unknown. */
export function ggmlType(id: number, architecture: string | undefined): GgmlTypeInfo | undefined {
  return (isBitnetArchitecture(architecture) ? BITNET_BY_ID : UPSTREAM_BY_ID).get(id);
}

export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return UPSTREAM_BY_NAME.get(name);
}

/**
 * Bytes a tensor of `elements` weights occupies, or undefined when the layout is not known from
 * the type alone (bitnet.cpp TL1/TL2). Callers have already checked rows are whole blocks.
 */
export function tensorByteLength(type: GgmlTypeInfo, elements: number): number | undefined {
  if (type.name === "TL1" || type.name === "TL2") return undefined;
  // I2_S: 2 bits per weight, then an f32 tensor scale padded to 32 bytes (bitnet.cpp ggml_nbytes).
  if (type.name === "I2_S") return Math.ceil(elements / 4) + 32;
  return (elements / type.blockSize) * type.blockBytes;
}

export const TERNARY_TYPE_NAMES = ["TQ1_0", "TQ2_0"] as const;
export type TernaryTypeName = (typeof TERNARY_TYPE_NAMES)[number];

export function isTernaryTypeName(name: string): name is TernaryTypeName {
  return (TERNARY_TYPE_NAMES as readonly string[]).includes(name);
}
