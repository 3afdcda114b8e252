import { describeArchitecture } from "../model/architecture.js";
import { withModel } from "../model/open.js";
import { modelWorkload } from "../model/workload.js";
import { estimateLatency } from "../estimate/latency.js";
import { UserError } from "../util/errors.js";
import { openOptions, plan, type EngineArgs, type ModelArgs } from "./common.js";
import { printJson, table } from "./output.js";

export interface EstimateArgs extends EngineArgs, ModelArgs {
  model: string;
  prompt?: number[] | undefined;
  context?: number | undefined;
  json: boolean;
}

/** Decode tokens/s, TTFT per prompt length and the bandwidth roofline of a model on an engine. */
export function estimateCommand(args: EstimateArgs): void {
  const { budget, engine } = plan(args);
  if (engine.cfg.loader !== "axi") throw new UserError("estimate models the streaming engine; drop --preload / loader=preload");
  const prompts = args.prompt?.length ? args.prompt : [64, 128];
  const { workload, arch } = withModel(args.model, (m) => {
    const arch = describeArchitecture(m);
    const contextLength = args.context ?? Math.min(arch.contextLength ?? 1024, 1024);
    return { arch, workload: modelWorkload(arch, m.listTensors(), { contextLength }) };
  }, openOptions(args));
  const e = estimateLatency(workload, engine.geo, budget, {
    promptLengths: prompts,
    contextLength: workload.attention.contextLength,
    maxContext: arch.contextLength,
  });
  if (args.json) {
    printJson({
      model: args.model,
      architecture: arch.name,
      device: budget.device,
      engine: engine.cfg,
      ...e,
    });
    return;
  }
  const { cfg } = engine;
  const ms = (cycles: number): string => ((cycles / (budget.clockMHz * 1e6)) * 1e3).toFixed(3);
  console.log(
    `${args.model} (${arch.name}, ${arch.dimensions.layers} layers) on ${budget.device}: ` +
      `engine G=${cfg.G} ${cfg.encoding} T=${cfg.T} P=${cfg.P} at ${budget.clockMHz} MHz, memory ${budget.memoryGBps} GB/s\n`,
  );
  const first = e.layers.filter((l) => l.layer === e.layers[0]!.layer || l.role === "lm_head");
  console.log(
    table(
      ["matmul (layer 0 and LM head)", "n×k", "on", "decode cycles", "ms"],
      first.map((l) => [l.name, `${l.n}×${l.k}`, l.on, l.decodeCycles, ms(l.decodeCycles)]),
    ),
  );
  const d = e.decode;
  console.log(`\ndecode at context ${e.contextLength}: ${e.decodeTokensPerSecond.toFixed(1)} tokens/s (${(d.seconds * 1e3).toFixed(2)} ms per token)`);
  console.log(`  matmuls ${ms(d.matmulCycles)} ms, attention/KV ${ms(d.attentionCycles)} ms, LM head ${ms(d.lmHeadCycles)} ms`);
  console.log(
    `  roofline ${e.rooflineTokensPerSecond.toFixed(1)} tokens/s (${(e.roofline.bytesPerToken / 1e6).toFixed(1)} MB per token): ` +
      `the engine reaches ${(e.rooflineFraction * 100).toFixed(1)}% of it`,
  );
  for (const p of prompts) {
    const f = e.prefill[String(p)]!;
    console.log(`time to first token, ${p}-token prompt: ${(f.seconds * 1e3).toFixed(1)} ms (${(p / f.seconds).toFixed(0)} prompt tokens/s)`);
  }
  console.log("\nwhat is counted:");
  for (const t of e.terms) console.log(`  - ${t}`);
}
