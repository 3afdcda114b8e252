import { type Budget } from "../budget/budget.js";
import { type EngineGeometry } from "../engine/config.js";
import { describeArchitecture, type ModelArchitecture } from "../model/architecture.js";
import { withModel, type OpenOptions } from "../model/open.js";
import { defaultContextLength, modelWorkload } from "../model/workload.js";
import { estimateClock, type ClockEstimate } from "./clock.js";
import { estimateLatency, type LatencyEstimate } from "./latency.js";
import { estimateModules, type ModuleEstimate } from "./resources.js";
import { synthesize, type SynthResult } from "./synth/synth.js";

export interface ModelEstimateOptions {
  /** Prompt lengths for the time to first token (default 64 and 128). */
  readonly promptLengths?: readonly number[];
  /** The KV cache length decode is costed at (default: the model's, capped as defaultContextLength caps it). */
  readonly contextLength?: number;
  /** Also synthesize the engine with yosys: resources per module and the netlist's clock beside the analytic ones. */
  readonly synth?: boolean;
  readonly open?: OpenOptions;
}

/** What `trilut estimate` reports: latency of the whole model, resources per module, and the clock. */
export interface ModelEstimate {
  readonly architecture: ModelArchitecture;
  readonly latency: LatencyEstimate;
  readonly resources: { readonly analytic: ModuleEstimate; readonly synth?: SynthResult };
  readonly clock: ClockEstimate;
}

/**
 * Estimates a model on an engine and a budget: decode tokens/s, time to first token and the
 * roofline at the engine's clock (src/estimate/latency.ts), the resources of every module
 * (analytic, and yosys's with `synth`) and the clock estimate.
 */
export async function estimateModel(modelPath: string, geo: EngineGeometry, budget: Budget, opts: ModelEstimateOptions = {}): Promise<ModelEstimate> {
  const { workload, architecture } = withModel(
    modelPath,
    (m) => {
      const architecture = describeArchitecture(m);
      const contextLength = opts.contextLength ?? defaultContextLength(architecture);
      return { architecture, workload: modelWorkload(architecture, m.listTensors(), { contextLength }) };
    },
    opts.open ?? {},
  );
  const latency = estimateLatency(workload, geo, budget, {
    promptLengths: opts.promptLengths?.length ? opts.promptLengths : [64, 128],
    contextLength: workload.attention.contextLength,
    maxContext: architecture.contextLength,
  });
  const synth = opts.synth ? await synthesize(geo, budget.family) : undefined;
  const analytic = estimateModules(geo, budget.family);
  const clock = estimateClock(geo, budget, synth?.timing);
  return { architecture, latency, resources: synth ? { analytic, synth } : { analytic }, clock };
}
