import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { UserError } from "../util/errors.js";

/**
 * Sequential little-endian reads from a file descriptor through a refilling buffer, so headers of
 * multi-GB model files are parsed without loading the file. Every read names what it was reading,
 * so a truncated or corrupt file gives a one-line error with the byte offset.
 */
export class BufferedFileReader {
  readonly path: string;
  readonly size: number;
  private readonly fd: number;
  private buf: Buffer;
  /** File offset of buf[0] and how many bytes of buf are valid. */
  private bufStart = 0;
  private bufLen = 0;
  /** Absolute file offset of the next read. */
  private cursor = 0;
  private closed = false;

  constructor(path: string, bufferBytes = 1 << 20) {
    this.path = path;
    try {
      this.fd = openSync(path, "r");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`${path}: cannot open (${code ?? String(err)})`);
    }
    this.size = fstatSync(this.fd).size;
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  get pos(): number {
    return this.cursor;
  }

  get remaining(): number {
    return this.size - this.cursor;
  }

  seek(offset: number): void {
    this.cursor = offset;
  }

  /** A UserError about this file at a byte offset. */
  error(offset: number, message: string): UserError {
    return new UserError(`${this.path}: ${message} (at byte ${offset})`);
  }

  private truncated(what: string, offset: number, n: number): UserError {
    return new UserError(
      `${this.path}: truncated file: ${what} at byte ${offset} needs ${n} byte${n === 1 ? "" : "s"} but the file ends at byte ${this.size}`,
    );
  }

  /** Makes n bytes at the cursor available in buf and returns their index in buf. */
  private need(n: number, what: string): number {
    if (this.cursor + n > this.size) throw this.truncated(what, this.cursor, n);
    const off = this.cursor - this.bufStart;
    if (off >= 0 && off + n <= this.bufLen) return off;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    this.bufStart = this.cursor;
    this.bufLen = this.fill(this.buf, this.cursor, Math.min(this.buf.length, this.size - this.cursor));
    return 0;
  }

  /** Reads exactly `length` bytes at `offset` into dst (the caller has bounds-checked). */
  private fill(dst: Uint8Array, offset: number, length: number): number {
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, dst, done, length - done, offset + done);
      if (got === 0) break; // file shrank under us
      done += got;
    }
    if (done < length) {
      throw new UserError(`${this.path}: truncated file: could read only ${done} of ${length} bytes at byte ${offset}`);
    }
    return done;
  }

  /** n raw bytes (a copy). */
  bytes(n: number, what: string): Buffer {
    const o = this.need(n, what);
    this.cursor += n;
    return Buffer.from(this.buf.subarray(o, o + n));
  }

  u8(what: string): number {
    const o = this.need(1, what);
    this.cursor += 1;
    return this.buf[o]!;
  }
  i8(what: string): number {
    const o = this.need(1, what);
    this.cursor += 1;
    return this.buf.readInt8(o);
  }
  u16(what: string): number {
    const o = this.need(2, what);
    this.cursor += 2;
    return this.buf.readUInt16LE(o);
  }
  i16(what: string): number {
    const o = this.need(2, what);
    this.cursor += 2;
    return this.buf.readInt16LE(o);
  }
  u32(what: string): number {
    const o = this.need(4, what);
    this.cursor += 4;
    return this.buf.readUInt32LE(o);
  }
  i32(what: string): number {
    const o = this.need(4, what);
    this.cursor += 4;
    return this.buf.readInt32LE(o);
  }
  f32(what: string): number {
    const o = this.need(4, what);
    this.cursor += 4;
    return this.buf.readFloatLE(o);
  }
  f64(what: string): number {
    const o = this.need(8, what);
    this.cursor += 8;
    return this.buf.readDoubleLE(o);
  }
  u64(what: string): bigint {
    const o = this.need(8, what);
    this.cursor += 8;
    return this.buf.readBigUInt64LE(o);
  }
  i64(what: string): bigint {
    const o = this.need(8, what);
    this.cursor += 8;
    return this.buf.readBigInt64LE(o);
  }

  /** A u64 used as a count, size or offset: must fit a JS number exactly. */
  u64Number(what: string): number {
    const at = this.cursor;
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(at, `${what} is absurdly large (${v})`);
    return Number(v);
  }

  /** GGUF string: u64 byte length then UTF-8 bytes. The length is checked before allocating. */
  string(what: string): string {
    const at = this.cursor;
    const len = this.u64(`length of ${what}`);
    if (len > BigInt(this.remaining)) {
      throw this.error(at, `truncated file or corrupt length: ${what} claims ${len} bytes but only ${this.remaining} remain`);
    }
    const n = Number(len);
    const o = this.need(n, what);
    this.cursor += n;
    return this.buf.toString("utf8", o, o + n);
  }

  /** Positional read that does not move the cursor; throws when it would run past the end. */
  readAt(offset: number, length: number, what: string): Buffer {
    if (offset + length > this.size) throw this.truncated(what, offset, length);
    const out = Buffer.allocUnsafe(length);
    this.fill(out, offset, length);
    return out;
  }

  /** Like readAt but into a caller's buffer, to reuse one chunk buffer across a large tensor. */
  readInto(dst: Uint8Array, offset: number, length: number, what: string): void {
    if (offset + length > this.size) throw this.truncated(what, offset, length);
    this.fill(dst, offset, length);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
  }
}
