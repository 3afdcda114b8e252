import { memoryTiming } from "../budget/memory.js";
import { describeArchitecture } from "../model/architecture.js";
import { withModel } from "../model/open.js";
import { type TernaryTensor } from "../model/types.js";
import { modelWorkload } from "../model/workload.js";
import { simulateMatmuls } from "../sim/simulate.js";
import { UserError } from "../util/errors.js";
import { openOptions, plan, round, seededActivations, type EngineArgs, type ModelArgs } from "./common.js";
import { printJson, table } from "./output.js";

export interface ModelSimArgs extends EngineArgs, ModelArgs {
  model: string;
  block?: number | undefined;
  all?: boolean | undefined;
  mode: string;
  tokens?: number | undefined;
  backpressure: number;
  seed: number;
  json: boolean;
}

/** Tokens of a run: decode is one token; prefill takes --tokens (default 16). */
export function modeTokens(mode: string, tokens: number | undefined): number {
  if (mode === "decode") {
    if (tokens !== undefined && tokens !== 1) throw new UserError(`--mode decode runs one token; --tokens ${tokens} needs --mode prefill`);
    return 1;
  }
  if (mode === "prefill") return tokens ?? 16;
  throw new UserError(`--mode ${mode}: expected decode or prefill`);
}

/**
 * Simulates one decoder block (--block B) or every ternary matmul of the model (--all) as one
 * descriptor stream on the streaming engine, each matmul checked bit for bit. Each matmul's input
 * is seeded random int8: the host model's norms, attention and activation functions between the
 * matmuls are not simulated, which leaves the engine's work, order and memory traffic unchanged.
 */
export async function modelSimCommand(args: ModelSimArgs): Promise<number> {
  const { budget, engine } = plan(args);
  if (engine.cfg.loader !== "axi") throw new UserError("--block and --all run on the streaming engine; drop --preload / loader=preload");
  const tokens = modeTokens(args.mode, args.tokens);
  const tensors: TernaryTensor[] = withModel(args.model, (m) => {
    const arch = describeArchitecture(m);
    const workload = modelWorkload(arch, m.listTensors(), { contextLength: arch.contextLength ?? 1 });
    const layers = arch.dimensions.layers;
    if (args.block !== undefined && !(Number.isInteger(args.block) && args.block >= 0 && args.block < layers)) {
      throw new UserError(`--block ${args.block}: the model has blocks 0..${layers - 1}`);
    }
    const chosen = workload.matmuls.filter((w) => w.ternary && (args.all || (w.role !== "lm_head" && w.layer === args.block)));
    if (chosen.length === 0) throw new UserError(`${args.model}: no ternary matmuls to simulate`);
    return chosen.map((w) => m.readTernary(w.name));
  }, openOptions(args));
  const bp = args.backpressure;
  if (!(bp >= 0 && bp < 1)) throw new UserError(`--backpressure ${bp}: expected a probability in [0, 1)`);
  const xs = tensors.map((t, i) => seededActivations(args.seed + i, tokens * t.k));
  const r = await simulateMatmuls(engine.geo, tensors, xs, {
    tokens,
    memory: memoryTiming(budget),
    validProb: 1 - bp,
    readyProb: 1 - bp,
    seed: args.seed,
  });
  const achievedGBps = (r.bytesRead / r.cycles) * budget.clockMHz * 1e-3;
  if (args.json) {
    printJson({
      scope: args.all ? "all" : `block ${args.block}`,
      mode: args.mode,
      tokens,
      match: r.match,
      mismatches: r.mismatches,
      cycles: r.cycles,
      predictedCycles: r.predictedCycles,
      microseconds: r.cycles / budget.clockMHz,
      bytesRead: r.bytesRead,
      achievedGBps: round(achievedGBps),
      memBusyFraction: round(r.memBusyFraction),
      computeUtilization: round(r.computeUtilization),
      weightsPerCycle: r.weightsPerCycle,
      buildSeconds: round(r.buildSeconds),
      simSeconds: round(r.simSeconds),
      cached: r.cached,
      matmuls: tensors.map((t, i) => ({ tensor: t.name, n: t.n, k: t.k, match: r.matmuls[i]!.match, mismatches: r.matmuls[i]!.mismatches })),
    });
  } else {
    console.log(
      table(
        ["tensor", "n×k", "bit-exact"],
        tensors.map((t, i) => [t.name, `${t.n}×${t.k}`, r.matmuls[i]!.match ? "yes" : `NO (${r.matmuls[i]!.mismatches})`]),
      ),
    );
    console.log(
      `\n${args.all ? "every matmul" : `block ${args.block}`}, ${args.mode} (${tokens} token${tokens > 1 ? "s" : ""}) on ${budget.device}: ` +
        `${r.match ? "match" : `MISMATCH in ${r.mismatches} outputs`}`,
    );
    console.log(
      `  cycles ${r.cycles.toLocaleString("en-US")} (predicted ${r.predictedCycles.toLocaleString("en-US")}), ` +
        `${(r.cycles / budget.clockMHz).toFixed(1)} µs at ${budget.clockMHz} MHz`,
    );
    console.log(
      `  memory ${r.bytesRead.toLocaleString("en-US")} bytes at ${achievedGBps.toFixed(2)} GB/s achieved ` +
        `(${(r.memBusyFraction * 100).toFixed(1)}% of ${budget.memoryGBps}); lookup slots ${(r.computeUtilization * 100).toFixed(1)}% used`,
    );
    console.log("  inputs: seeded random int8 per matmul (norms, attention and activations between them are not simulated)");
  }
  return r.match ? 0 : 1;
}
