import { FIGURE_NAMES, type FigureName } from "./figures.js";
import { type Objective } from "./spec.js";

/**
 * Ranking and Pareto fronts of kept points. Points are compared on their objectives, each turned
 * into "smaller is better" (a maximized figure negated); ties fall to the point index, so every
 * order is total and every run agrees on it.
 */
export interface Ranked {
  readonly index: number;
  readonly figures: readonly number[];
}

function keyFor(objectives: readonly Objective[]): (p: Ranked) => number[] {
  const cols = objectives.map((o) => ({ col: FIGURE_NAMES.indexOf(o.figure), sign: o.goal === "maximize" ? -1 : 1 }));
  return (p) => cols.map(({ col, sign }) => sign * p.figures[col]!);
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Points best first: by the first objective, then the next, then the index. */
export function rank<P extends Ranked>(points: readonly P[], objectives: readonly Objective[]): P[] {
  const key = keyFor(objectives);
  const keyed = points.map((p) => ({ p, k: key(p) }));
  keyed.sort((a, b) => compareKeys(a.k, b.k) || a.p.index - b.p.index);
  return keyed.map((x) => x.p);
}

/**
 * The non-dominated points: none is at least as good on every objective and better on one. Walking
 * the ranking, a point can only be dominated by one before it, and then by a member of the front
 * (domination is transitive), so each point is checked against the front alone.
 */
export function paretoFront<P extends Ranked>(points: readonly P[], objectives: readonly Objective[]): P[] {
  const key = keyFor(objectives);
  const front: { p: P; k: number[] }[] = [];
  for (const p of rank(points, objectives)) {
    const k = key(p);
    const dominated = front.some((f) => f.k.every((v, i) => v <= k[i]!) && f.k.some((v, i) => v < k[i]!));
    if (!dominated) front.push({ p, k });
  }
  return front.map((f) => f.p);
}

export function objectivesOf(figures: readonly FigureName[], goal: (f: FigureName) => Objective["goal"]): Objective[] {
  return figures.map((figure) => ({ figure, goal: goal(figure) }));
}
