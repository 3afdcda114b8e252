import { workloadAt } from "./model.js";
import { type Budget } from "../budget/budget.js";
import { DEFAULT_ENGINE, engineProblem, engineGeometry, widthFor, type EngineConfig, type EngineGeometry } from "../engine/config.js";
import { partDefaults } from "../plan/plan.js";
import { latencyFigures, prepareWorkload, type PreparedWorkload } from "../estimate/latency.js";
import { budgetShares, estimateResources, overrun, type ResourceEstimate } from "../estimate/resources.js";
import { type Workload } from "../model/workload.js";
import { FIGURE_NAMES, type Figures } from "./figures.js";
import { chunkRange, pointAt, pointParams, type Space } from "./space.js";
import { RUN_AXES, RUN_AXIS_DEFAULTS, type AxisValue, type SweepSpec } from "./spec.js";

/**
 * Evaluating one point of a sweep with the analytic models: the engine its parameters describe,
 * its resources against its budget, then its decode and prefill latency (the exact cycle model of
 * src/estimate, the one the simulator is checked against) at the engine's clock (the budget's, or
 * its own clock estimate when lower: engineClockMHz), then the spec's constraints. A point is kept
 * with its figures, or dropped with the first reason that rules it out.
 */
export interface SweepInputs {
  readonly spec: SweepSpec;
  readonly space: Space;
  readonly budgets: Readonly<Record<string, Budget>>;
  /** The model's workload at context length 1 (workloadAt: at any other). */
  readonly unitWorkload: Workload;
  readonly defaultContext: number;
  readonly maxContext: number | undefined;
}

/** Why a point was dropped: over a budgeted resource, an engine the parameters cannot build, or a constraint. */
export type DropReason = `budget:${string}` | `invalid:${string}` | `constraint:${string}`;

export interface PointResult {
  readonly index: number;
  /** Figures in FIGURE_NAMES order, for a kept point. */
  readonly figures?: number[];
  readonly reason?: DropReason;
}

/** A point's run parameters (its engine's fields aside). */
export interface RunParams {
  readonly budget: Budget;
  readonly mode: "decode" | "prefill";
  readonly prompt: number;
  readonly context: number;
}

export interface PointSetup {
  readonly cfg: EngineConfig;
  readonly run: RunParams;
}

/**
 * The engine and budget a point describes, or why no engine can be built from it ("/field: why"):
 * the budget (its clock replaced by the point's), the engine defaults, the part's defaults, the
 * spec's engine fields, then the point's engine axes. The spec's schema has already checked every
 * value, so only the checks between fields remain (engineProblem), answered without exceptions:
 * a sweep meets many. The sweep's report rebuilds its best engine with it too.
 */
export function pointEngine(
  budgets: Readonly<Record<string, Budget>>,
  specEngine: Partial<EngineConfig>,
  params: Readonly<Record<string, AxisValue>>,
): { cfg: EngineConfig; budget: Budget } | string {
  const base = budgets[params["budget"] as string]!;
  const budget = params["clock"] === undefined ? base : { ...base, clockMHz: params["clock"] as number };
  const cfg: Record<string, unknown> = { ...DEFAULT_ENGINE };
  Object.assign(cfg, partDefaults(budget), specEngine);
  for (const name in params) {
    if (name !== "budget" && !(name in RUN_AXES)) cfg[name] = params[name];
  }
  const engine = cfg as unknown as EngineConfig;
  // like resolveEngine: c widens to hold T indices unless the spec gives it
  if (!("c" in params) && specEngine.c === undefined) engine.c = widthFor(engine);
  const problem = engineProblem(engine);
  if (problem !== undefined) return problem;
  return { cfg: engine, budget };
}

/** The engine and run a point describes, or why no engine can be built from it. */
export function pointSetup(inputs: SweepInputs, params: Readonly<Record<string, AxisValue>>): PointSetup | string {
  const engine = pointEngine(inputs.budgets, inputs.spec.engine, params);
  if (typeof engine === "string") return engine;
  const { cfg, budget } = engine;
  const run: RunParams = {
    budget,
    mode: (params["mode"] as RunParams["mode"] | undefined) ?? RUN_AXIS_DEFAULTS.mode,
    prompt: (params["prompt"] as number | undefined) ?? RUN_AXIS_DEFAULTS.prompt,
    context: (params["context"] as number | undefined) ?? inputs.defaultContext,
  };
  return { cfg, run };
}

/**
 * Evaluates points: a few microseconds each (the resource model, then the fast form of the exact
 * streaming cycle model through latencyFigures), so no memo is worth its key.
 */
export class PointEvaluator {
  /** The workload prepared per context length, for the last few lengths met (a worker keeps its own). */
  private readonly prepared = new Map<number, PreparedWorkload>();

  constructor(private readonly inputs: SweepInputs) {}

  private preparedAt(context: number): PreparedWorkload {
    let p = this.prepared.get(context);
    if (!p) {
      // bounded: a context axis may hold a million lengths
      if (this.prepared.size >= 64) this.prepared.clear();
      this.prepared.set(context, (p = prepareWorkload(workloadAt(this.inputs.unitWorkload, context))));
    }
    return p;
  }

  evaluate(index: number): PointResult {
    const setup = pointSetup(this.inputs, pointParams(this.inputs.space, index));
    if (typeof setup === "string") return { index, reason: `invalid:${setup}` };
    const geo = engineGeometry(setup.cfg);
    const { budget } = setup.run;
    const need = estimateResources(geo, budget.family);
    const over = overrun(need, budget);
    if (over) return { index, reason: `budget:${over.key}` };
    const figures = this.figures(geo, setup.run, need);
    for (const c of this.inputs.spec.constraints) {
      const v = figures[c.figure];
      if ((c.min !== undefined && v < c.min) || (c.max !== undefined && v > c.max)) return { index, reason: `constraint:${c.figure}` };
    }
    return { index, figures: FIGURE_NAMES.map((f) => figures[f]) };
  }

  private figures(geo: EngineGeometry, run: RunParams, need: ResourceEstimate): Figures {
    const e = latencyFigures(this.preparedAt(run.context), geo, run.budget, [run.prompt]);
    const prefill = e.prefill[0]!;
    return {
      tokensPerSecond: run.mode === "decode" ? e.decodeTokensPerSecond : run.prompt / prefill.seconds,
      decodeTokensPerSecond: e.decodeTokensPerSecond,
      decodeCycles: e.decode.totalCycles,
      ttftSeconds: prefill.seconds,
      prefillTokensPerSecond: run.prompt / prefill.seconds,
      prefillCycles: prefill.totalCycles,
      rooflineFraction: e.decodeTokensPerSecond / e.rooflineTokensPerSecond,
      weightsPerCycle: geo.weightsPerCycle,
      clockMHz: e.clock.mhz,
      clockEstimateMHz: e.clock.estimateMHz,
      lut: need.lut,
      lutram: need.lutram,
      lutTotal: need.lut + need.lutram,
      ff: need.ff,
      carry: need.carry,
      bram36: need.bram36,
      uram: need.uram,
      dsp: need.dsp,
      utilization: Math.max(...Object.values(budgetShares(need, run.budget))),
    };
  }
}

/** Evaluates chunk c of the sample. */
export function evaluateChunk(ev: PointEvaluator, space: Space, c: number): PointResult[] {
  const [from, to] = chunkRange(space, c);
  const out: PointResult[] = [];
  for (let pos = from; pos < to; pos++) out.push(ev.evaluate(pointAt(space, pos)));
  return out;
}
