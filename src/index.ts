/**
 * trilut as a library: the API the command line itself is built on, in the order of the flow
 * (docs/architecture.md). `import { compile, simulate, estimate } from "trilut"`.
 *
 * Errors: a UserError is bad input (one line naming what, where and what was expected; the CLI
 * exits 2), a ToolError a failed or timed-out tool (yosys, Verilator, g++: exit 3), a
 * SimulationError a simulation that hung.
 */

export { UserError, SimulationError, ToolError } from "./util/errors.js";

// the model
export { openModel, withModel, type OpenOptions } from "./model/open.js";
export { inspectModel, formatInspect, type InspectReport } from "./model/inspect.js";
export { describeArchitecture, type ModelArchitecture } from "./model/architecture.js";
export { modelWorkload, defaultContextLength, type Workload } from "./model/workload.js";
export { makeLlamaModel as makeModel, type MakeLlamaOptions as MakeModelOptions } from "./model/make-model.js";
export { type ModelReader } from "./model/reader.js";
export { type TernaryTensor, type TritMatrix } from "./model/types.js";

// the budget and the engine
export { resolveBudget, presetBudget, parseBudget, readBudgetFile, PRESETS, type Budget } from "./budget/budget.js";
export { resolveEngine, engineGeometry, DEFAULT_ENGINE, ENGINE_SCHEMA, type EngineConfig, type EngineGeometry } from "./engine/config.js";

// the reference
export { ternaryMatmul } from "./ref/kernel.js";

// the hardware units and the generated code
export { ENGINE_UNITS, unitsOf } from "./units/engine.js";
export { type HardwareUnit, type SourceFile } from "./units/unit.js";
export { generateRtl, TOP_MODULE } from "./codegen/rtl.js";
export { generateHls } from "./codegen/hls.js";

// estimates
export { estimateModel as estimate, type ModelEstimate, type ModelEstimateOptions } from "./estimate/model-estimate.js";
export { estimateLatency, type LatencyEstimate } from "./estimate/latency.js";
export { estimateResources, estimateModules, type ModuleEstimate, type ModuleResources } from "./estimate/resources.js";
export { estimateClock, engineClockMHz, type ClockEstimate, type EngineClock } from "./estimate/clock.js";
export { synthesize, type SynthResult } from "./estimate/synth/synth.js";

// planning, compiling, simulating
export { planEngine as plan, type PlannedEngine } from "./plan/plan.js";
export { compileModel as compile, type CompileResult, type CompileOptions } from "./compile/compile.js";
// the whole decoder block in hardware (docs/block.md; issue 14)
export { planBlock, type BlockPlanOptions } from "./plan/block-plan.js";
export { estimateBlock, planModelBlock, type BlockEstimate, type BlockRunEstimate } from "./plan/block-estimate.js";
export { blockAccelerator, writeBlockRtl, type BlockAccelerator } from "./compile/block-accelerator.js";
export { simulateModelBlock, type BlockSimOptions, type BlockSimResult } from "./sim/block-sim.js";
export {
  simulateMatmul as simulate,
  simulateMatmuls,
  type SimulateOptions,
  type SimulationResult,
  type MatmulsResult,
  type EngineMatmul,
  runOnBackend,
  verilatorBackend,
  type BackendResult,
} from "./sim/simulate.js";
// one interface for every simulator: runOnBackend(hlsBackend, ...) is what simulateMatmulsHls was
export { type BackendName, type SimBackend, type BuiltBackend, type BackendRun } from "./sim/backend.js";
export { backendNamed } from "./sim/backends.js";
export { hlsBackend } from "./sim/hls-simulate.js";
export { icarusBackend } from "./sim/icarus.js";

// sweeps, verification, reports
export { runSweep as sweep, type SweepRunOptions, type SweepRun } from "./sweep/run.js";
export { mergeSweeps } from "./sweep/store.js";
export { verifySpec as verify, verdictOf, type VerifyOptions } from "./verify/verify.js";
export { type CheckResult } from "./verify/run.js";
export { writeReport as report } from "./report/write.js";
