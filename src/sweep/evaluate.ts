import { type Budget } from "../budget/budget.js";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../engine/config.js";
import { estimateLatency } from "../estimate/latency.js";
import { estimateResources, overrun, type ResourceEstimate } from "../estimate/resources.js";
import { type Workload } from "../model/workload.js";
import { UserError } from "../util/errors.js";
import { FIGURE_NAMES, type Figures } from "./figures.js";
import { chunkRange, pointAt, pointParams, type Space } from "./space.js";
import { RUN_AXES, RUN_AXIS_DEFAULTS, type AxisValue, type SweepSpec } from "./spec.js";

/**
 * Evaluating one point of a sweep with the analytic models: the engine its parameters describe,
 * its resources against its budget, then its decode and prefill latency (the exact cycle model of
 * src/estimate, the one the simulator is checked against), then the spec's constraints. A point
 * is kept with its figures, or dropped with the first reason that rules it out.
 */
export interface SweepInputs {
  readonly spec: SweepSpec;
  readonly space: Space;
  readonly budgets: Readonly<Record<string, Budget>>;
  readonly workloads: ReadonlyMap<number, Workload>;
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

/** The engine and run a point describes; throws a UserError for an engine that cannot be built. */
export function pointSetup(inputs: SweepInputs, params: Readonly<Record<string, AxisValue>>): PointSetup {
  const base = inputs.budgets[params["budget"] as string]!;
  const budget = params["clock"] === undefined ? base : { ...base, clockMHz: params["clock"] as number };
  const partial: Record<string, unknown> = budget.uram === 0 ? { weightMemory: "bram" } : {};
  Object.assign(partial, inputs.spec.engine);
  for (const [name, value] of Object.entries(params)) {
    if (name !== "budget" && !(name in RUN_AXES)) partial[name] = value;
  }
  const cfg = resolveEngine(partial, "engine");
  if (cfg.loader !== "axi") throw new UserError("sweeps model the streaming engine (loader axi)");
  const run: RunParams = {
    budget,
    mode: (params["mode"] as RunParams["mode"] | undefined) ?? RUN_AXIS_DEFAULTS.mode,
    prompt: (params["prompt"] as number | undefined) ?? RUN_AXIS_DEFAULTS.prompt,
    context: (params["context"] as number | undefined) ?? inputs.defaultContext,
  };
  return { cfg, run };
}

/**
 * Evaluates points; memoizes geometry and resources by engine, since points that differ only in
 * budget, clock, mode, prompt or context share them.
 */
export class PointEvaluator {
  private readonly engines = new Map<string, { geo: EngineGeometry; resources: Map<string, ResourceEstimate> }>();

  constructor(private readonly inputs: SweepInputs) {}

  evaluate(index: number): PointResult {
    const params = pointParams(this.inputs.space, index);
    let setup: PointSetup;
    let geo: EngineGeometry;
    try {
      setup = pointSetup(this.inputs, params);
      geo = this.geometry(setup.cfg);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return { index, reason: `invalid:${err.message.replace(/^engine: /, "")}` };
    }
    const { budget } = setup.run;
    const need = this.resources(geo, budget);
    const over = overrun(need, budget);
    if (over) return { index, reason: `budget:${over.key}` };
    const figures = this.figures(geo, setup.run, need);
    for (const c of this.inputs.spec.constraints) {
      const v = figures[c.figure];
      if ((c.min !== undefined && v < c.min) || (c.max !== undefined && v > c.max)) return { index, reason: `constraint:${c.figure}` };
    }
    return { index, figures: FIGURE_NAMES.map((f) => figures[f]) };
  }

  private geometry(cfg: EngineConfig): EngineGeometry {
    const key = JSON.stringify(cfg);
    let entry = this.engines.get(key);
    if (entry === undefined) {
      if (this.engines.size > 100_000) this.engines.clear(); // bounded: a sweep revisits recent engines
      entry = { geo: engineGeometry(cfg), resources: new Map() };
      this.engines.set(key, entry);
    }
    return entry.geo;
  }

  private resources(geo: EngineGeometry, budget: Budget): ResourceEstimate {
    const entry = this.engines.get(JSON.stringify(geo.cfg))!;
    let r = entry.resources.get(budget.family);
    if (r === undefined) {
      r = estimateResources(geo, budget.family);
      entry.resources.set(budget.family, r);
    }
    return r;
  }

  private figures(geo: EngineGeometry, run: RunParams, need: ResourceEstimate): Figures {
    const workload = this.inputs.workloads.get(run.context)!;
    const e = estimateLatency(workload, geo, run.budget, {
      promptLengths: [run.prompt],
      contextLength: run.context,
      maxContext: this.inputs.maxContext,
    });
    const prefill = e.prefill[String(run.prompt)]!;
    const b = run.budget;
    const share = (used: number, of: number): number => (of > 0 ? used / of : used > 0 ? Infinity : 0);
    return {
      tokensPerSecond: run.mode === "decode" ? e.decodeTokensPerSecond : run.prompt / prefill.seconds,
      decodeTokensPerSecond: e.decodeTokensPerSecond,
      decodeCycles: e.decode.totalCycles,
      ttftSeconds: prefill.seconds,
      prefillTokensPerSecond: run.prompt / prefill.seconds,
      prefillCycles: prefill.totalCycles,
      rooflineFraction: e.rooflineFraction,
      weightsPerCycle: geo.weightsPerCycle,
      lut: need.lut,
      lutram: need.lutram,
      lutTotal: need.lut + need.lutram,
      ff: need.ff,
      carry: need.carry,
      bram36: need.bram36,
      uram: need.uram,
      dsp: need.dsp,
      utilization: Math.max(share(need.lut + need.lutram, b.lut), share(need.ff, b.ff), share(need.bram36, b.bram36), share(need.uram, b.uram), share(need.dsp, b.dsp)),
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
