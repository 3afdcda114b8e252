import { rmSync } from "node:fs";
import { join } from "node:path";
import { openTextFileAtomic, writeFileAtomic, yieldToSignals, type AtomicTextFile } from "../util/atomic.js";
import { SweepAccumulator } from "./accumulate.js";
import { FIGURE_NAMES } from "./figures.js";
import { drawPlots } from "./plots.js";
import { type AxisValue } from "./spec.js";
import { chunksInOrder, type Manifest } from "./store.js";
import { type SweepPoint, type SweepSummary } from "./results.js";
import { RESOURCE_NAMES, type Budgeted } from "../estimate/resources.js";

/**
 * What a sweep writes from its evaluated points: points.json and points.csv (every kept point with
 * its parameters and figures), pareto.json (the non-dominated points for the objectives),
 * summary.json (counts, why points were dropped, the best point) and plots/*.svg. All of it is a
 * function of the manifest and the points, with no times or paths in it: a resumed, sharded or
 * merged sweep writes the same bytes. The chunks are read one at a time and each point passes once:
 * it is written to points.json and points.csv as it goes (streams, never one string) and gathered
 * into the summary by a SweepAccumulator, so memory does not grow with the number of points.
 */

/**
 * Largest sample (points evaluated, kept or not) that also gets points.json. Beyond it only
 * points.csv lists the points: a million kept points make a JSON document of over 500 MB, more than
 * a JavaScript string holds (JSON.parse cannot read it) and more than most tools load comfortably,
 * while the CSV streams line by line. Decided by the whole sample's size, so a resumed, sharded or
 * merged sweep decides alike.
 */
export const POINTS_JSON_MAX = 250_000;

export function writesPointsJson(manifest: Pick<Manifest, "count">): boolean {
  return manifest.count <= POINTS_JSON_MAX;
}

const csvCell = (v: AxisValue): string => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));

/** points.json and points.csv, a point at a time: the bytes JSON.stringify and a joined table would give. */
class PointsWriter {
  private readonly json: AtomicTextFile | undefined;
  private readonly csv: AtomicTextFile;
  private readonly axes: string[];
  private first = true;

  constructor(dir: string, manifest: Manifest) {
    this.axes = manifest.axes.map((a) => a.name);
    this.json = writesPointsJson(manifest) ? openTextFileAtomic(join(dir, "points.json")) : undefined;
    try {
      this.csv = openTextFileAtomic(join(dir, "points.csv"));
    } catch (err) {
      this.json?.abandon();
      throw err;
    }
    // {"specHash":...,"axes":[...],"points":[ ... ]}
    this.json?.write(JSON.stringify({ specHash: manifest.specHash, axes: this.axes }).slice(0, -1) + ',"points":[');
    this.csv.write(["index", ...this.axes, ...FIGURE_NAMES].join(",") + "\n");
  }

  add(p: SweepPoint): void {
    this.json?.write((this.first ? "" : ",") + JSON.stringify(p));
    this.first = false;
    this.csv.write([p.index, ...this.axes.map((a) => csvCell(p.params[a]!)), ...FIGURE_NAMES.map((f) => p.figures[f])].join(",") + "\n");
  }

  commit(): void {
    this.json?.write("]}\n");
    this.json?.commit();
    this.csv.commit();
  }

  abandon(): void {
    this.json?.abandon();
    this.csv.abandon();
  }
}

export interface SweepOutputs {
  readonly summary: SweepSummary;
  /** The `top` best kept points, best first (for --verify-top). */
  readonly top: SweepPoint[];
}

/** Writes the derived outputs of DIR from its `chunks` and returns the summary and the top points. */
export async function writeOutputs(dir: string, manifest: Manifest, chunks: Iterable<number>, top = 0): Promise<SweepOutputs> {
  const acc = new SweepAccumulator(manifest, top);
  if (!writesPointsJson(manifest)) rmSync(join(dir, "points.json"), { force: true });
  const points = new PointsWriter(dir, manifest);
  try {
    for (const results of chunksInOrder(dir, chunks)) {
      for (const r of results) {
        acc.add(r);
        if (r.figures) points.add(acc.point({ index: r.index, figures: r.figures }));
      }
      await yieldToSignals(); // Ctrl-C between chunks
    }
    points.commit();
  } catch (err) {
    points.abandon();
    throw err;
  }
  const summary = acc.summary();
  const plots = await drawPlots(dir, manifest, acc.plots, (p) => acc.point(p));
  const full: SweepSummary = { ...summary, plots };
  writeFileAtomic(join(dir, "pareto.json"), JSON.stringify({ objectives: manifest.objectives, points: full.pareto }, null, 1) + "\n");
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(full, null, 1) + "\n");
  return { summary: full, top: acc.topPoints() };
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
