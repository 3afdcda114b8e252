import { checkHlsSupport } from "../codegen/hls.js";
import { hlsBackend } from "../sim/hls-simulate.js";
import { runOnBackend, type BackendResult } from "../sim/simulate.js";
import { inTensor, UserError } from "../util/errors.js";
import { writeInt32Matrix } from "../util/rawio.js";
import { activations, engineMatmul, modelCalls, modeTokens, readTensor } from "../sim/inputs.js";
import { openOptions, plan, round, type EngineArgs, type ModelArgs } from "./common.js";
import { printJson, table } from "./output.js";

export interface HlsSimArgs extends EngineArgs, ModelArgs {
  model: string;
  tensor?: string | undefined;
  block?: number | undefined;
  all?: boolean | undefined;
  mode: string;
  tokens?: number | undefined;
  context?: number | undefined;
  input?: string | undefined;
  out?: string | undefined;
  trace?: string | undefined;
  backpressure: number;
  seed: number;
  json: boolean;
}

function figures(r: BackendResult): object {
  return {
    match: r.match,
    mismatches: r.mismatches,
    descriptors: r.tiles.tiles.length,
    compileSeconds: round(r.buildSeconds),
    cached: r.cached,
    runSeconds: round(r.simSeconds),
  };
}

function buildLine(r: BackendResult): string {
  return `  HLS engine ${r.cached ? "found in the cache" : "built with g++"} in ${r.buildSeconds.toFixed(2)} s; C simulation ran ${r.simSeconds.toFixed(2)} s (not cycle-accurate: no cycles)`;
}

/**
 * `trilut sim --backend hls`: the same runs as the RTL simulation (one tensor, a block, or the
 * whole model, decode or prefill, on the same inputs), through the HLS engine built with g++.
 * Returns the exit code: 1 when any output differs from the reference.
 */
export async function hlsSimCommand(args: HlsSimArgs): Promise<number> {
  const { budget, engine } = plan(args);
  checkHlsSupport(engine.geo, "--backend hls");
  if (args.trace) throw new UserError("--trace: the HLS backend is a C simulation and has no waveforms; use --backend rtl");
  if (args.backpressure !== 0) throw new UserError("--backpressure: the HLS backend's C simulation has no handshakes to stall; use --backend rtl");
  const where = `on ${budget.device}, HLS C simulation`;

  if (args.tensor !== undefined) {
    const tensor = readTensor(args.model, args.tensor, openOptions(args));
    // as the RTL backend: decode infers the tokens from --input; prefill defaults to 16
    const wanted = args.mode === "decode" ? args.tokens : modeTokens(args.mode, args.tokens);
    const { x, tokens } = activations(tensor, args.input, wanted, args.seed);
    const r = await inTensor(args.model, tensor.name, () => runOnBackend(hlsBackend, engine.geo, [engineMatmul(engine.geo, tensor)], [x], { tokens }));
    const m = r.matmuls[0]!;
    if (args.out) writeInt32Matrix(args.out, m.y);
    if (args.json) {
      printJson({ backend: "hls", tensor: tensor.name, n: tensor.n, k: tensor.k, tokens, ...figures(r), firstMismatches: m.firstMismatches });
    } else {
      const verdict = r.match ? "match" : `MISMATCH in ${r.mismatches} of ${m.expected.length} outputs`;
      console.log(`${tensor.name} (${tensor.n}×${tensor.k}, ${tokens} token${tokens > 1 ? "s" : ""}) ${where}: ${verdict}`);
      console.log(buildLine(r));
      for (const f of m.firstMismatches) console.log(`  token ${f.token} row ${f.row}: expected ${f.expected}, got ${f.actual}`);
    }
    return r.match ? 0 : 1;
  }

  const tokens = modeTokens(args.mode, args.tokens);
  const calls = modelCalls(args, tokens, openOptions(args));
  const r = await runOnBackend(
    hlsBackend,
    engine.geo,
    calls.map((c) => (engine.cfg.dequant ? c.matmul : c.matmul.planes[0]!)),
    calls.map((c) => c.x),
    { tokens },
  );
  const scope = args.all ? "all" : `block ${args.block}`;
  const tensors = calls.map((c, i) => ({ tensor: c.name, n: c.matmul.planes[0]!.n, k: c.matmul.planes[0]!.k, match: r.matmuls[i]!.match, mismatches: r.matmuls[i]!.mismatches }));
  if (args.json) {
    printJson({ backend: "hls", ...(args.all ? { scope } : { scope: "matmuls", block: args.block }), mode: args.mode, tokens, ...figures(r), matmuls: tensors });
  } else {
    console.log(table(["tensor", "n×k", "bit-exact"], tensors.map((t) => [t.tensor, `${t.n}×${t.k}`, t.match ? "yes" : `NO (${t.mismatches})`])));
    console.log(
      `\n${args.all ? "every matmul" : scope}, ${args.mode} (${tokens} token${tokens > 1 ? "s" : ""}) ${where}: ` +
        `${r.match ? "match" : `MISMATCH in ${r.mismatches} outputs`}; outputs ${engine.cfg.dequant ? "dequantized by the engine" : "as integers"}`,
    );
    console.log(buildLine(r));
  }
  return r.match ? 0 : 1;
}
