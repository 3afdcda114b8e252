/**
 * A lazy safetensors reader: u64 little-endian header length N, N bytes of JSON describing every
 * tensor ({dtype, shape, data_offsets: [begin, end)} relative to the data buffer that follows the
 * header, plus an optional "__metadata__" map), then the data buffer. Only the header is read on
 * open; tensor bytes are read by offset when asked. Everything is validated up front so a corrupt
 * file gives one line naming the file, the tensor and what was expected.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { UserError } from "../util/errors.js";
import { bf16ToF32, fp16Table32 } from "./half.js";
import { unknownTensorError } from "./reader.js";

/** Bytes per element of every dtype the safetensors format defines that we accept. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8,
};

/** Header lengths beyond this are refused rather than allocated (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: string;
  /** Outermost first (PyTorch order). */
  readonly shape: readonly number[];
  readonly elements: number;
  /** [begin, end) relative to the data buffer. */
  readonly begin: number;
  readonly end: number;
  /** Absolute file offset of the first byte. */
  readonly fileOffset: number;
  readonly byteLength: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class SafetensorsFile {
  readonly path: string;
  readonly fileSize: number;
  /** N, the JSON header's length. */
  readonly headerBytes: number;
  /** Absolute file offset of the data buffer (8 + N). */
  readonly dataStart: number;
  /** Tensors in header order. */
  readonly tensors: readonly SafetensorsTensor[];
  readonly metadata: Readonly<Record<string, string>> | undefined;
  private readonly byName = new Map<string, SafetensorsTensor>();
  private fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`${path}: cannot open (${code ?? String(err)})`);
    }
    this.fd = fd;
    try {
      this.fileSize = fstatSync(fd).size;
      if (this.fileSize < 8) {
        throw this.error(`truncated file: ${this.fileSize} bytes, expected at least the 8-byte header length`);
      }
      const lenBuf = this.readRange(0, 8, "header length");
      const n = lenBuf.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) {
        throw this.error(`header length ${n} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file?`);
      }
      this.headerBytes = Number(n);
      this.dataStart = 8 + this.headerBytes;
      if (this.dataStart > this.fileSize) {
        throw this.error(`truncated file: the header claims ${this.headerBytes} bytes but only ${this.fileSize - 8} follow the length`);
      }
      const text = this.readRange(8, this.headerBytes, "header").toString("utf8");
      let header: unknown;
      try {
        header = JSON.parse(text);
      } catch (err) {
        throw this.error(`header is not valid JSON (${(err as Error).message.split("\n")[0]})`);
      }
      if (!isPlainObject(header)) throw this.error(`header must be a JSON object, got ${Array.isArray(header) ? "an array" : typeof header}`);
      const { tensors, metadata } = this.parseHeader(header);
      this.tensors = tensors;
      this.metadata = metadata;
      for (const t of tensors) this.byName.set(t.name, t);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private error(message: string): UserError {
    return new UserError(`${this.path}: ${message}`);
  }

  private parseHeader(header: Record<string, unknown>): { tensors: SafetensorsTensor[]; metadata: Record<string, string> | undefined } {
    let metadata: Record<string, string> | undefined;
    const tensors: SafetensorsTensor[] = [];
    const dataBytes = this.fileSize - this.dataStart;
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") {
        if (!isPlainObject(entry)) throw this.error(`"__metadata__" must be an object of strings`);
        for (const [k, v] of Object.entries(entry)) {
          if (typeof v !== "string") throw this.error(`"__metadata__" value "${k}" must be a string, got ${JSON.stringify(v)}`);
        }
        metadata = entry as Record<string, string>;
        continue;
      }
      const where = `tensor "${name}"`;
      if (!isPlainObject(entry)) throw this.error(`${where}: expected an object {dtype, shape, data_offsets}`);
      const dtype = entry["dtype"];
      if (typeof dtype !== "string") throw this.error(`${where}: expected a string dtype, got ${JSON.stringify(dtype)}`);
      const size = SAFETENSORS_DTYPE_BYTES[dtype];
      if (size === undefined) {
        throw this.error(`${where}: unknown dtype "${dtype}"; expected one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")}`);
      }
      const shape = entry["shape"];
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        throw this.error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
      }
      const offsets = entry["data_offsets"];
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        throw this.error(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
      }
      const [begin, end] = offsets as [number, number];
      if (end < begin) throw this.error(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
      let elements = 1n;
      for (const d of shape as number[]) elements *= BigInt(d);
      const expected = elements * BigInt(size);
      if (expected !== BigInt(end - begin)) {
        throw this.error(
          `${where}: ${dtype} of shape [${(shape as number[]).join(", ")}] needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
        );
      }
      if (end > dataBytes) {
        throw this.error(
          `${where}: data_offsets [${begin}, ${end}] run past the end of the file (the data buffer holds ${dataBytes} bytes); truncated file?`,
        );
      }
      tensors.push({
        name,
        dtype,
        shape: shape as number[],
        elements: Number(elements),
        begin,
        end,
        fileOffset: this.dataStart + begin,
        byteLength: end - begin,
      });
    }
    const sorted = [...tensors].filter((t) => t.byteLength > 0).sort((a, b) => a.begin - b.begin || a.end - b.end);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (cur.begin < prev.end) {
        throw this.error(
          `tensor "${cur.name}": data_offsets [${cur.begin}, ${cur.end}] overlap tensor "${prev.name}" [${prev.begin}, ${prev.end}]`,
        );
      }
    }
    return { tensors, metadata };
  }

  private readRange(offset: number, length: number, what: string): Buffer {
    const out = Buffer.allocUnsafe(length);
    this.fillRange(out, offset, length, what);
    return out;
  }

  /** Reads exactly `length` bytes at file offset `offset` into dst[0..length). */
  private fillRange(dst: Uint8Array, offset: number, length: number, what: string): void {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, dst, done, length - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    if (done < length) {
      throw this.error(`truncated file: ${what} at byte ${offset} needs ${length} bytes but only ${done} could be read`);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  tensor(name: string): SafetensorsTensor {
    const t = this.byName.get(name);
    if (!t) throw unknownTensorError(name, this.path, this.tensors.map((x) => x.name));
    return t;
  }

  /** The tensor's raw little-endian bytes (read now, from disk). */
  readBytes(name: string): Buffer {
    const t = this.tensor(name);
    return this.readRange(t.fileOffset, t.byteLength, `tensor "${name}"`);
  }

  /**
   * `length` bytes of the tensor from byte `begin` of its data into dst[0..length), so a large
   * tensor can be streamed through one reused chunk buffer.
   */
  readTensorRange(name: string, begin: number, length: number, dst: Uint8Array): void {
    const t = this.tensor(name);
    if (begin < 0 || length < 0 || begin + length > t.byteLength || length > dst.length) {
      throw new RangeError(`${this.path}: tensor "${name}" range [${begin}, ${begin + length}) is outside its ${t.byteLength} bytes or the buffer`);
    }
    this.fillRange(dst, t.fileOffset + begin, length, `tensor "${name}"`);
  }

  /** An F32, F16 or BF16 tensor as floats. */
  readFloat(name: string): Float32Array {
    const t = this.tensor(name);
    if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16") {
      throw this.error(`tensor "${name}" is ${t.dtype}; expected F32, F16 or BF16`);
    }
    return decodeFloats(this.readBytes(name), t.dtype, t.elements);
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  get fileName(): string {
    return basename(this.path);
  }
}

/** Little-endian F32 / F16 / BF16 bytes to floats. */
export function decodeFloats(bytes: Uint8Array, dtype: "F32" | "F16" | "BF16", elements: number): Float32Array {
  const out = new Float32Array(elements);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") {
    for (let i = 0; i < elements; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === "F16") {
    const table = fp16Table32();
    for (let i = 0; i < elements; i++) out[i] = table[view.getUint16(2 * i, true)]!;
  } else {
    for (let i = 0; i < elements; i++) out[i] = bf16ToF32(view.getUint16(2 * i, true));
  }
  return out;
}

export function openSafetensors(path: string): SafetensorsFile {
  return new SafetensorsFile(path);
}
