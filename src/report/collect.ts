import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Budget } from "../budget/budget.js";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../engine/config.js";
import { describeEngineClock, engineClockMHz, type EngineClock } from "../estimate/clock.js";
import { estimateLatency, type LatencyEstimate } from "../estimate/latency.js";
import { budgetShares, estimateModules, modelFamily } from "../estimate/resources.js";

import { describeArchitecture } from "../model/architecture.js";
import { withModel } from "../model/open.js";
import { defaultContextLength, modelWorkload, type Workload } from "../model/workload.js";
import { loadSweepModel, workloadAt } from "../sweep/model.js";
import { type SweepSummary } from "../sweep/results.js";
import { pointEngine } from "../sweep/evaluate.js";
import { readManifest, requireComplete } from "../sweep/store.js";
import { type ModelDimensions } from "../sweep/spec.js";
import { type VerifiedPoint } from "../sweep/verify.js";
import { UserError } from "../util/errors.js";
import { rooflineSvg } from "./roofline.js";

/**
 * What a report shows, gathered from a directory `trilut compile` or `trilut sweep` wrote: the
 * engine, its resources per module against the budget, its latency per layer and per token, the
 * roofline, the sweep's trade-offs, measured-vs-predicted cycles and the first cycles' waveform.
 * Serializable: written as report.json beside the HTML and Markdown drawn from it.
 */
export interface ResourceRow {
  readonly module: string;
  readonly instances: number;
  readonly lut: number;
  readonly lutram: number;
  readonly ff: number;
  readonly carry: number;
  readonly bram36: number;
  readonly uram: number;
  readonly dsp: number;
}

export interface SimulationRow {
  readonly what: string;
  readonly mode: string;
  readonly tokens: number;
  readonly predictedCycles: number;
  readonly measuredCycles: number;
  readonly bitExact: boolean;
}

export interface ReportData {
  readonly kind: "compile" | "sweep";
  readonly title: string;
  readonly model: { readonly name: string; readonly architecture: string; readonly layers: number; readonly hidden: number; readonly ffn: number; readonly vocab: number } | undefined;
  readonly engine: EngineConfig;
  readonly weightsPerCycle: number;
  readonly budget: Budget;
  /** The clock the report's times use: the budget's, or the engine's clock estimate when lower. */
  readonly clock: EngineClock & { readonly note: string };
  readonly resources: { readonly modules: ResourceRow[]; readonly total: ResourceRow; readonly percent: Record<string, number> };
  readonly latency: LatencyEstimate | undefined;
  readonly rooflineSvg: string | undefined;
  readonly sweep?: {
    readonly evaluated: number;
    readonly feasible: number;
    readonly atClockEstimate: number;
    readonly dropped: SweepSummary["dropped"];
    readonly objectives: SweepSummary["objectives"];
    readonly best: SweepSummary["best"];
    readonly pareto: SweepSummary["pareto"];
    readonly plots: { readonly name: string; readonly svg: string }[];
  };
  readonly simulation: SimulationRow[];
  readonly waveform?: { readonly svg: string; readonly what: string; readonly from: number; readonly to: number };
  readonly notes: string[];
}

function resourceTable(geo: EngineGeometry, budget: Budget): ReportData["resources"] {
  const est = estimateModules(geo, modelFamily(budget.family));
  const modules = Object.keys(est.modules)
    .sort((a, b) => a.localeCompare(b))
    .map((name): ResourceRow => {
      const m = est.modules[name]!;
      const n = est.instances[name] ?? 0;
      return { module: name, instances: n, lut: m.lut * n, lutram: m.lutram * n, ff: m.ff * n, carry: m.carry * n, bram36: m.bram36 * n, uram: m.uram * n, dsp: m.dsp * n };
    });
  const t = est.total;
  return {
    modules,
    total: { module: "total", instances: 0, ...t },
    percent: budgetShares(t, budget),
  };
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (err) {
    throw new UserError(`${path}: unreadable (${(err as Error).message})`);
  }
}

async function engineParts(
  cfg: EngineConfig,
  budget: Budget,
  workload: Workload | undefined,
  maxContext: number | undefined,
): Promise<Pick<ReportData, "weightsPerCycle" | "clock" | "resources" | "latency" | "rooflineSvg">> {
  const geo = engineGeometry(cfg);
  const clock = engineClockMHz(geo, budget);
  const latency = workload
    ? estimateLatency(workload, geo, budget, { promptLengths: [64, 128], contextLength: workload.attention.contextLength, maxContext })
    : undefined;
  return {
    weightsPerCycle: geo.weightsPerCycle,
    clock: { ...clock, note: `times ${describeEngineClock(clock)}` },
    resources: resourceTable(geo, budget),
    latency,
    rooflineSvg: latency && workload ? await rooflineSvg(geo, budget, workload, latency) : undefined,
  };
}

