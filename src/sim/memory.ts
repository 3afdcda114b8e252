import { type MemoryTiming } from "../budget/memory.js";

/**
 * The off-chip memory behind the engine's AXI read port, for step mode: the same machine as the
 * C++ host's sim/trilut_memory.h, cycle for cycle, so a run driven from TypeScript meets the same
 * cycle model (src/estimate/cycles/event.ts, its credit rule in credit.ts). Requests are accepted while fewer than maxQueued
 * are pending; a request's first beat is ready `latency` cycles after it was accepted; beats leave
 * in order, one a cycle at most, while bandwidth credit lasts. Credit grows by bwNum/bwDen bytes a
 * cycle, capped at two beats, in integer units of 1/bwDen byte.
 *
 * The write port (AW/W/B) mirrors the C++ one: write requests are accepted while fewer than
 * maxQueued writes are pending (accepted, response not taken); beats are taken in request order,
 * one a cycle at most, from the cycle after their request was accepted, while the write port's own
 * credit (the same rule, a separate counter) lasts; a request's response is valid `latency` cycles
 * after its last beat, in order. Strobed bytes land in the image.
 */
export class MemoryModel {
  private readonly queue: { addr: number; beats: number; readyAt: number }[] = [];
  private readonly writes: { addr: number; beats: number; acceptedAt: number; lastAt: number }[] = [];
  private credit = 0;
  private wcredit = 0;
  private now = 0;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(
    private readonly timing: MemoryTiming,
    private readonly image: Uint32Array,
    private readonly beatBytes: number,
  ) {}

  private get cost(): number {
    return this.beatBytes * this.timing.bwDen;
  }

  /** Called once a cycle, before the port's signals are driven. */
  beginCycle(cycle: number): void {
    this.now = cycle;
    this.credit = Math.min(this.credit + this.timing.bwNum, 2 * this.cost);
    this.wcredit = Math.min(this.wcredit + this.timing.bwNum, 2 * this.cost);
  }

  arReady(): boolean {
    return this.queue.length < this.timing.maxQueued;
  }

  accept(addr: number, beats: number): void {
    this.queue.push({ addr, beats, readyAt: this.now + this.timing.latency });
  }

  rValid(): boolean {
    const head = this.queue[0];
    return head !== undefined && this.now >= head.readyAt && this.credit >= this.cost;
  }

  rLast(): boolean {
    return this.queue[0]?.beats === 1;
  }

  /** The current beat's words (past the image: zero). */
  rData(): Uint32Array {
    const base = this.queue[0]!.addr / 4;
    const words = new Uint32Array(this.beatBytes / 4);
    for (let i = 0; i < words.length; i++) words[i] = this.image[base + i] ?? 0;
    return words;
  }

  /** The engine took the current beat. */
  fire(): void {
    this.credit -= this.cost;
    this.bytesRead += this.beatBytes;
    const head = this.queue[0]!;
    head.addr += this.beatBytes;
    if (--head.beats === 0) this.queue.shift();
  }

  awReady(): boolean {
    return this.writes.length < this.timing.maxQueued;
  }

  acceptWrite(addr: number, beats: number): void {
    this.writes.push({ addr, beats, acceptedAt: this.now, lastAt: 0 });
  }

  private owed() {
    return this.writes.find((w) => w.beats > 0);
  }

  /** Whether a data beat is taken this cycle: the oldest request owed beats, accepted before now. */
  wReady(): boolean {
    const w = this.owed();
    return w !== undefined && w.acceptedAt < this.now && this.wcredit >= this.cost;
  }

  /** The design gave a beat: its words and one strobe bit per byte (bit i of strobes[i >> 3]). */
  writeBeat(words: Uint32Array, strobes: Uint8Array): void {
    const w = this.owed()!;
    for (let i = 0; i < this.beatBytes; i++) {
      const at = w.addr + i;
      if (!((strobes[i >> 3]! >> (i & 7)) & 1) || at >= this.image.length * 4) continue;
      const shift = 8 * (at % 4);
      const byte = (words[i >> 2]! >>> (8 * (i & 3))) & 0xff;
      this.image[at >> 2] = ((this.image[at >> 2]! & ~(0xff << shift)) | (byte << shift)) >>> 0;
    }
    this.wcredit -= this.cost;
    this.bytesWritten += this.beatBytes;
    w.addr += this.beatBytes;
    if (--w.beats === 0) w.lastAt = this.now;
  }

  /** Whether the oldest write's response is valid: `latency` cycles after its last beat. */
  bValid(): boolean {
    const w = this.writes[0];
    return w !== undefined && w.beats === 0 && this.now >= w.lastAt + this.timing.latency;
  }

  takeB(): void {
    this.writes.shift();
  }
}
