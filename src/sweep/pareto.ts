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

/** The ranking's order: by the first objective, then the next, then the index. */
export function rankOrder(objectives: readonly Objective[]): (a: Ranked, b: Ranked) => number {
  const key = keyFor(objectives);
  return (a, b) => compareKeys(key(a), key(b)) || a.index - b.index;
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

const dominates = (a: readonly number[], b: readonly number[]): boolean => a.every((v, i) => v <= b[i]!) && a.some((v, i) => v < b[i]!);

/**
 * The Pareto front of a stream of points, kept as they arrive in any order: a point enters if no
 * member dominates it and evicts the members it dominates. Domination is a strict partial order, so
 * what remains is the set of non-dominated points whatever the order (the paretoFront of them all),
 * and memory is the front's size, not the stream's.
 */
export class ParetoSet<P extends Ranked> {
  private readonly key: (p: Ranked) => number[];
  private members: { p: P; k: number[] }[] = [];
  /** The member that last turned a point away: most points are dominated by the same few. */
  private lastDominator = 0;

  constructor(private readonly objectives: readonly Objective[]) {
    this.key = keyFor(objectives);
  }

  get size(): number {
    return this.members.length;
  }

  add(p: P): void {
    const k = this.key(p);
    const m = this.members;
    const last = m[this.lastDominator];
    if (last && dominates(last.k, k)) return;
    for (let i = 0; i < m.length; i++) {
      if (dominates(m[i]!.k, k)) {
        this.lastDominator = i;
        return;
      }
    }
    this.members = m.filter((f) => !dominates(k, f.k));
    this.members.push({ p, k });
    this.lastDominator = 0;
  }

  /** The front, best first (the ranking's order, as paretoFront gives it). */
  front(): P[] {
    return rank(
      this.members.map((f) => f.p),
      this.objectives,
    );
  }
}

export function objectivesOf(figures: readonly FigureName[], goal: (f: FigureName) => Objective["goal"]): Objective[] {
  return figures.map((figure) => ({ figure, goal: goal(figure) }));
}
