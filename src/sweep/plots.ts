import { join } from "node:path";
import { type TopLevelSpec } from "vega-lite";
import { renderVegaLite } from "../util/vega.js";
import { writeFileAtomic } from "../util/atomic.js";
import { FIGURE_NAMES, FIGURES, type FigureName } from "./figures.js";
import { type SweepPoint } from "./results.js";
import { SmallestK } from "./smallest.js";
import { type Manifest } from "./store.js";

/**
 * Trade-off plots of a sweep, drawn with vega-lite and rendered to SVG by vega in Node (no
 * browser): the kept points (every one, or a bounded sample of a large sweep), and the two-figure
 * Pareto front of each plot's pair, over every kept point, drawn over them. The plots are the first
 * objective against each other objective, plus decode tokens/s against LUTs and URAM and time to
 * first token against LUTs. Every time is at the point's own clock (clockMHz); when some points run
 * at their clock estimate, below the budget's clock, their marks are triangles and the subtitle
 * counts them. PlotSample gathers what the plots draw as the points stream past, in memory
 * independent of the number of points.
 */

/** Points drawn behind a front at most: an SVG of a million marks helps nobody. */
export const MAX_DRAWN = 4000;

/** A kept point as the plots hold it: figures in FIGURE_NAMES order. */
interface Kept {
  readonly index: number;
  readonly figures: readonly number[];
}

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
  const n = (v: number): string => v.toLocaleString("en-US");
  const atEstimate = points.filter(limited).length;
  const clockNote = atEstimate > 0 ? `; ${atEstimate} drawn point${atEstimate === 1 ? "" : "s"} at their own clock estimate (triangles), below the budget's clock` : "";
  // a sampled plot says so on a line of its own: the front is of every kept point, the marks a sample
  const subtitle =
    total > points.length
      ? [`Pareto front in red, of all ${n(total)} kept points; times at each point's clock`, `a sample of ${n(points.length)} of them drawn${clockNote}`]
      : `Pareto front in red; times at each point's clock${clockNote}`;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${FIGURES[y].label} vs ${FIGURES[x].label}`, subtitle },
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

/** Points drawn when a sweep keeps more than MAX_DRAWN: the ones whose index hashes lowest. */
function sampleKey(index: number): number {
  const mix = (v: number): number => {
    let h = v >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return mix(mix(index) ^ mix(Math.floor(index / 2 ** 32) + 0x9e3779b9));
}

/**
 * The two-figure Pareto front of one plot's pair, kept as points arrive in any order. Members are
 * held best-first in x (then y, then index), so their y strictly improves along the list: a point
 * is on the front when no point before it in that order has a y as good. A newcomer is placed by
 * binary search, turned away by the member just before it, or evicts the run of members after it
 * whose y it matches or beats; the result is the same set whatever the arrival order.
 */
class PairFront {
  private readonly members: { x: number; y: number; p: Kept }[] = [];
  private readonly cx: number;
  private readonly cy: number;
  private readonly sx: number;
  private readonly sy: number;

  constructor(y: FigureName, x: FigureName, goal: (f: FigureName) => "maximize" | "minimize") {
    this.cx = FIGURE_NAMES.indexOf(x);
    this.cy = FIGURE_NAMES.indexOf(y);
    this.sx = goal(x) === "maximize" ? -1 : 1;
    this.sy = goal(y) === "maximize" ? -1 : 1;
  }

  add(p: Kept): void {
    const x = this.sx * p.figures[this.cx]!;
    const y = this.sy * p.figures[this.cy]!;
    const m = this.members;
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = m[mid]!;
      if (q.x < x || (q.x === x && (q.y < y || (q.y === y && q.p.index < p.index)))) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && m[lo - 1]!.y <= y) return;
    let end = lo;
    while (end < m.length && m[end]!.y >= y) end++;
    m.splice(lo, end - lo, { x, y, p });
  }

  /** The front in the order the plot's line joins it. */
  points(): Kept[] {
    return this.members.map((f) => f.p);
  }
}

/** What the plots draw, gathered point by point: a bounded sample of the kept points and each pair's front. */
export class PlotSample {
  readonly pairs: [FigureName, FigureName][];
  private readonly fronts: PairFront[];
  private readonly sample = new SmallestK<Kept & { key: number }>(MAX_DRAWN, (a, b) => a.key - b.key || a.index - b.index);
  private kept = 0;

  constructor(manifest: Manifest) {
    const goal = (f: FigureName): "maximize" | "minimize" => manifest.objectives.find((o) => o.figure === f)?.goal ?? FIGURES[f].goal;
    this.pairs = pairs(manifest.objectives);
    this.fronts = this.pairs.map(([y, x]) => new PairFront(y, x, goal));
  }

  add(p: Kept): void {
    this.kept++;
    this.sample.add({ index: p.index, figures: p.figures, key: sampleKey(p.index) });
    for (const f of this.fronts) f.add(p);
  }

  /** Every kept point when there are at most MAX_DRAWN of them, else the sample; by index. */
  drawn(): Kept[] {
    return this.sample.sorted().sort((a, b) => a.index - b.index);
  }

  front(pair: number): Kept[] {
    return this.fronts[pair]!.points();
  }

  get total(): number {
    return this.kept;
  }
}

/** Draws the plots into DIR/plots and returns their paths relative to DIR. */
export async function drawPlots(dir: string, manifest: Manifest, sample: PlotSample, asPoint: (p: Kept) => SweepPoint): Promise<string[]> {
  if (sample.total === 0) return [];
  const drawn = sample.drawn().map(asPoint);
  const colour = colourAxis(manifest);
  const written: string[] = [];
  for (const [i, [y, x]] of sample.pairs.entries()) {
    const name = `plots/${y}-vs-${x}.svg`;
    const svg = await renderVegaLite(spec(drawn, sample.front(i).map(asPoint), y, x, colour, sample.total));
    writeFileAtomic(join(dir, name), svg);
    written.push(name);
  }
  return written;
}
