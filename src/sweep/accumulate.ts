import { type PointResult } from "./evaluate.js";
import { FIGURE_NAMES, type FigureName } from "./figures.js";
import { ParetoSet, rankOrder, type Ranked } from "./pareto.js";
import { PlotSample } from "./plots.js";
import { type SweepPoint, type SweepSummary } from "./results.js";
import { pointParams } from "./space.js";
import { SmallestK } from "./smallest.js";
import { type Manifest } from "./store.js";

const CLOCK = FIGURE_NAMES.indexOf("clockMHz");
const CLOCK_ESTIMATE = FIGURE_NAMES.indexOf("clockEstimateMHz");

/** Whether a point's clock is its clock estimate rather than the budget's (figures in FIGURE_NAMES order). */
export function atClockEstimate(figures: readonly number[]): boolean {
  return figures[CLOCK] === figures[CLOCK_ESTIMATE];
}

/**
 * What a sweep reports of its points, gathered one point at a time in sample order, in memory that
 * does not grow with the number of points: the counts and drop reasons, the Pareto front of the
 * objectives (whose size is its own), the top K for --verify-top (a bounded heap), and the plots'
 * sample and fronts. The best point is the first of the front by the ranking: nothing dominates the
 * ranking's first point, so it is always on the front.
 */
export class SweepAccumulator {
  private evaluated = 0;
  private feasible = 0;
  private atClockEstimate = 0;
  private readonly dropped = { budget: {} as Record<string, number>, invalid: 0, constraint: {} as Record<string, number> };
  /** Counted per distinct reason, which depends on the axes' values, not on the number of points. */
  private readonly invalidReasons: Record<string, number> = {};
  private readonly front: ParetoSet<Ranked>;
  private readonly top: SmallestK<Ranked>;
  readonly plots: PlotSample;

  constructor(
    private readonly manifest: Manifest,
    topK = 0,
  ) {
    this.front = new ParetoSet(manifest.objectives);
    this.top = new SmallestK(topK, rankOrder(manifest.objectives));
    this.plots = new PlotSample(manifest);
  }

  add(r: PointResult): void {
    this.evaluated++;
    if (r.figures) {
      this.feasible++;
      if (atClockEstimate(r.figures)) this.atClockEstimate++;
      const p = { index: r.index, figures: r.figures };
      this.front.add(p);
      this.top.add(p);
      this.plots.add(p);
      return;
    }
    if (!r.reason) return;
    const colon = r.reason.indexOf(":");
    const [kind, what] = [r.reason.slice(0, colon), r.reason.slice(colon + 1)];
    const { dropped } = this;
    if (kind === "budget") dropped.budget[what] = (dropped.budget[what] ?? 0) + 1;
    else if (kind === "constraint") dropped.constraint[what] = (dropped.constraint[what] ?? 0) + 1;
    else {
      dropped.invalid++;
      this.invalidReasons[what] = (this.invalidReasons[what] ?? 0) + 1;
    }
  }

  /** A kept point with its parameters and named figures. */
  point(r: Ranked): SweepPoint {
    const figures = Object.fromEntries(FIGURE_NAMES.map((f, i) => [f, r.figures[i]!])) as Record<FigureName, number>;
    return { index: r.index, params: pointParams(this.manifest, r.index), figures };
  }

  /** The summary of the points so far (its plots not drawn yet). */
  summary(): SweepSummary {
    const front = this.front.front().map((p) => this.point(p));
    const topReasons = Object.entries(this.invalidReasons)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10);
    return {
      specHash: this.manifest.specHash,
      shard: this.manifest.shard,
      evaluated: this.evaluated,
      feasible: this.feasible,
      atClockEstimate: this.atClockEstimate,
      dropped: this.dropped,
      invalidReasons: Object.fromEntries(topReasons),
      objectives: this.manifest.objectives,
      best: front[0] ?? null,
      pareto: front,
      plots: [],
    };
  }

  /** The K best kept points, best first. */
  topPoints(): SweepPoint[] {
    return this.top.sorted().map((p) => this.point(p));
  }
}
