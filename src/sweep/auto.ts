import { resolve } from "node:path";
import { UserError } from "../util/errors.js";
import { PointEvaluator } from "./evaluate.js";
import { FIGURE_NAMES, FIGURES, type FigureName } from "./figures.js";
import { SweepAccumulator } from "./accumulate.js";
import { nothingFits } from "./outputs.js";
import { type SweepPoint } from "./results.js";
import { prepareSweep } from "./run.js";
import { pointAt } from "./space.js";
import { RUN_AXIS_DEFAULTS, sweepSpecOf } from "./spec.js";

/**
 * `trilut compile --auto`: the engine a sweep would choose for a model and a budget. The search
 * space is every table-lookup engine of G 2..5, both encodings, T and P 1..64 and c 1..4 (the
 * fields the user fixes with --set or an engine file are left out of it); the objectives default
 * to decode tokens/s, then fewest LUTs. Each engine is ranked at its own clock (the budget's, or
 * its clock estimate when lower), so a deep engine never wins on a clock it cannot reach.
 */
export const AUTO_AXES = {
  G: [2, 3, 4, 5],
  encoding: ["full", "mirrored"],
  T: { from: 1, to: 64 },
  P: { from: 1, to: 64 },
  c: [1, 2, 3, 4],
} as const;

export const AUTO_OBJECTIVES: readonly FigureName[] = ["decodeTokensPerSecond", "lutTotal"];

export interface AutoChoice {
  readonly point: SweepPoint;
  /** The chosen engine as --set key=value pairs (the fixed fields included). */
  readonly set: string[];
  readonly searched: number;
  readonly feasible: number;
}

export function autoEngine(opts: {
  model: string;
  budget: string;
  fixed: Readonly<Record<string, unknown>>;
  objectives?: readonly string[] | undefined;
}): AutoChoice {
  const objectives = opts.objectives?.length ? opts.objectives : AUTO_OBJECTIVES;
  for (const o of objectives) {
    if (!(FIGURE_NAMES as readonly string[]).includes(o)) throw new UserError(`--objective ${o}: expected one of ${FIGURE_NAMES.join(", ")}`);
  }
  const axes = Object.fromEntries(Object.entries(AUTO_AXES).filter(([k]) => !(k in opts.fixed)));
  const spec = sweepSpecOf(
    { model: resolve(opts.model), budgets: [opts.budget], engine: { kind: "tlmm", ...opts.fixed }, axes, objectives: [...objectives] },
    "compile --auto",
  );
  const { inputs, manifest } = prepareSweep(spec, "compile --auto", undefined);
  const ev = new PointEvaluator(inputs);
  const acc = new SweepAccumulator(manifest);
  for (let pos = 0; pos < inputs.space.count; pos++) acc.add(ev.evaluate(pointAt(inputs.space, pos)));
  const summary = acc.summary();
  if (!summary.best) throw new UserError(nothingFits(summary, Object.keys(inputs.budgets)));
  const point = summary.best;
  const set = [
    ...Object.entries(opts.fixed).map(([k, v]) => `${k}=${String(v)}`),
    ...Object.entries(point.params)
      .filter(([k]) => k in AUTO_AXES)
      .map(([k, v]) => `${k}=${String(v)}`),
  ];
  return { point, set, searched: summary.evaluated, feasible: summary.feasible };
}

/** One line on the choice: the engine and what it is predicted to do. */
export function describeChoice(c: AutoChoice, objectives: readonly string[] = AUTO_OBJECTIVES): string {
  const f = c.point.figures;
  const by = objectives.map((o) => FIGURES[o as FigureName].label).join(", then ");
  const clock =
    f.clockMHz === f.clockEstimateMHz
      ? `at ${f.clockMHz} MHz, its own clock estimate, below the budget's clock`
      : `at the budget's ${f.clockMHz} MHz (clock estimate ${f.clockEstimateMHz} MHz)`;
  return (
    `--auto: searched ${c.searched.toLocaleString("en-US")} engines, ${c.feasible.toLocaleString("en-US")} fit; best by ${by}: ${c.set.join(" ")} ` +
    `(predicted ${clock}: ${f.decodeTokensPerSecond.toFixed(1)} decode tokens/s, TTFT ${(f.ttftSeconds * 1e3).toFixed(1)} ms for ${RUN_AXIS_DEFAULTS.prompt} tokens, ` +
    `${f.lutTotal.toLocaleString("en-US")} LUTs, ${f.uram} URAM)`
  );
}
