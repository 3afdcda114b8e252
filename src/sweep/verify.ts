import { workloadAt } from "./model.js";
import { join } from "node:path";
import { memoryTiming, type MemoryTiming } from "../budget/memory.js";
import { engineGeometry, type EngineGeometry } from "../engine/config.js";
import { type ScaledMatmul } from "../engine/scales.js";
import { engineBudget } from "../estimate/clock.js";
import { matmulRuns, runsCycles } from "../estimate/cycles/closed-form.js";
import { engineShapes } from "../estimate/latency.js";
import { estimateResources, type ResourceEstimate } from "../estimate/resources.js";
import { synthesize, type SynthCounts } from "../estimate/synth/synth.js";
import { withModel } from "../model/open.js";
import { type TritMatrix } from "../model/types.js";
import { type MatmulWork } from "../model/workload.js";
import { runOnBackend, verilatorBackend, type EngineMatmul } from "../sim/simulate.js";
import { writeFileAtomic } from "../util/atomic.js";
import { Rng } from "../util/random.js";
import { pointSetup, type SweepInputs } from "./evaluate.js";
import { type SweepPoint } from "./results.js";
import { type AxisValue } from "./spec.js";

/**
 * `--verify-top K`: the best points, proven. Each point's engine runs decoder block 0 (every
 * ternary matmul of the block as one descriptor stream, as in the model) in Verilator, in the
 * point's mode: one token, or its prompt in prefill. The outputs are checked bit for bit against
 * the reference, and the measured cycles against the cycles the sweep's model predicts for that
 * block (every block of a model has the same shapes, so the block stands for all of them). The
 * weights are the model file's own block-0 trits, or seeded random trits when the spec gives
 * dimensions only; activations are seeded random int8 (cycles do not depend on values). An engine
 * with the dequantization stage gets seeded per-row scales, the scale layout the latency model
 * times. The memory runs at the engine's clock (engineClockMHz), as in the sweep's figures. With
 * `synth`, yosys synthesizes the engine too.
 */
export interface VerifiedPoint {
  readonly rank: number;
  readonly index: number;
  readonly params: Record<string, AxisValue>;
  readonly mode: "decode" | "prefill";
  readonly tokens: number;
  readonly predictedCycles: number;
  readonly measuredCycles: number;
  readonly cyclesMatch: boolean;
  readonly bitExact: boolean;
  readonly mismatches: number;
  readonly buildSeconds: number;
  readonly simSeconds: number;
  readonly analytic: ResourceEstimate;
  readonly synth?: { readonly total: SynthCounts; readonly seconds: number; readonly cached: boolean };
}

function randomTrits(rng: Rng, n: number, k: number): TritMatrix {
  const trits = new Int8Array(n * k);
  for (let i = 0; i < trits.length; i++) trits[i] = rng.int(-1, 1);
  return { n, k, trits };
}

/** Block 0's ternary matmuls: the model file's trits when there is a file, else seeded random ones. */
function blockWeights(inputs: SweepInputs, block: readonly MatmulWork[], seed: number): TritMatrix[] {
  const model = inputs.spec.model;
  if (typeof model === "string") return withModel(model, (m) => block.map((w) => m.readTernary(w.name)));
  const rng = new Rng(seed);
  return block.map((w) => randomTrits(rng, w.n, w.k));
}

function withRowScales(rng: Rng, w: TritMatrix): ScaledMatmul {
  // mantissa-friendly scales around 1/64, one per row
  return { planes: [w], alpha: [Float32Array.from({ length: w.n }, () => (1 + rng.int(0, 1023) / 1024) / 64)] };
}

/** The block cycles the sweep's latency model counts (latencyFigures: the same shapes, the same fast model). */
function predictedBlockCycles(geo: EngineGeometry, block: readonly MatmulWork[], tokens: number, memory: MemoryTiming): number {
  return runsCycles(geo, matmulRuns(geo, engineShapes(geo, block)), tokens, memory).total;
}

export async function verifyPoints(
  inputs: SweepInputs,
  points: readonly SweepPoint[],
  opts: { synth: boolean; out: string; log: (line: string) => void },
): Promise<VerifiedPoint[]> {
  const verified: VerifiedPoint[] = [];
  for (const [i, p] of points.entries()) {
    const setup = pointSetup(inputs, p.params);
    if (typeof setup === "string") throw new Error(`a kept point has no engine (${setup}): a bug`);
    const { cfg, run } = setup;
    const geo = engineGeometry(cfg);
    const block = workloadAt(inputs.unitWorkload, run.context).block.filter((m) => m.ternary);
    const tokens = run.mode === "decode" ? 1 : run.prompt;
    // at the engine's clock, as the sweep's latency model counts it
    const memory = memoryTiming(engineBudget(geo, run.budget));
    const rng = new Rng(2 * p.index + 2);
    const weights = blockWeights(inputs, block, 2 * p.index + 1);
    const matmuls: EngineMatmul[] = cfg.dequant ? weights.map((w) => withRowScales(rng, w)) : weights;
    const xs = block.map((m) => Int8Array.from({ length: tokens * m.k }, () => rng.int(-128, 127)));
    opts.log(`verify ${i + 1}/${points.length}: point ${p.index}, block 0, ${run.mode} (${tokens} token${tokens > 1 ? "s" : ""})`);
    // held to the cycles the sweep's own (fast) model predicts for the block, not the stream model
    const predicted = predictedBlockCycles(geo, block, tokens, memory);
    const r = await runOnBackend(verilatorBackend, geo, matmuls, xs, { tokens, memory, seed: p.index + 1, predictedCycles: predicted });
    const analytic = estimateResources(geo, run.budget.family);
    const s = opts.synth ? await synthesize(geo, run.budget.family) : undefined;
    verified.push({
      rank: i + 1,
      index: p.index,
      params: p.params,
      mode: run.mode,
      tokens,
      predictedCycles: predicted,
      measuredCycles: r.cycles!,
      cyclesMatch: r.cyclesAsPredicted === true,
      bitExact: r.match,
      mismatches: r.mismatches,
      buildSeconds: r.buildSeconds,
      simSeconds: r.simSeconds,
      analytic,
      ...(s ? { synth: { total: s.total, seconds: s.seconds, cached: s.cached } } : {}),
    });
  }
  writeFileAtomic(join(opts.out, "verify.json"), JSON.stringify({ points: verified }, null, 1) + "\n");
  return verified;
}