/** A directory `trilut compile` wrote: engine.json names the model, the engine and the budget. */
async function compileReport(dir: string): Promise<ReportData> {
  const e = readJson<{ model: string; engine: EngineConfig; budget: Budget }>(join(dir, "engine.json"));
  const notes: string[] = [];
  let model: ReportData["model"];
  let workload: Workload | undefined;
  let maxContext: number | undefined;
  if (existsSync(e.model)) {
    withModel(e.model, (m) => {
      const arch = describeArchitecture(m);
      const d = arch.dimensions;
      model = { name: e.model, architecture: arch.name, layers: d.layers, hidden: d.hidden, ffn: d.ffn, vocab: d.vocab };
      maxContext = arch.contextLength;
      workload = modelWorkload(arch, m.listTensors(), { contextLength: defaultContextLength(arch) });
    });
  } else {
    notes.push(`the model ${e.model} is not there any more: no latency figures`);
  }
  const cfg = resolveEngine(e.engine, join(dir, "engine.json"));
  const parts = await engineParts(cfg, e.budget, workload, maxContext);
  return { kind: "compile", title: `${model ? model.name.split("/").pop() : "engine"} on ${e.budget.device}`, model, engine: cfg, budget: e.budget, ...parts, simulation: [], notes };
}

/** A directory `trilut sweep` wrote: the summary, plots, verification, and the best engine in full. */
async function sweepReport(dir: string): Promise<ReportData> {
  const manifest = readManifest(dir);
  requireComplete(dir);
  if (!existsSync(join(dir, "summary.json"))) throw new UserError(`${dir}: the sweep has no summary.json yet; finish it (run the sweep again) or merge its shards`);
  const summary = readJson<SweepSummary>(join(dir, "summary.json"));
  if (!summary.best) throw new UserError(`${dir}: the sweep kept no point; nothing to report`);
  const spec = manifest.spec as { model: unknown; budgets: Budget[]; engine: Partial<EngineConfig> };
  const params = summary.best.params;
  const engine = pointEngine(Object.fromEntries(spec.budgets.map((b) => [b.device, b])), spec.engine, params);
  if (typeof engine === "string") throw new Error(`the sweep's best point has no engine (${engine}): a bug`);
  const { cfg, budget } = engine;
  const notes: string[] = [];
  let workload: Workload | undefined;
  let model: ReportData["model"];
  // a model file is identified by name and size in the hash; its path is kept beside, for reports
  const fromFile = typeof (spec.model as { file?: unknown }).file === "string";
  const source = fromFile ? manifest.modelPath : (spec.model as ModelDimensions);
  const context = params["context"] as number | undefined;
  try {
    if (source === undefined) throw new UserError("the manifest names no model path");
    const m = loadSweepModel(source, context !== undefined ? [context] : undefined);
    workload = workloadAt(m.unitWorkload, context ?? m.defaultContext);
    const d = m.architecture.dimensions;
    model = { name: fromFile ? (spec.model as { file: string }).file : "given dimensions", architecture: m.architecture.name, layers: d.layers, hidden: d.hidden, ffn: d.ffn, vocab: d.vocab };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    notes.push(`the model is not readable here (${err.message}): no latency breakdown`);
  }
  const parts = await engineParts(cfg, budget, workload, undefined);
  const plots = summary.plots.map((name) => ({ name, svg: readFileSync(join(dir, name), "utf8") }));
  const verified = existsSync(join(dir, "verify.json")) ? readJson<{ points: VerifiedPoint[] }>(join(dir, "verify.json")).points : [];
  return {
    kind: "sweep",
    title: `sweep of ${summary.evaluated.toLocaleString("en-US")} engines on ${spec.budgets.map((b) => b.device).join(", ")}`,
    model,
    engine: cfg,
    budget,
    ...parts,
    sweep: { evaluated: summary.evaluated, feasible: summary.feasible, atClockEstimate: summary.atClockEstimate ?? 0, dropped: summary.dropped, objectives: summary.objectives, best: summary.best, pareto: summary.pareto.slice(0, 30), plots },
    simulation: verified.map((v) => ({
      what: `#${v.rank}: ${Object.entries(v.params).map(([k, x]) => `${k}=${String(x)}`).join(" ")}, block 0`,
      mode: v.mode,
      tokens: v.tokens,
      predictedCycles: v.predictedCycles,
      measuredCycles: v.measuredCycles,
      bitExact: v.bitExact,
    })),
    notes,
  };
}

/** The report of DIR, from what it holds. */
export async function collectReport(dir: string): Promise<ReportData> {
  if (existsSync(join(dir, "sweep.json"))) return sweepReport(dir);
  if (existsSync(join(dir, "engine.json"))) return compileReport(dir);
  throw new UserError(`${dir}: nothing to report: expected engine.json (written by trilut compile) or sweep.json (trilut sweep)`);
}
