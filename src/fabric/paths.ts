import { type DelayModel, type PathShape, type PathStep } from "./delays.js";

/**
 * A register-to-register path of a hardware module, as the analytic clock estimate sees it: the
 * levels of logic between its start and end, written the way yosys maps the RTL (which LUT feeds
 * which carry chain), timed with the delay model of ./delays.ts.
 */
export interface ClockPath {
  /** The module whose register (or memory) the path ends in. */
  module: string;
  /** What the path does, for reports. */
  what: string;
  shape: PathShape;
}

/** A LUT feeding a carry chain of `bits` bits: one adder or comparator. */
export const adderSteps = (bits: number): PathStep[] => ["lut", { carry: bits }];

export const repeatStep = (step: PathStep, n: number): PathStep[] => Array.from({ length: Math.max(0, n) }, () => step);

/** An n:1 multiplexer: a LUT6 selects 1 of 4, MUXF7/F8 (and F9 on UltraScale+) widen it in the slice. */
export function muxSteps(n: number, m: DelayModel): PathStep[] {
  if (n <= 1) return [];
  const perSlice = m.family === "7series" ? 16 : 32; // LUT6 + F7 + F8 (+ F9)
  const first: PathStep[] = ["lut"];
  for (let w = 4; w < Math.min(n, perSlice); w *= 2) first.push("muxf");
  return n <= perSlice ? first : [...first, ...muxSteps(Math.ceil(n / perSlice), m)];
}

/** Paths collected by a unit: `path(module, what, start, steps, end)` adds one. */
export class PathList {
  readonly paths: ClockPath[] = [];
  add(module: string, what: string, start: PathShape["start"], steps: PathStep[], end: PathShape["end"]): void {
    this.paths.push({ module, what, shape: { start, steps, end } });
  }
}
