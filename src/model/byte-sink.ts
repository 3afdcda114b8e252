/**
 * A growable little-endian byte buffer for building file headers in memory. Each write reserves
 * room first and only then touches `buf`, because reserving may swap in a bigger buffer.
 */
export class ByteSink {
  private buf = Buffer.alloc(4096);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  u8(v: number): void {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  i8(v: number): void {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
  }
  u16(v: number): void {
    const at = this.room(2);
    this.buf.writeUInt16LE(v, at);
  }
  i16(v: number): void {
    const at = this.room(2);
    this.buf.writeInt16LE(v, at);
  }
  u32(v: number): void {
    const at = this.room(4);
    this.buf.writeUInt32LE(v, at);
  }
  i32(v: number): void {
    const at = this.room(4);
    this.buf.writeInt32LE(v, at);
  }
  f32(v: number): void {
    const at = this.room(4);
    this.buf.writeFloatLE(v, at);
  }
  f64(v: number): void {
    const at = this.room(8);
    this.buf.writeDoubleLE(v, at);
  }
  u64(v: bigint | number): void {
    const at = this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), at);
  }
  i64(v: bigint | number): void {
    const at = this.room(8);
    this.buf.writeBigInt64LE(BigInt(v), at);
  }
  /** GGUF string: u64 byte length, then UTF-8 bytes (no terminator). */
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    const at = this.room(bytes.length);
    bytes.copy(this.buf, at);
  }
  zeros(n: number): void {
    const at = this.room(n);
    this.buf.fill(0, at, at + n);
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
