import { presetBudget, readBudgetFile, type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { engineBudget } from "../estimate/clock.js";
import { engineGeometry, type EngineGeometry } from "../engine/config.js";
import { configFor } from "../plan/plan.js";
import { estimateResources, overrun, RESOURCE_NAMES, type ResourceEstimate } from "../estimate/resources.js";
import { synthesize } from "../estimate/synth/synth.js";
import { backendNamed } from "../sim/backends.js";
import { runOnBackend, type EngineMatmul } from "../sim/simulate.js";
import { inTensor, SimulationError, ToolError, UserError } from "../util/errors.js";
import { type TernaryTensor } from "../model/types.js";
import { activations, engineMatmul, modelCalls, modeTokens, readTensor } from "../sim/inputs.js";
import { type Check } from "./spec.js";
import { withModel } from "../model/open.js";
import { requireTernary } from "../model/reader.js";
import { describeArchitecture } from "../model/architecture.js";

/**
 * Running the checks of a verify spec. Every check is planned first (budget, engine), so a spec
 * naming an impossible engine fails before anything runs; an engine over its budget is a test
 * failure, not bad input, since that is what a design's CI must catch, and it fails at once,
 * before any simulation. Each check then runs in
 * simulation (Verilator, Icarus with `backend: icarus`, or the HLS engine with `backend: hls`) and optionally in yosys.
 */
export interface Failure {
  readonly type: "mismatch" | "cycles" | "resources" | "hang" | "timeout";
  readonly message: string;
}

export interface CheckResult {
  readonly check: Check;
  readonly seconds: number;
  readonly failures: Failure[];
  /** Set when the check could not run (a missing tensor, an unreadable model...). */
  readonly error?: string;
  /** Figures for the report: cycles, mismatches, resources. */
  readonly properties: Record<string, number | string | boolean>;
}

export interface Planned {
  readonly check: Check;
  readonly budget: Budget;
  readonly geo: EngineGeometry;
}

export function planChecks(checks: readonly Check[], where: string): Planned[] {
  return checks.map((check, i) => {
    const at = `${where}: /checks/${i}`;
    const budget = check.device !== undefined ? presetBudget(check.device) : readBudgetFile(check.budget!);
    const cfg = configFor(budget, { engineFile: check.engine, overrides: check.set, where: `${at}/set` });
    modeTokens(check.mode, check.tokens);
    // A spec naming a model, tensor or block that does not exist is bad input (exit 2), found
    // before any check runs, not a failed test.
    try {
      withModel(check.model, (m) => {
        if (check.tensor !== undefined) requireTernary(m, check.tensor);
        if (check.block === undefined) return;
        const layers = describeArchitecture(m).dimensions.layers;
        if (!(check.block >= 0 && check.block < layers)) throw new UserError(`block ${check.block}: the model has blocks 0..${layers - 1}`);
      });
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${at}: ${err.message}`);
      throw err;
    }
    return { check, budget, geo: engineGeometry(cfg) };
  });
}

function resourceFailures(kind: string, need: ResourceEstimate, budget: Budget): Failure[] {
  const over = overrun(need, budget);
  return over
    ? [{ type: "resources", message: `${kind} ${RESOURCE_NAMES[over.key]}: needs ${over.need}, limit ${over.limit} (${Math.round(budget.utilizationCap * 100)}% of ${budget[over.key]} on ${budget.device})` }]
    : [];
}

export async function runCheck(p: Planned): Promise<CheckResult> {
  const { check, budget, geo } = p;
  const started = performance.now();
  const properties: Record<string, number | string | boolean> = { backend: check.backend, weightsPerCycle: geo.weightsPerCycle };
  const failures: Failure[] = [];
  const analytic = estimateResources(geo, budget.family);
  for (const [k, v] of Object.entries(analytic)) properties[`analytic.${k}`] = v;
  failures.push(...resourceFailures("analytic", analytic, budget));
  const done = (error?: string): CheckResult => ({ check, seconds: (performance.now() - started) / 1000, failures, properties, ...(error !== undefined ? { error } : {}) });
  // what `estimate` refuses at once is not worth minutes of Verilator build to fail again
  if (failures.length > 0) return done();
  try {
    const tokens = modeTokens(check.mode, check.tokens);
    properties["tokens"] = tokens;
    const bp = check.backpressure;
    const handshakes = { validProb: 1 - bp, readyProb: 1 - bp, seed: check.seed };
    let ws: EngineMatmul[];
    let xs: Int8Array[];
    let tensor: TernaryTensor | undefined;
    if (check.tensor !== undefined) {
      tensor = readTensor(check.model, check.tensor);
      const t = tensor;
      ws = [inTensor(check.model, t.name, () => engineMatmul(geo, t))];
      xs = [activations(tensor, undefined, tokens, check.seed).x];
    } else {
      const calls = modelCalls({ model: check.model, block: check.block, all: check.all, mode: check.mode, context: check.context, seed: check.seed }, tokens);
      ws = calls.map((c) => (geo.cfg.dequant ? c.matmul : c.matmul.planes[0]!));
      xs = calls.map((c) => c.x);
    }
    const backend = backendNamed(check.backend);
    // the memory at the engine's clock, as the latency model and `trilut sim` count it
    const memory = memoryTiming(engineBudget(geo, budget));
    const run = (): ReturnType<typeof runOnBackend> => runOnBackend(backend, geo, ws, xs, { tokens, memory, ...handshakes });
    // what goes wrong running one tensor names the model and tensor
    const r = await (tensor ? inTensor(check.model, tensor.name, run) : run());
    properties["mismatches"] = r.mismatches;
    if (backend.cycleAccurate) Object.assign(properties, { cycles: r.cycles, predictedCycles: r.predictedCycles });
    if (r.bytesRead !== undefined) properties["bytesRead"] = r.bytesRead;
    if (!backend.cycleAccurate) properties["compileSeconds"] = r.buildSeconds;
    if (!r.match) failures.push({ type: "mismatch", message: `${r.mismatches} outputs differ from the reference${backend.name === "hls" ? " (HLS C simulation)" : ""}` });
    // backpressure stalls the engine by chance: only a free-running run must meet the model
    if (r.cyclesAsPredicted === false) {
      failures.push({ type: "cycles", message: `measured ${r.cycles} cycles, the cycle model predicts ${r.predictedCycles}` });
    }
    if (check.synth) {
      const s = await synthesize(geo, budget.family);
      for (const [k, v] of Object.entries(s.total)) properties[`synth.${k}`] = v;
      failures.push(...resourceFailures("synthesized", s.total, budget));
    }
  } catch (err) {
    if (err instanceof SimulationError) {
      failures.push({ type: "hang", message: err.message });
      return done();
    }
    if (err instanceof UserError || err instanceof ToolError) return done(err.message);
    throw err;
  }
  return done();
}
