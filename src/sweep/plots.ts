import { join } from "node:path";
import { type TopLevelSpec } from "vega-lite";
import { renderVegaLite } from "../util/vega.js";
import { writeFileAtomic } from "../util/atomic.js";
import { FIGURES, type FigureName } from "./figures.js";
import { type SweepPoint, type SweepSummary } from "./results.js";
import { type Manifest } from "./store.js";

/**
 * Trade-off plots of a sweep, drawn with vega-lite and rendered to SVG by vega in Node (no
 * browser): every kept point, and the two-figure Pareto front of each plot's pair drawn over them.
 * The plots are the first objective against each other objective, plus decode tokens/s against
 * LUTs and URAM and time to first token against LUTs. Every time is at the point's own clock
 * (clockMHz); when some points run at their clock estimate, below the budget's clock, their marks
 * are triangles and the subtitle counts them.
 */

/** Points drawn behind a front at most: an SVG of a million marks helps nobody. */
const MAX_DRAWN = 4000;

const STANDARD_PAIRS: readonly [FigureName, FigureName][] = [
  ["decodeTokensPerSecond", "lutTotal"],
  ["decodeTokensPerSecond", "uram"],
  ["ttftSeconds", "lutTotal"],
];

function pairs(objectives: Manifest["objectives"]): [FigureName, FigureName][] {
  const out: [FigureName, FigureName][] = [];
  const add = (y: FigureName, x: FigureName): void => {
    if (x !== y && !out.some(([a, b]) => (a === y && b === x) || (a === x && b === y))) out.push([y, x]);
  };
  for (const o of objectives.slice(1)) add(objectives[0]!.figure, o.figure);
  for (const [y, x] of STANDARD_PAIRS) add(y, x);
  return out;
}

/** The axis that colours the points: the first categorical axis that varies (kind, encoding, budget...). */
function colourAxis(manifest: Manifest): string | undefined {
  const varies = manifest.axes.filter((a) => a.values.length > 1);
  return (varies.find((a) => a.name === "kind") ?? varies.find((a) => typeof a.values[0] === "string") ?? varies.find((a) => a.name === "G"))?.name;
}

function spec(points: readonly SweepPoint[], front: readonly SweepPoint[], y: FigureName, x: FigureName, colour: string | undefined, total: number): TopLevelSpec {
  const limited = (p: SweepPoint): boolean => p.figures.clockMHz === p.figures.clockEstimateMHz;
  const row = (p: SweepPoint, layer: string): Record<string, unknown> => ({
    x: p.figures[x],
    y: p.figures[y],
    layer,
    ...(colour ? { colour: String(p.params[colour]) } : {}),
    clock: limited(p) ? "its clock estimate" : "the budget's",
    clockMHz: p.figures.clockMHz,
    index: p.index,
  });
  const shown = total > points.length ? ` (${points.length} of ${total} kept points drawn)` : "";
  const atEstimate = points.filter(limited).length;
  const clockNote = atEstimate > 0 ? `; ${atEstimate} drawn point${atEstimate === 1 ? "" : "s"} at their own clock estimate (triangles), below the budget's clock` : "";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${FIGURES[y].label} vs ${FIGURES[x].label}`, subtitle: `Pareto front in red${shown}; times at each point's clock${clockNote}` },
    width: 480,
    height: 320,
    layer: [
      {
        data: { values: points.map((p) => row(p, "points")) },
        mark: { type: "point", filled: true, size: 14, opacity: 0.45 },
        encoding: {
          x: { field: "x", type: "quantitative", title: FIGURES[x].label, scale: { zero: false } },
          y: { field: "y", type: "quantitative", title: FIGURES[y].label, scale: { zero: false } },
          ...(colour ? { color: { field: "colour", type: "nominal", title: colour } } : { color: { value: "#7a7a7a" } }),
          ...(atEstimate > 0
            ? { shape: { field: "clock", type: "nominal", title: "clock", scale: { domain: ["the budget's", "its clock estimate"], range: ["circle", "triangle-up"] } } }
            : {}),
        },
      },
      {
        data: { values: front.map((p) => row(p, "front")) },
        mark: { type: "line", point: { filled: true, size: 40, color: "#d62728" }, color: "#d62728", interpolate: "step-after" },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          order: { field: "x", type: "quantitative" },
        },
      },
    ],
  };
}

/** Draws the plots into DIR/plots and returns their paths relative to DIR. */
export async function drawPlots(dir: string, manifest: Manifest, points: readonly SweepPoint[], summary: Pick<SweepSummary, "feasible">): Promise<string[]> {
  if (points.length === 0) return [];
  const stride = Math.max(1, Math.ceil(points.length / MAX_DRAWN));
  const drawn = points.filter((_, i) => i % stride === 0);
  const colour = colourAxis(manifest);
  const written: string[] = [];
  for (const [y, x] of pairs(manifest.objectives)) {
    const goal = (f: FigureName): "maximize" | "minimize" => manifest.objectives.find((o) => o.figure === f)?.goal ?? FIGURES[f].goal;
    const name = `plots/${y}-vs-${x}.svg`;
    const svg = await renderVegaLite(spec(drawn, frontOf(points, y, x, goal), y, x, colour, summary.feasible));
    writeFileAtomic(join(dir, name), svg);
    written.push(name);
  }
  return written;
}

/** The Pareto front of two figures (a plot's own pair, not the spec's objectives). */
function frontOf(points: readonly SweepPoint[], y: FigureName, x: FigureName, goal: (f: FigureName) => "maximize" | "minimize"): SweepPoint[] {
  const sy = goal(y) === "maximize" ? -1 : 1;
  const sx = goal(x) === "maximize" ? -1 : 1;
  // sort by x (better first), then y: a point is on the front when its y beats every y before it
  const sorted = [...points].sort((a, b) => sx * (a.figures[x] - b.figures[x]) || sy * (a.figures[y] - b.figures[y]) || a.index - b.index);
  const front: SweepPoint[] = [];
  let bestY = Infinity;
  for (const p of sorted) {
    const v = sy * p.figures[y];
    if (v < bestY) {
      front.push(p);
      bestY = v;
    }
  }
  return front;
}
