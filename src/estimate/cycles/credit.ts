import { type MemoryTiming } from "../../budget/memory.js";

/**
 * The memory's bandwidth credit rule (sim/trilut_memory.h; src/sim/memory.ts is its step-mode
 * copy), written once for the cycle models: each cycle adds bwNum to a credit capped at two beats,
 * and a beat goes in a cycle whose credit covers one, which it then spends (cost = beatBytes ·
 * bwDen, in units of 1/bwDen byte: the bandwidth bwNum/bwDen bytes a cycle stays in integers).
 * The event model (./event.ts) applies it cycle by cycle, CreditPort below in closed form.
 */
export class CreditRule {
  /** A beat, in units of 1/bwDen byte. */
  readonly cost: number;
  /** The most credit the port keeps: two beats. */
  readonly cap: number;
  /** Credit added per cycle. */
  readonly bw: number;

  constructor(beatBytes: number, memory: MemoryTiming) {
    this.cost = beatBytes * memory.bwDen;
    this.cap = 2 * this.cost;
    this.bw = memory.bwNum;
  }

  /** The credit `cycles` cycles of accrual after `credit`, no beat going meanwhile. */
  accrue(credit: number, cycles: number): number {
    return Math.min(this.cap, credit + this.bw * cycles);
  }

  /** Whether a credit lets a beat go. */
  covers(credit: number): boolean {
    return credit >= this.cost;
  }

  /** Cycles of accrual until `credit` covers a beat (0 when it does already). */
  cyclesToCover(credit: number): number {
    return credit >= this.cost ? 0 : ceilDiv(this.cost - credit, this.bw);
  }
}

/**
 * The memory port of sim/trilut_memory.h as closed forms of the credit rule. The port remembers
 * its last beat E and the credit R left after it, which is all the past that matters: the credit
 * in a later cycle t, before any other beat, is min(cap, R + bwNum · (t − E)).
 */
export class CreditPort extends CreditRule {
  /** Cycle of the last beat, and the credit left after it (before any beat: cycle −1, none). */
  E = -1;
  R = 0;

  /** The credit in cycle t (after its increment) if no beat goes between the last one and t. */
  creditAt(t: number): number {
    return this.accrue(this.R, t - this.E);
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
