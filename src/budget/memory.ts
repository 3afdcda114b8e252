import { type Budget } from "./budget.js";
import { UserError } from "../util/errors.js";

/** The memory model's timing in engine cycles, in integers so simulation and model agree exactly. */
export interface MemoryTiming {
  /** Bandwidth: bwNum / bwDen bytes per engine cycle. */
  readonly bwNum: number;
  readonly bwDen: number;
  /** Cycles from an accepted request to its first data beat. */
  readonly latency: number;
  /** Requests the memory accepts before it stops taking more. */
  readonly maxQueued: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Bytes per cycle = GB/s · 1000 / MHz, kept as an exact fraction of the budget's figures. */
export function memoryTiming(budget: Budget): MemoryTiming {
  if (!(budget.memoryGBps > 0)) throw new UserError(`budget ${budget.device}: memory bandwidth must be above zero`);
  let num = Math.round(budget.memoryGBps * 1e6);
  let den = Math.round(budget.clockMHz * 1e3);
  const d = gcd(num, den);
  num /= d;
  den /= d;
  return { bwNum: num, bwDen: den, latency: Math.ceil((budget.memoryLatencyNs * budget.clockMHz) / 1000), maxQueued: 16 };
}

export function bytesPerCycle(m: MemoryTiming): number {
  return m.bwNum / m.bwDen;
}
