import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { UserError } from "./errors.js";

/**
 * Raw matrices as the fixtures store them: little-endian, row-major, no header.
 * Reads int8 activations of `rows` × `k` (rows inferred when undefined).
 */
export function readInt8Matrix(path: string, k: number, rows: number | undefined): { data: Int8Array; rows: number } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    throw new UserError(`${path}: cannot read input file`);
  }
  if (buf.length === 0 || buf.length % k !== 0) {
    throw new UserError(`${path}: ${buf.length} bytes is not a whole number of rows of k = ${k} int8 activations`);
  }
  const found = buf.length / k;
  if (rows !== undefined && rows !== found) {
    throw new UserError(`${path}: holds ${found} tokens of k = ${k}, but --tokens is ${rows}`);
  }
  return { data: new Int8Array(buf.buffer, buf.byteOffset, buf.length), rows: found };
}

export function writeInt32Matrix(path: string, data: Int32Array): void {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i]!, true);
  writeFileAtomic(path, bytes);
}
