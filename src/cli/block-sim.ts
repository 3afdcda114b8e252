import { describeEngineClock } from "../estimate/clock.js";
import { openModel } from "../model/open.js";
import { simulateModelBlock } from "../sim/block-sim.js";
import { modeTokens } from "../sim/inputs.js";
import { UserError } from "../util/errors.js";
import { openOptions, plan, round, type EngineArgs, type ModelArgs } from "./common.js";
import { cyclesReport, outputsVerdict, printJson, table } from "./output.js";

export interface BlockSimArgs extends EngineArgs, ModelArgs {
  model: string;
  block: number;
  mode: string;
  tokens?: number | undefined;
  context?: number | undefined;
  backpressure: number;
  seed: number;
  json: boolean;
  backend?: string | undefined;
  input?: string | undefined;
  out?: string | undefined;
  trace?: string | undefined;
  traceWindow?: string | undefined;
  wave?: string | undefined;
}

/** Options of the matmul scope that the block run has no counterpart for, refused in one line. */
function refuseMatmulOnly(a: BlockSimArgs): void {
  const only = (flag: string, what: string): never => {
    throw new UserError(`${flag}: ${what} at --scope matmuls only; the whole block runs in Verilator (--backend rtl) on the model's own activations`);
  };
  if (a.backend !== undefined && a.backend !== "rtl") only(`--backend ${a.backend}`, "the block accelerator runs");
  if (a.input !== undefined) only("--input", "activations are read");
  if (a.out !== undefined) only("--out", "results are written");
  if ((a.trace ?? a.traceWindow ?? a.wave) !== undefined) only("--trace, --trace-window and --wave", "waveforms are drawn");
}

/**
 * `sim --block B` at scope block: decoder block B of the model in Verilator as the block
 * accelerator runs it (one program, every unit), the residual stream and KV cache it writes checked
 * bit for bit against the number spec (blockSpec), the measured cycles against the block's exact
 * model, with that model's cycles per unit.
 */
export async function blockSimCommand(a: BlockSimArgs): Promise<number> {
  refuseMatmulOnly(a);
  const tokens = modeTokens(a.mode, a.tokens);
  const context = a.mode === "decode" ? (a.context ?? 8) : 0;
  if (!(Number.isInteger(context) && context >= 0)) throw new UserError(`--context ${context}: expected a token count`);
  const bp = a.backpressure;
  if (!(bp >= 0 && bp < 1)) throw new UserError(`--backpressure ${bp}: expected a probability in [0, 1)`);
  const { budget, engine } = plan(a);
  const m = openModel(a.model, openOptions(a));
  const r = await simulateModelBlock(m, engine.geo, budget, { layer: a.block, mode: a.mode === "prefill" ? "prefill" : "decode", tokens, context, seed: a.seed, ...(bp > 0 ? { backpressureSeed: a.seed } : {}) }).finally(() => m.close());
  const match = r.match && r.kvMatch;
  const cycles = cyclesReport(r.cycles, r.predictedCycles, bp);
  const backpressure = bp > 0 ? `random valid/ready gaps on every stream and memory port (the unit harness's, about 30% idle, seed ${a.seed}; not the probability ${bp})` : undefined;
  const s = r.shape;
  if (a.json) {
    printJson({
      scope: "block",
      block: a.block,
      mode: a.mode,
      tokens: r.tokens,
      position: r.position,
      match,
      mismatches: r.mismatches,
      kvMatch: r.kvMatch,
      kvMismatches: r.kvMismatches,
      cycles: r.cycles,
      predictedCycles: r.predictedCycles,
      ...cycles.json,
      units: r.units,
      microseconds: r.cycles / r.clock.mhz,
      clockMHz: r.clock.mhz,
      clockUsed: { ...r.clock, note: `microseconds ${describeEngineClock(r.clock)}` },
      shape: s,
      dequantAdded: r.dequantAdded,
      ...(backpressure ? { backpressure } : {}),
      simSeconds: round(r.seconds),
    });
    return match ? 0 : 1;
  }
  console.log(
    `block ${a.block}, ${a.mode} (${r.tokens} token${r.tokens > 1 ? "s" : ""} at position ${r.position}) on ${budget.device}, the whole block in Verilator ` +
      `(hidden ${s.hidden}, ffn ${s.ffn}, ${s.heads} heads / ${s.kvHeads} KV heads of ${s.headDim}, ${s.activation}${s.subNorms ? ", sub-norms" : ""}):`,
  );
  console.log(`  residual stream out: ${outputsVerdict(r.match, r.mismatches)}`);
  console.log(`  KV cache image: ${r.kvMatch ? "bit-exact with the reference" : `${r.kvMismatches} bytes differ from the reference`}`);
  console.log(`  ${cycles.text}, ${(r.cycles / r.clock.mhz).toFixed(1)} µs at ${r.clock.mhz} MHz (${r.seconds.toFixed(1)} s to build and run)`);
  if (backpressure) console.log(`  backpressure: ${backpressure}`);
  console.log(table(["unit", "cycles (model)", "share"], Object.entries(r.units).map(([u, c]) => [u, c, `${((c / r.predictedCycles) * 100).toFixed(1)}%`])));
  console.log(
    `  inputs: the model's own forward pass in the number spec (blockSpec) for a seeded ${a.mode === "decode" ? `token after a ${context}-token prompt` : `${r.tokens}-token prompt`}` +
      `${r.dequantAdded ? "; the engine gains its dequantization stage (dequant=true)" : ""}; --scope matmuls runs the block's matmuls alone`,
  );
  return match ? 0 : 1;
}
