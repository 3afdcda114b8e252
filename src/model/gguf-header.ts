/**
 * Parses a GGUF header (magic, version, metadata, tensor infos) through a BufferedFileReader and
 * validates everything a later tensor read relies on, so corrupt files fail at open with a precise
 * message instead of producing garbage later.
 */
import { UserError } from "../util/errors.js";
import type { BufferedFileReader } from "./file-reader.js";
import {
  GGUF_SCALAR_BYTES,
  ggufValueTypeName,
  type GgufScalarType,
  type GgufTypedValue,
  type GgufValue,
} from "./gguf-value.js";
import { ggmlType, tensorByteLength, isBitnetArchitecture } from "./ggml-types.js";

export const GGUF_MAGIC = "GGUF";
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml tensors have at most four dimensions. */
const MAX_DIMS = 4;

export interface GgufTensorInfo {
  readonly name: string;
  readonly typeId: number;
  readonly typeName: string;
  /** Dimensions in GGUF order: ne[0] is the innermost (input) dimension. */
  readonly ne: readonly number[];
  /**
   * [n, k] as PyTorch would write it: k = ne[0] (columns, inputs), n = product of the other
   * dimensions (rows, outputs). A 1-D tensor is [1, ne[0]].
   */
  readonly shape: readonly [number, number];
  readonly elements: number;
  /** Absolute file offset of the tensor's first byte. */
  readonly dataOffset: number;
  /** Bytes on disk, or undefined when the type alone does not tell (bitnet.cpp TL1/TL2). */
  readonly byteLength: number | undefined;
}

export interface GgufHeader {
  readonly version: number;
  readonly typedMetadata: ReadonlyMap<string, GgufTypedValue>;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly architecture: string | undefined;
  readonly alignment: number;
  readonly tensors: readonly GgufTensorInfo[];
  /** Absolute offset where the data section starts. */
  readonly dataStart: number;
}

/** Smallest possible encodings, for rejecting absurd counts before looping or allocating. */
const MIN_KV_BYTES = 8 + 4 + 1; // key length, value type, smallest value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // name length, n_dims, one dim, type, offset

