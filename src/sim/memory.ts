import { type MemoryTiming } from "../budget/memory.js";

/**
 * The off-chip memory behind the engine's AXI read port, for step mode: the same machine as the
 * C++ host's sim/trilut_memory.h, cycle for cycle, so a run driven from TypeScript meets the same
 * cycle model (src/estimate/cycles/event.ts, its credit rule in credit.ts). Requests are accepted while fewer than maxQueued
 * are pending; a request's first beat is ready `latency` cycles after it was accepted; beats leave
 * in order, one a cycle at most, while bandwidth credit lasts. Credit grows by bwNum/bwDen bytes a
 * cycle, capped at two beats, in integer units of 1/bwDen byte.
 */
export class MemoryModel {
  private readonly queue: { addr: number; beats: number; readyAt: number }[] = [];
  private credit = 0;
  private now = 0;
  bytesRead = 0;

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
}
