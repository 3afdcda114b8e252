import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { FIGURE_NAMES, type FigureName } from "./figures.js";
import { type PointResult } from "./evaluate.js";
import { paretoFront, rank } from "./pareto.js";
import { drawPlots } from "./plots.js";
import { pointParams, type Space } from "./space.js";
import { type AxisValue } from "./spec.js";
import { type Manifest } from "./store.js";
import { type SweepPoint, type SweepSummary } from "./results.js";
import { RESOURCE_NAMES, type Budgeted } from "../estimate/resources.js";

/**
 * What a sweep writes from its evaluated points: points.json and points.csv (every kept point with
 * its parameters and figures), pareto.json (the non-dominated points for the objectives),
 * summary.json (counts, why points were dropped, the best point) and plots/*.svg. All of it is a
 * function of the manifest and the points, with no times or paths in it: a resumed, sharded or
 * merged sweep writes the same bytes.
 */

const CLOCK = FIGURE_NAMES.indexOf("clockMHz");
const CLOCK_ESTIMATE = FIGURE_NAMES.indexOf("clockEstimateMHz");

/** Whether a point's clock is its clock estimate rather than the budget's (figures in FIGURE_NAMES order). */
export function atClockEstimate(figures: readonly number[]): boolean {
  return figures[CLOCK] === figures[CLOCK_ESTIMATE];
}

function asPoint(space: Pick<Space, "axes">, r: PointResult): SweepPoint {
  const figures = Object.fromEntries(FIGURE_NAMES.map((f, i) => [f, r.figures![i]!])) as Record<FigureName, number>;
  return { index: r.index, params: pointParams(space, r.index), figures };
}

function csv(manifest: Manifest, points: readonly SweepPoint[]): string {
  const axes = manifest.axes.map((a) => a.name);
  const cell = (v: AxisValue): string => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  const lines = [["index", ...axes, ...FIGURE_NAMES].join(",")];
  for (const p of points) lines.push([p.index, ...axes.map((a) => cell(p.params[a]!)), ...FIGURE_NAMES.map((f) => p.figures[f])].join(","));
  return lines.join("\n") + "\n";
}

export function summarize(manifest: Manifest, results: readonly PointResult[]): { summary: SweepSummary; points: SweepPoint[] } {
  const kept = results.filter((r) => r.figures);
  const dropped = { budget: {} as Record<string, number>, invalid: 0, constraint: {} as Record<string, number> };
  const invalidReasons: Record<string, number> = {};
  for (const r of results) {
    if (!r.reason) continue;
    const [kind, what] = [r.reason.slice(0, r.reason.indexOf(":")), r.reason.slice(r.reason.indexOf(":") + 1)];
    if (kind === "budget") dropped.budget[what] = (dropped.budget[what] ?? 0) + 1;
    else if (kind === "constraint") dropped.constraint[what] = (dropped.constraint[what] ?? 0) + 1;
    else {
      dropped.invalid++;
      invalidReasons[what] = (invalidReasons[what] ?? 0) + 1;
    }
  }
  const ranked = rank(kept.map((r) => ({ index: r.index, figures: r.figures! })), manifest.objectives);
  const front = paretoFront(ranked, manifest.objectives);
  const toPoint = (r: { index: number; figures: readonly number[] }): SweepPoint => asPoint(manifest, { index: r.index, figures: [...r.figures] });
  const topReasons = Object.entries(invalidReasons)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 10);
  const summary: SweepSummary = {
    specHash: manifest.specHash,
    shard: manifest.shard,
    evaluated: results.length,
    feasible: kept.length,
    atClockEstimate: kept.filter((r) => atClockEstimate(r.figures!)).length,
    dropped,
    invalidReasons: Object.fromEntries(topReasons),
    objectives: manifest.objectives,
    best: ranked.length > 0 ? toPoint(ranked[0]!) : null,
    pareto: front.map(toPoint),
    plots: [],
  };
  return { summary, points: kept.map((r) => asPoint(manifest, r)) };
}

/** The k best kept points, best first. */
export function topPoints(manifest: Manifest, results: readonly PointResult[], k: number): SweepPoint[] {
  const kept = results.filter((r) => r.figures).map((r) => ({ index: r.index, figures: r.figures! }));
  return rank(kept, manifest.objectives)
    .slice(0, k)
    .map((r) => asPoint(manifest, r));
}

/** Writes the derived outputs of DIR and returns the summary. */
export async function writeOutputs(dir: string, manifest: Manifest, results: readonly PointResult[]): Promise<SweepSummary> {
  const { summary, points } = summarize(manifest, results);
  const plots = await drawPlots(dir, manifest, points, summary);
  const full: SweepSummary = { ...summary, plots };
  writeFileAtomic(join(dir, "points.json"), JSON.stringify({ specHash: manifest.specHash, axes: manifest.axes.map((a) => a.name), points }) + "\n");
  writeFileAtomic(join(dir, "points.csv"), csv(manifest, points));
  writeFileAtomic(join(dir, "pareto.json"), JSON.stringify({ objectives: manifest.objectives, points: full.pareto }, null, 1) + "\n");
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(full, null, 1) + "\n");
  return full;
}

/**
 * Why nothing fits, in one line: each budgeted resource with the points it ruled out, the
 * constraints and invalid engines likewise.
 */
export function nothingFits(summary: SweepSummary, budgets: readonly string[]): string {
  const parts: string[] = [];
  const budget = Object.entries(summary.dropped.budget).sort((a, b) => b[1] - a[1]);
  for (const [key, n] of budget) parts.push(`${RESOURCE_NAMES[key as Budgeted] ?? key} rules out ${n}`);
  for (const [key, n] of Object.entries(summary.dropped.constraint)) parts.push(`the constraint on ${key} rules out ${n}`);
  if (summary.dropped.invalid > 0) {
    const [reason] = Object.keys(summary.invalidReasons);
    parts.push(`${summary.dropped.invalid} are not buildable engines (e.g. ${reason})`);
  }
  return `no point of the sweep fits ${budgets.join(", ")}: of ${summary.evaluated} points, ${parts.join("; ")}`;
}