export function parseGgufHeader(r: BufferedFileReader): GgufHeader {
  const magic = readMagic(r);
  if (magic !== GGUF_MAGIC) {
    throw r.error(0, `not a GGUF file: magic is ${JSON.stringify(magic)}, expected "GGUF"`);
  }
  const version = r.u32("GGUF version");
  if (version !== 2 && version !== 3) {
    const hint = version > 0xffff && (version & 0xffff) === 0 ? " (a big-endian GGUF file?)" : "";
    throw r.error(4, `unsupported GGUF version ${version}${hint}, expected 2 or 3`);
  }
  const tensorCount = r.u64Number("tensor count");
  const kvCount = r.u64Number("metadata entry count");
  const need = kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES;
  if (need > r.remaining) {
    throw r.error(
      8,
      `truncated file or absurd counts: ${tensorCount} tensors and ${kvCount} metadata entries ` +
        `need at least ${need} more bytes but only ${r.remaining} remain`,
    );
  }

  const typedMetadata = new Map<string, GgufTypedValue>();
  const metadata = new Map<string, GgufValue>();
  const keyOffsets = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const at = r.pos;
    const key = r.string(`key of metadata entry #${i}`);
    if (typedMetadata.has(key)) throw r.error(at, `duplicate metadata key "${key}"`);
    const typed = readTypedValue(r, `metadata "${key}"`);
    typedMetadata.set(key, typed);
    keyOffsets.set(key, at);
    metadata.set(key, typed.value);
  }

  const archValue = metadata.get("general.architecture");
  if (archValue !== undefined && typeof archValue !== "string") {
    const type = typedMetadata.get("general.architecture")!.type;
    throw r.error(keyOffsets.get("general.architecture")!, `metadata "general.architecture" is ${type}, expected a string`);
  }
  const architecture = archValue;
  const alignment = readAlignment(r, typedMetadata, keyOffsets.get("general.alignment") ?? 0);

  const tensors: GgufTensorInfo[] = [];
  const relativeOffsets: number[] = [];
  const infoOffsets: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = r.pos;
    const name = r.string(`name of tensor info #${i}`);
    if (seen.has(name)) throw r.error(at, `duplicate tensor name "${name}"`);
    seen.add(name);
    const what = `tensor "${name}"`;
    const nDimsAt = r.pos;
    const nDims = r.u32(`${what} dimension count`);
    if (nDims < 1 || nDims > MAX_DIMS) throw r.error(nDimsAt, `${what} has ${nDims} dimensions, expected 1 to ${MAX_DIMS}`);
    const ne: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dimAt = r.pos;
      const size = r.u64Number(`${what} ne[${d}]`);
      elements *= size;
      if (!Number.isSafeInteger(elements)) throw r.error(dimAt, `${what} has an absurd element count (${ne.join(" x ")} x ${size})`);
      ne.push(size);
    }
    const typeAt = r.pos;
    const typeId = r.u32(`${what} type`);
    const type = ggmlType(typeId, architecture);
    if (!type) {
      const arch = JSON.stringify(architecture ?? "unset");
      const bitnetNote =
        typeId >= 36 && typeId <= 39 && !isBitnetArchitecture(architecture)
          ? ` (ids 36-39 are bitnet.cpp types only in files whose architecture is bitnet; this one is ${arch})`
          : "";
      throw r.error(typeAt, `${what} has unknown tensor type id ${typeId}${bitnetNote}`);
    }
    if (ne[0]! % type.blockSize !== 0) {
      throw r.error(
        nDimsAt,
        `${what} of type ${type.name} has rows of ${ne[0]} elements, not a whole number of ${type.blockSize}-element blocks`,
      );
    }
    if (type.name === "I2_S" && elements % 128 !== 0) {
      throw r.error(nDimsAt, `${what} of type I2_S has ${elements} elements, not a whole number of 128-weight blocks`);
    }
    const offsetAt = r.pos;
    const offset = r.u64Number(`${what} data offset`);
    if (offset % alignment !== 0) {
      throw r.error(offsetAt, `${what} data offset ${offset} is not a multiple of the alignment ${alignment}`);
    }
    relativeOffsets.push(offset);
    infoOffsets.push(at);
    const k = ne[0]!;
    tensors.push({
      name,
      typeId,
      typeName: type.name,
      ne,
      shape: [k === 0 ? 0 : elements / k, k],
      elements,
      dataOffset: offset, // made absolute below, once the data section start is known
      byteLength: tensorByteLength(type, elements),
    });
  }

  const dataStart = alignUp(r.pos, alignment);
  const placed = tensors.map((t, i) => ({ ...t, dataOffset: dataStart + relativeOffsets[i]! }));
  checkTensorExtents(r, placed, infoOffsets);
  return { version, typedMetadata, metadata, architecture, alignment, tensors: placed, dataStart };
}

function readMagic(r: BufferedFileReader): string {
  return String.fromCharCode(...r.bytes(4, "magic"));
}

function readAlignment(r: BufferedFileReader, meta: ReadonlyMap<string, GgufTypedValue>, keyAt: number): number {
  const typed = meta.get("general.alignment");
  if (!typed) return GGUF_DEFAULT_ALIGNMENT;
  const v = typed.value;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0 || (n & (n - 1)) !== 0 || n > 1 << 30) {
    throw r.error(keyAt, `metadata "general.alignment" is ${String(v)} (${typed.type}), expected a power of two`);
  }
  return n;
}

function readTypedValue(r: BufferedFileReader, what: string): GgufTypedValue {
  const at = r.pos;
  const typeId = r.u32(`${what} value type`);
  const type = ggufValueTypeName(typeId);
  if (type === undefined) throw r.error(at, `${what} has unknown value type ${typeId}, expected 0 to 12`);
  if (type === "array") {
    const itemAt = r.pos;
    const itemTypeId = r.u32(`${what} array item type`);
    const itemType = ggufValueTypeName(itemTypeId);
    if (itemType === undefined) throw r.error(itemAt, `${what} array has unknown item type ${itemTypeId}, expected 0 to 12`);
    return { type: "array", itemType, value: readArrayItems(r, itemType, what) };
  }
  return readScalar(r, type, what);
}

