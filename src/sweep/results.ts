import { type FigureName } from "./figures.js";
import { type AxisValue } from "./spec.js";
import { type Manifest } from "./store.js";

/** One kept point of a sweep: its index in the space, its axis values and its figures. */
export interface SweepPoint {
  readonly index: number;
  readonly params: Record<string, AxisValue>;
  readonly figures: Record<FigureName, number>;
}

/** What summary.json holds. */
export interface SweepSummary {
  readonly specHash: string;
  readonly shard: string | null;
  readonly evaluated: number;
  readonly feasible: number;
  /**
   * Kept points whose clock estimate limits their clock (clockMHz = clockEstimateMHz, below or at
   * the budget's): their times are at that clock, not the budget's.
   */
  readonly atClockEstimate: number;
  readonly dropped: { readonly budget: Record<string, number>; readonly invalid: number; readonly constraint: Record<string, number> };
  /** A few of the reasons engines could not be built, with how many points each ruled out. */
  readonly invalidReasons: Record<string, number>;
  readonly objectives: Manifest["objectives"];
  readonly best: SweepPoint | null;
  readonly pareto: SweepPoint[];
  readonly plots: string[];
}

