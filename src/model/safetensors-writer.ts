/**
 * Writes safetensors files: u64 little-endian header length, a JSON header padded with spaces to a
 * multiple of 8 bytes (so the data buffer starts 8-byte aligned), then the tensors' bytes. Like the
 * reference implementation, tensors are laid out by dtype width (widest first), then by name.
 */
import { UserError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { SAFETENSORS_DTYPE_BYTES } from "./safetensors.js";

export interface SafetensorsWriteTensor {
  readonly name: string;
  readonly dtype: string;
  /** Outermost first (PyTorch order). */
  readonly shape: readonly number[];
  /** Little-endian element bytes. */
  readonly data: Uint8Array;
}

/** The whole file as chunks (header then tensor data), validating every tensor. */
export function encodeSafetensors(tensors: readonly SafetensorsWriteTensor[], metadata?: Readonly<Record<string, string>>): Uint8Array[] {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === "__metadata__" || t.name === "") throw new UserError(`safetensors: invalid tensor name ${JSON.stringify(t.name)}`);
    if (seen.has(t.name)) throw new UserError(`safetensors: tensor "${t.name}" given twice`);
    seen.add(t.name);
    const size = SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (size === undefined) throw new UserError(`safetensors: tensor "${t.name}": unknown dtype "${t.dtype}"`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new UserError(`safetensors: tensor "${t.name}": shape must be non-negative integers, got [${t.shape.join(", ")}]`);
    }
    const bytes = t.shape.reduce((a, b) => a * b, 1) * size;
    if (bytes !== t.data.length) {
      throw new UserError(`safetensors: tensor "${t.name}": ${t.dtype} [${t.shape.join(", ")}] needs ${bytes} bytes, got ${t.data.length}`);
    }
  }
  const ordered = [...tensors].sort(
    (a, b) => SAFETENSORS_DTYPE_BYTES[b.dtype]! - SAFETENSORS_DTYPE_BYTES[a.dtype]! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata) header["__metadata__"] = { ...metadata };
  let offset = 0;
  for (const t of ordered) {
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return [len, json, ...ordered.map((t) => t.data)];
}

/** Writes a safetensors file atomically (a temp sibling renamed into place). */
export function writeSafetensors(path: string, tensors: readonly SafetensorsWriteTensor[], metadata?: Readonly<Record<string, string>>): void {
  writeFileAtomic(path, Buffer.concat(encodeSafetensors(tensors, metadata)));
}
