import { memoryTiming } from "../budget/memory.js";
import { atEngineClock, describeEngineClock, engineClockMHz } from "../estimate/clock.js";
import { modelCalls, modeTokens } from "../sim/inputs.js";
import { backendNamed } from "../sim/backends.js";
import { runOnBackend } from "../sim/simulate.js";
import { UserError } from "../util/errors.js";
import { openOptions, plan, round, type EngineArgs, type ModelArgs } from "./common.js";
import { cyclesReport, measuredCycles, outputsVerdict, printJson, table } from "./output.js";
import { drawWave, waveFlags, writeWave, type WaveArgs } from "./wave.js";

export interface ModelSimArgs extends EngineArgs, ModelArgs, WaveArgs {
  model: string;
  block?: number | undefined;
  all?: boolean | undefined;
  mode: string;
  tokens?: number | undefined;
  /** Decode: prompt tokens already in the KV cache before the decoded one. */
  context?: number | undefined;
  backpressure: number;
  seed: number;
  json: boolean;
  /** A cycle-accurate backend: rtl (Verilator, the default) or icarus. */
  backend?: "rtl" | "icarus" | undefined;
}



/**
 * Simulates one decoder block (--block B) or every ternary matmul of the model (--all) as one
 * descriptor stream on the streaming engine, each matmul checked bit for bit. The inputs come from
 * the host model (src/ref/host.ts): a seeded prompt runs through the model in the reference, and
 * each matmul gets the int8 activations the real forward pass gives it. Prefill runs --tokens
 * prompt tokens; decode runs one token after a --context-token prompt in the KV cache. With the
 * dequantization stage (dequant=true) the engine also applies each matmul's scale.
 */
export async function modelSimCommand(args: ModelSimArgs): Promise<number> {
  const { budget, engine } = plan(args);
  const tokens = modeTokens(args.mode, args.tokens);
  const calls = modelCalls(args, tokens, openOptions(args));
  const bp = args.backpressure;
  if (!(bp >= 0 && bp < 1)) throw new UserError(`--backpressure ${bp}: expected a probability in [0, 1)`);
  const waves = waveFlags(args);
  const matmuls = calls.map((c) => (engine.cfg.dequant ? c.matmul : c.matmul.planes[0]!));
  const xs = calls.map((c) => c.x);
  // the engine runs at its own clock (the budget's, or its lower estimate): the memory in its cycles
  const clock = engineClockMHz(engine.geo, budget);
  const options = { tokens, memory: memoryTiming(atEngineClock(budget, clock)), validProb: 1 - bp, readyProb: 1 - bp, seed: args.seed };
  const scope = args.all ? "every matmul" : `block ${args.block}`;
  const wave = await drawWave(args, waves, engine.geo, matmuls, xs, options, `${scope}, ${args.mode}, on ${budget.device}`);
  const r = await runOnBackend(backendNamed(args.backend ?? "rtl"), engine.geo, matmuls, xs, { ...options, ...waves.trace });
  const { cycles, predicted } = measuredCycles(r);
  const tensors = calls.map((c) => ({ name: c.name, n: c.matmul.planes[0]!.n, k: c.matmul.planes[0]!.k }));
  const achievedGBps = r.bytesRead !== undefined ? (r.bytesRead / cycles) * clock.mhz * 1e-3 : undefined;
  const drawn = writeWave(args, wave);
  if (args.json) {
    printJson({
      ...(r.backend !== "verilator" ? { backend: r.backend } : {}),
      // --block at --scope matmuls: the block's ternary matmuls alone (--scope block runs the whole block)
      ...(args.all ? { scope: "all" } : { scope: "matmuls", block: args.block }),
      mode: args.mode,
      tokens,
      match: r.match,
      mismatches: r.mismatches,
      cycles,
      predictedCycles: predicted,
      ...cyclesReport(cycles, predicted, bp).json,
      microseconds: cycles / clock.mhz,
      clockMHz: clock.mhz,
      clockUsed: { ...clock, note: `microseconds ${describeEngineClock(clock)}` },
      bytesRead: r.bytesRead,
      achievedGBps: achievedGBps !== undefined ? round(achievedGBps) : undefined,
      memBusyFraction: r.memBusyFraction !== undefined ? round(r.memBusyFraction) : undefined,
      computeUtilization: r.computeUtilization !== undefined ? round(r.computeUtilization) : undefined,
      weightsPerCycle: r.weightsPerCycle,
      buildSeconds: round(r.buildSeconds),
      simSeconds: round(r.simSeconds),
      cached: r.cached,
      matmuls: tensors.map((t, i) => ({ tensor: t.name, n: t.n, k: t.k, match: r.matmuls[i]!.match, mismatches: r.matmuls[i]!.mismatches })),
      ...drawn.json,
    });
  } else {
    console.log(
      table(
        ["tensor", "n×k", "bit-exact"],
        tensors.map((t, i) => [t.name, `${t.n}×${t.k}`, r.matmuls[i]!.match ? "yes" : `NO (${r.matmuls[i]!.mismatches})`]),
      ),
    );
    console.log(
      `\n${args.all ? "every matmul" : `block ${args.block}`}, ${args.mode} (${tokens} token${tokens > 1 ? "s" : ""}) on ${budget.device}` +
        `${r.backend === "verilator" ? "" : ` (${r.backend})`}: ` +
        outputsVerdict(r.match, r.mismatches),
    );
    console.log(`  ${cyclesReport(cycles, predicted, bp).text}, ${(cycles / clock.mhz).toFixed(1)} µs at ${clock.mhz} MHz`);
    if (clock.limitedBy === "estimate") console.log(`  NOTE: microseconds and memory timing ${describeEngineClock(clock)}`);
    if (r.bytesRead !== undefined && achievedGBps !== undefined && r.memBusyFraction !== undefined) {
      console.log(
        `  memory ${r.bytesRead.toLocaleString("en-US")} bytes at ${achievedGBps.toFixed(2)} GB/s achieved ` +
          `(${(r.memBusyFraction * 100).toFixed(1)}% of ${budget.memoryGBps}); lookup slots ${((r.computeUtilization ?? 0) * 100).toFixed(1)}% used`,
      );
    }
    console.log(
      `  inputs: the host model's activations for a seeded ${args.mode === "decode" ? `token after a ${args.context ?? 8}-token prompt` : `${tokens}-token prompt`}` +
        `; outputs ${engine.cfg.dequant ? "dequantized by the engine" : "as integers (the host applies the scales)"}`,
    );
    for (const line of drawn.lines) console.log(line);
  }
  return r.match ? 0 : 1;
}
