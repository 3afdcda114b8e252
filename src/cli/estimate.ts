import { UserError } from "../util/errors.js";
import { estimateModel } from "../estimate/model-estimate.js";
import { type ModuleEstimate } from "../estimate/resources.js";
import { type SynthCounts, type SynthResult } from "../estimate/synth/synth.js";
import { type ClockEstimate, type ClockSide, type EngineClock } from "../estimate/clock.js";
import { type Budget } from "../budget/budget.js";
import { estimateBlock, type BlockEstimate } from "../plan/block-estimate.js";
import { openOptions, plan, scopeOf, type EngineArgs, type ModelArgs } from "./common.js";
import { printJson, table } from "./output.js";

export interface EstimateArgs extends EngineArgs, ModelArgs {
  model: string;
  prompt?: number[] | undefined;
  context?: number | undefined;
  json: boolean;
  /** Also synthesize the engine with yosys and report its resources per module. */
  synth?: boolean | undefined;
  /** "block" (default): also one decoder block in hardware, cycles by unit; "matmuls": the matmuls alone. */
  scope?: string | undefined;
}

const RESOURCE_KEYS = ["lut", "lutram", "ff", "carry", "bram36", "uram", "dsp"] as const satisfies readonly (keyof SynthCounts)[];
const RESOURCE_LABELS: Record<keyof SynthCounts, string> = {
  lut: "LUT", lutram: "LUTRAM", ff: "FF", carry: "CARRY", bram36: "BRAM36", uram: "URAM", dsp: "DSP",
};

/** `resources` of the --json output: the analytic figures, the synthesized ones (--synth) and the budget. */
function resourcesJson(
  analytic: ModuleEstimate,
  synth: SynthResult | undefined,
  budget: Budget,
): Record<string, unknown> {
  return {
    // per module: ONE instance's own cells, like resources.synth.modules; `instances` counts them
    analytic: { total: analytic.total, modules: analytic.modules, instances: analytic.instances, family: budget.family },
    ...(synth
      ? {
          synth: {
            total: synth.total,
            modules: synth.modules,
            instances: synth.instances,
            family: synth.family,
            yosys: synth.yosysVersion,
            cached: synth.cached,
            seconds: synth.seconds,
            notes: synth.notes,
          },
        }
      : {}),
    budget: {
      device: budget.device,
      family: budget.family,
      lut: budget.lut,
      ff: budget.ff,
      bram36: budget.bram36,
      uram: budget.uram,
      dsp: budget.dsp,
      utilizationCap: budget.utilizationCap,
    },
  };
}

/**
 * The per-module resource table: all instances of each module, total and % of budget. Each cell is
 * the analytic figure, or "analytic / synthesized" with --synth.
 */
function resourceTable(analytic: ModuleEstimate, synth: SynthResult | undefined, budget: Budget): string {
  const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const cell = (a: number | undefined, y: number | undefined): string =>
    synth ? `${a === undefined ? "-" : fmt(a)} / ${y === undefined ? "-" : fmt(y)}` : fmt(a ?? 0);
  const names = [...new Set([...Object.keys(analytic.modules), ...Object.keys(synth?.modules ?? {})])].sort((a, b) => a.localeCompare(b));
  const rows: (string | number)[][] = names.map((name) => {
    const a = analytic.modules[name];
    const na = analytic.instances[name] ?? 0;
    const y = synth?.modules[name];
    const ny = synth?.instances[name] ?? 0;
    const n = synth && ny !== na ? `${na} / ${ny}` : na || ny;
    return [name, n, ...RESOURCE_KEYS.map((k) => cell(a ? a[k] * na : undefined, y ? y[k] * ny : undefined))];
  });
  rows.push(["total", "", ...RESOURCE_KEYS.map((k) => cell(analytic.total[k], synth?.total[k]))]);
  const limit: Record<keyof SynthCounts, number | undefined> = {
    lut: budget.lut, lutram: undefined, ff: budget.ff, carry: undefined, bram36: budget.bram36, uram: budget.uram, dsp: budget.dsp,
  };
  const pct = (used: number, of: number | undefined): string =>
    of === undefined ? "" : of === 0 ? (used > 0 ? "n/a" : "0%") : `${((used / of) * 100).toFixed(1)}%`;
  const pctOf = (t: SynthCounts, k: keyof SynthCounts): string => (k === "lut" ? pct(t.lut + t.lutram, budget.lut) : pct(t[k], limit[k]));
  rows.push([
    `% of ${budget.device}`,
    "",
    ...RESOURCE_KEYS.map((k) =>
      synth && limit[k] !== undefined ? `${pctOf(analytic.total, k)} / ${pctOf(synth.total, k)}` : pctOf(analytic.total, k),
    ),
  ]);
  return table(["module", "instances", ...RESOURCE_KEYS.map((k) => RESOURCE_LABELS[k])], rows);
}

