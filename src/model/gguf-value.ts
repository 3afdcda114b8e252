/**
 * GGUF metadata values. The reader keeps each value's on-disk type next to it so a file can be
 * rewritten faithfully, and the writer requires the type because GGUF readers are strict about
 * it (llama.cpp rejects general.alignment stored as anything but u32, for instance).
 */

/** A metadata value as plain data: u64/i64 stay bigint so no precision is lost. */
export type GgufValue = number | bigint | boolean | string | readonly GgufValue[];

export type GgufNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
export type GgufBigIntType = "u64" | "i64";
export type GgufScalarType = GgufNumberType | GgufBigIntType | "bool" | "string";

export type GgufTypedValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | GgufTypedArray;

/**
 * An array of one scalar type. Nested arrays (itemType "array") exist in the spec and are read,
 * but their inner item types are not kept, so the writer refuses them.
 */
export interface GgufTypedArray {
  readonly type: "array";
  readonly itemType: GgufScalarType | "array";
  readonly value: readonly GgufValue[];
}

/** On-disk value type ids (REFERENCE.md §4). */
export const GGUF_VALUE_TYPE_IDS = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufValueTypeName = keyof typeof GGUF_VALUE_TYPE_IDS;

const NAME_BY_ID: readonly GgufValueTypeName[] = (() => {
  const names: GgufValueTypeName[] = [];
  for (const [name, id] of Object.entries(GGUF_VALUE_TYPE_IDS)) names[id] = name as GgufValueTypeName;
  return names;
})();

export function ggufValueTypeName(id: number): GgufValueTypeName | undefined {
  return NAME_BY_ID[id];
}

/** Bytes of a fixed-size value type; strings and arrays have variable size. */
export const GGUF_SCALAR_BYTES: Readonly<Record<Exclude<GgufValueTypeName, "string" | "array">, number>> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  u64: 8,
  i64: 8,
  f64: 8,
};

/** Constructors so callers write `gv.u32(4)` instead of spelling out the object. */
export const gv = {
  u8: (value: number): GgufTypedValue => ({ type: "u8", value }),
  i8: (value: number): GgufTypedValue => ({ type: "i8", value }),
  u16: (value: number): GgufTypedValue => ({ type: "u16", value }),
  i16: (value: number): GgufTypedValue => ({ type: "i16", value }),
  u32: (value: number): GgufTypedValue => ({ type: "u32", value }),
  i32: (value: number): GgufTypedValue => ({ type: "i32", value }),
  f32: (value: number): GgufTypedValue => ({ type: "f32", value }),
  f64: (value: number): GgufTypedValue => ({ type: "f64", value }),
  u64: (value: number | bigint): GgufTypedValue => ({ type: "u64", value: BigInt(value) }),
  i64: (value: number | bigint): GgufTypedValue => ({ type: "i64", value: BigInt(value) }),
  bool: (value: boolean): GgufTypedValue => ({ type: "bool", value }),
  str: (value: string): GgufTypedValue => ({ type: "string", value }),
  array: (itemType: GgufScalarType, value: readonly GgufValue[]): GgufTypedValue => ({ type: "array", itemType, value }),
};