/** Reads one bare value of a scalar type (array items have no per-item type tag). */
function scalarReader(r: BufferedFileReader, type: GgufScalarType): (what: string) => GgufValue {
  switch (type) {
    case "u8": return (w) => r.u8(w);
    case "i8": return (w) => r.i8(w);
    case "u16": return (w) => r.u16(w);
    case "i16": return (w) => r.i16(w);
    case "u32": return (w) => r.u32(w);
    case "i32": return (w) => r.i32(w);
    case "f32": return (w) => r.f32(w);
    case "f64": return (w) => r.f64(w);
    case "u64": return (w) => r.u64(w);
    case "i64": return (w) => r.i64(w);
    case "bool": return (w) => r.u8(w) !== 0;
    case "string": return (w) => r.string(w);
  }
}

function readScalar(r: BufferedFileReader, type: GgufScalarType, what: string): GgufTypedValue {
  switch (type) {
    case "u8": return { type, value: r.u8(what) };
    case "i8": return { type, value: r.i8(what) };
    case "u16": return { type, value: r.u16(what) };
    case "i16": return { type, value: r.i16(what) };
    case "u32": return { type, value: r.u32(what) };
    case "i32": return { type, value: r.i32(what) };
    case "f32": return { type, value: r.f32(what) };
    case "f64": return { type, value: r.f64(what) };
    case "u64": return { type, value: r.u64(what) };
    case "i64": return { type, value: r.i64(what) };
    case "bool": return { type, value: r.u8(what) !== 0 };
    case "string": return { type, value: r.string(what) };
  }
}

/** Arrays of arrays nest at most this deep: no real file comes close, and recursion stays bounded. */
const MAX_ARRAY_DEPTH = 16;

function readArrayItems(r: BufferedFileReader, itemType: GgufScalarType | "array", what: string, depth = 1): GgufValue[] {
  const at = r.pos;
  if (depth > MAX_ARRAY_DEPTH) throw r.error(at, `${what} nests arrays more than ${MAX_ARRAY_DEPTH} deep`);
  const count = r.u64Number(`${what} array length`);
  // Strings need at least their 8-byte length, nested arrays a type and a count.
  const minBytes = itemType === "string" ? 8 : itemType === "array" ? 12 : GGUF_SCALAR_BYTES[itemType];
  if (count * minBytes > r.remaining) {
    throw r.error(at, `truncated file or corrupt length: ${what} claims ${count} array items but only ${r.remaining} bytes remain`);
  }
  const items: GgufValue[] = new Array<GgufValue>(count);
  const itemWhat = `item of ${what}`;
  if (itemType !== "array") {
    const read = scalarReader(r, itemType);
    for (let i = 0; i < count; i++) items[i] = read(itemWhat);
    return items;
  }
  for (let i = 0; i < count; i++) {
    const innerAt = r.pos;
    const innerId = r.u32(`${itemWhat} type`);
    const innerType = ggufValueTypeName(innerId);
    if (innerType === undefined) throw r.error(innerAt, `${what} nested array has unknown item type ${innerId}`);
    items[i] = readArrayItems(r, innerType, what, depth + 1);
  }
  return items;
}

/** Every tensor's bytes must lie inside the file and no two tensors may share bytes. */
function checkTensorExtents(r: BufferedFileReader, tensors: readonly GgufTensorInfo[], infoOffsets: readonly number[]): void {
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[a]!.dataOffset - tensors[b]!.dataOffset);
  for (let j = 0; j < order.length; j++) {
    const t = tensors[order[j]!]!;
    const length = t.byteLength ?? 0;
    const end = t.dataOffset + length;
    if (end > r.size) {
      throw new UserError(
        `${r.path}: truncated file: tensor "${t.name}" data [${t.dataOffset}, ${end}) (${t.typeName}, ne ${t.ne.join(" x ")}) ` +
          `runs past the end of the file at byte ${r.size} (tensor info at byte ${infoOffsets[order[j]!]})`,
      );
    }
    const next = order[j + 1] === undefined ? undefined : tensors[order[j + 1]!]!;
    if (next && end > next.dataOffset) {
      throw new UserError(
        `${r.path}: tensor "${next.name}" data at byte ${next.dataOffset} overlaps tensor "${t.name}" data [${t.dataOffset}, ${end}) ` +
          `(tensor info at byte ${infoOffsets[order[j + 1]!]})`,
      );
    }
  }
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