/** Decode tokens/s, TTFT per prompt length and the bandwidth roofline of a model on an engine. */
export async function estimateCommand(args: EstimateArgs): Promise<void> {
  const { budget, engine } = plan(args);
  const scope = scopeOf(args.scope);
  const prompts = args.prompt?.length ? args.prompt : [64, 128];
  const estimate = await estimateModel(args.model, engine.geo, budget, {
    promptLengths: prompts,
    ...(args.context !== undefined ? { contextLength: args.context } : {}),
    synth: args.synth === true,
    open: openOptions(args),
  });
  const { architecture: arch, latency: e, clock } = estimate;
  const { analytic, synth } = estimate.resources;
  // after the model's own estimate, so its refusals (context, prompts) come first
  // asked for by name, a block that cannot be mapped is refused; by default the matmul estimate
  // stands and the missing block is said, in text and JSON
  let block: BlockEstimate | undefined;
  let blockSkipped: string | undefined;
  if (scope === "block") {
    try {
      block = estimateBlock(args.model, engine.geo, budget, { contextLength: e.contextLength, promptLengths: prompts, open: openOptions(args) });
    } catch (err) {
      if (!(err instanceof UserError) || args.scope === "block") throw err;
      blockSkipped = err.message;
    }
  }
  if (args.json) {
    printJson({
      model: args.model,
      architecture: arch.name,
      device: budget.device,
      engine: engine.cfg,
      scope,
      ...e,
      resources: resourcesJson(analytic, synth, budget),
      clock,
      ...(block ? { block } : {}),
      ...(blockSkipped !== undefined ? { block: { scope: "block", estimated: false, reason: blockSkipped } } : {}),
    });
    return;
  }
  const { cfg } = engine;
  // cycles into seconds at the clock the latency model used: the budget's, or the lower estimate
  const ms = (cycles: number): string => ((cycles / (e.clockMHz * 1e6)) * 1e3).toFixed(3);
  const used = e.clockUsed;
  console.log(
    `${args.model} (${arch.name}, ${arch.dimensions.layers} layers) on ${budget.device}: ` +
      `engine G=${cfg.G} ${cfg.encoding} T=${cfg.T} P=${cfg.P} at ${e.clockMHz} MHz, memory ${budget.memoryGBps} GB/s`,
  );
  console.log(used.limitedBy === "estimate" ? `NOTE: ${used.note}\n` : `  ${used.note}\n`);
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
  console.log(
    synth
      ? `\nresources, analytic / synthesized (yosys ${synth.yosysVersion}, ${synth.yosysFamily}, ` +
          `${synth.cached ? "cached" : `${synth.seconds.toFixed(1)} s`}; LUT % counts LUT + LUTRAM):`
      : "\nresources, analytic (the hardware units of src/units/; --synth adds yosys figures; LUT % counts LUT + LUTRAM):",
  );
  console.log(resourceTable(analytic, synth, budget));
  if (synth) for (const n of synth.notes) console.log(`  - ${n}`);
  console.log(clockText(clock, e.clockUsed));
  if (block) console.log(blockText(block));
  else if (blockSkipped !== undefined) console.log(`\nNOT ESTIMATED: one decoder block in hardware: ${blockSkipped} (the figures above are the matmuls' alone)`);
  else console.log("\nscope matmuls: the ternary matmuls and the memory traffic above only (--scope block adds one decoder block in hardware)");
}

/** One decoder block in hardware: cycles by unit in decode and in each prefill, and what they cover. */
function blockText(b: BlockEstimate): string {
  const runs: [string, BlockEstimate["decode"] | BlockEstimate["prefill"][string]][] = [
    [`decode, context ${b.decode.context}`, b.decode],
    ...Object.entries(b.prefill).map(([p, r]): [string, BlockEstimate["decode"]] => [`prefill ${p} tokens`, { ...r, context: Number(p) }]),
  ];
  const units = [...new Set(runs.flatMap(([, r]) => Object.keys(r.units)))];
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const s = b.shape;
  return [
    `\nscope block: ONE decoder block in hardware (hidden ${s.hidden}, ffn ${s.ffn}, ${s.heads} heads / ${s.kvHeads} KV heads of ${s.headDim}, ${s.activation}${s.subNorms ? ", sub-norms" : ""}; ${b.layers} per token), by the exact cycle model, at ${b.clockMHz} MHz:`,
    table(
      ["run", "cycles", "ms", "not matmuls", ...units],
      runs.map(([name, r]) => [name, r.cycles, r.milliseconds.toFixed(3), pct(r.nonMatmulShare), ...units.map((u) => r.units[u] ?? 0)]),
    ),
    "what the block figures cover:",
    ...b.covers.map((c) => `  - ${c}`),
  ].join("\n");
}

/** The clock estimate: the analytic figure, the netlist's beside it, against the budget's clock. */
function clockText(c: ClockEstimate, used: EngineClock): string {
  const line = (label: string, s: ClockSide): string =>
    `  ${label}: ${s.fmaxMHz.toFixed(0)} MHz (${s.periodNs.toFixed(2)} ns, ${s.levels} logic levels) in ${s.criticalModule}: ${s.path}; ` +
    `${s.meetsTarget ? "meets" : "misses"} ${c.targetMHz} MHz`;
  return [
    `\nclock, an ESTIMATE from logic depth (docs/clock.md); target ${c.targetMHz} MHz, the budget's clock:`,
    line("analytic", c.analytic),
    ...(c.synth ? [line("yosys netlist", c.synth)] : []),
    `  latency and TTFT above use ${used.mhz} MHz (${used.limitedBy === "estimate" ? "the analytic estimate, below the budget's clock" : "the budget's clock"})`,
    `  - ${c.model.source}`,
    `  - ${c.note}`,
  ].join("\n");
}
