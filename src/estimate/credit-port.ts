import { type MemoryTiming } from "../budget/memory.js";

/**
 * The memory port of sim/trilut_memory.h as closed forms: each cycle adds bwNum to a credit
 * capped at two beats, and a beat goes in a cycle whose credit covers one (cost = beatBytes ·
 * bwDen, in units of 1/bwDen byte). The port remembers its last beat E and the credit R left
 * after it, which is all the past that matters: the credit in a later cycle t, before any other
 * beat, is min(cap, R + bwNum · (t − E)).
 */
export class CreditPort {
  readonly cost: number;
  readonly cap: number;
  readonly bw: number;
  /** Cycle of the last beat, and the credit left after it (before any beat: cycle −1, none). */
  E = -1;
  R = 0;

  constructor(beatBytes: number, memory: MemoryTiming) {
    this.cost = beatBytes * memory.bwDen;
    this.cap = 2 * this.cost;
    this.bw = memory.bwNum;
  }

  /** The credit in cycle t (after its increment) if no beat goes between the last one and t. */
  creditAt(t: number): number {
    return Math.min(this.cap, this.R + this.bw * (t - this.E));
  }

  /**
   * `n` beats, all usable from cycle s, with credit C in cycle s (after that cycle's increment): a
   * beat goes in every cycle the credit covers one. Below a beat per cycle the cap never binds
   * after s (the credit before an increment is under one beat), so beat j goes at
   * s + max(j + lead, ⌈(cost·(j+1) − C) / bwNum⌉); at a beat per cycle or more, one goes every
   * cycle from the first the credit covers, the credit climbing to the cap. Sets E and R.
   */
  serve(n: number, s: number, C: number): void {
    const { cost, bw, cap } = this;
    if (bw >= cost) {
      const first = C >= cost ? s : s + 1;
      const C1 = C >= cost ? C : Math.min(cap, C + bw);
      this.E = first + n - 1;
      this.R = Math.min(cap, C1 + (n - 1) * (bw - cost)) - cost;
      return;
    }
    const lead = Math.max(0, ceilDiv(cost - C, bw));
    const last = s + Math.max(n - 1 + lead, ceilDiv(cost * n - C, bw));
    this.R = C + bw * (last - s) - cost * n;
    this.E = last;
  }

  /** Moves the port's history `cycles` later (a skip over repeated work). */
  shift(cycles: number): void {
    this.E += cycles;
  }
}

/** ⌈x / y⌉ for integers, exact even where x / y rounds to an integer in floating point. */
export function ceilDiv(x: number, y: number): number {
  let q = Math.ceil(x / y);
  if (q * y < x) q++;
  else if ((q - 1) * y >= x) q--;
  return q;
}
