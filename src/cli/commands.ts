import { printable } from "../util/quote.js";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { openOptions, plan, round, scopeOf, type EngineArgs, type ModelArgs } from "./common.js";
import { blockAccelerator, writeBlockRtl, type BlockAccelerator } from "../compile/block-accelerator.js";
import { activations, engineMatmul, readTensor } from "../sim/inputs.js";
import { checkReplaceable, compileInto, compileModel } from "../compile/compile.js";
import { checkOutputFile, writeDirAtomicAsync } from "../util/atomic.js";
import { parseEngineOverrides } from "../engine/config.js";
import { readEngineFile } from "../plan/plan.js";
import { autoEngine, describeChoice, type AutoChoice } from "../sweep/auto.js";
import { writeReport } from "../report/write.js";
import { firstCycles } from "../report/waveform.js";
import { type SimulationRow } from "../report/collect.js";
import { makeLlamaModel, type SyntheticArchitecture, type SyntheticFormat } from "../model/make-model.js";
import { formatInspect, inspectModel } from "../model/inspect.js";
import { withModel } from "../model/open.js";
import { type TernaryTensor } from "../model/types.js";
import { ternaryMatmul } from "../ref/kernel.js";
import { memoryTiming } from "../budget/memory.js";
import { atEngineClock, describeEngineClock, engineBudget, engineClockMHz, type EngineClock } from "../estimate/clock.js";
import { simulateMatmul, runOnBackend, type BackendResult } from "../sim/simulate.js";
import { backendNamed } from "../sim/backends.js";
import { inTensor, UserError } from "../util/errors.js";
import { readInt8Matrix, writeInt32Matrix } from "../util/rawio.js";
import { cyclesReport, measuredCycles, outputsVerdict, printJson, table } from "./output.js";
import { PACKAGE_ROOT } from "../util/templates.js";
import { drawWave, waveFlags, writeWave, type WaveArgs } from "./wave.js";

export function makeModelCommand(args: {
  out: string;
  format: string;
  arch: string;
  hidden: number;
  ffn: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  seed: number;
  zeroFraction: number;
  json?: boolean;
}): void {
  const r = makeLlamaModel({
    path: args.out,
    format: args.format as SyntheticFormat,
    architecture: args.arch as SyntheticArchitecture,
    hidden: args.hidden,
    ffn: args.ffn,
    layers: args.layers,
    heads: args.heads,
    kvHeads: args.kvHeads,
    vocab: args.vocab,
    seed: args.seed,
    zeroFraction: args.zeroFraction,
  });
  if (args.json) printJson({ path: r.path, format: args.format, arch: args.arch, tensors: r.tensorCount, ternaryWeights: r.ternaryWeights, bytes: r.fileBytes });
  else console.log(`wrote ${r.path}: ${r.tensorCount} tensors, ${r.ternaryWeights.toLocaleString("en-US")} ternary weights, ${r.fileBytes.toLocaleString("en-US")} bytes`);
}

export function inspectCommand(args: ModelArgs & { model: string; json: boolean; context?: number | undefined }): void {
  if (args.context !== undefined && !(Number.isSafeInteger(args.context) && args.context >= 0)) {
    throw new UserError(`--context ${args.context}: expected a non-negative integer`);
  }
  const report = withModel(args.model, (m) => inspectModel(m, args.context !== undefined ? { contextLength: args.context } : {}), openOptions(args));
  if (args.json) printJson(report);
  // one visible line per line of the report, whatever control characters a tensor name holds
  else console.log(formatInspect(report).split("\n").map(printable).join("\n"));
}



export function refCommand(args: ModelArgs & { model: string; tensor: string; input: string; tokens?: number | undefined; out: string; json?: boolean }): void {
  checkOutputFile(args.out, "--out");
  const tensor = readTensor(args.model, args.tensor, openOptions(args));
  const { data, rows } = readInt8Matrix(args.input, tensor.k, args.tokens);
  const y = ternaryMatmul(tensor, data, rows);
  writeInt32Matrix(args.out, y);
  if (args.json) printJson({ out: args.out, tensor: args.tensor, tokens: rows, n: tensor.n, k: tensor.k, bytes: y.byteLength });
  else console.log(`wrote ${args.out}: ${rows} × ${tensor.n} int32 (${printable(args.tensor)}, k = ${tensor.k})`);
}

export interface CompileArgs extends EngineArgs, ModelArgs {
  model: string;
  out: string;
  tensor?: string[] | undefined;
  /** Also write DIR/hls/: the engine as Vitis HLS C++. */
  hls?: boolean | undefined;
  /** Write report.html / report.md / report.json beside the outputs (default true). */
  report?: boolean | undefined;
  /** Choose the engine by a sweep over G, encoding, T, P and c (--set fields stay fixed). */
  auto?: boolean | undefined;
  objective?: string[] | undefined;
  json?: boolean | undefined;
  /** "block" (default): also DIR/rtl/block/, the whole decoder block accelerator; "matmuls": the engine alone. */
  scope?: string | undefined;
}

export async function compileCommand(args: CompileArgs): Promise<void> {
  if (args.objective?.length && !args.auto) throw new UserError("--objective chooses the engine of --auto; add --auto");
  checkReplaceable(args.out);
  const say = args.json ? (line: string) => process.stderr.write(line + "\n") : (line: string) => console.log(line);
  let auto: AutoChoice | undefined;
  if (args.auto) {
    const fixed = { ...(args.engine ? readEngineFile(args.engine) : {}), ...parseEngineOverrides(args.set ?? []) };
    const budget = args.device ?? (args.budget ? resolve(args.budget) : undefined);
    if (budget === undefined) throw new UserError("--auto needs a budget: --device NAME or --budget FILE");
    auto = autoEngine({ model: args.model, budget, fixed, objectives: args.objective });
    say(describeChoice(auto, args.objective?.length ? args.objective : undefined));
    args = { ...args, engine: undefined, set: auto.set };
  }
  const { budget, engine } = plan(args);
  const scope = scopeOf(args.scope);
  // planned before anything is written. Asked for by name, a block that cannot be built is refused;
  // by default the engine is still written and the missing block is said, in text and JSON
  let block: BlockAccelerator | undefined;
  let blockSkipped: string | undefined;
  if (scope === "block") {
    try {
      block = withModel(args.model, (m) => blockAccelerator(m, engine.geo, budget), openOptions(args));
    } catch (err) {
      if (!(err instanceof UserError) || args.scope === "block") throw err;
      blockSkipped = err.message;
    }
  }
  // the report is part of the output: the directory replaces an earlier one only with it written
  const result = await writeDirAtomicAsync(args.out, async (tmp) => {
    const r = withModel(args.model, (m) => compileInto(m, budget, engine, tmp, args.tensor, { hls: args.hls === true }), openOptions(args));
    const blockRtlFiles = block ? writeBlockRtl(tmp, block) : [];
    if (args.report !== false) {
      await writeReport(tmp);
    }
    return { ...r, blockRtlFiles, dir: args.out };
  });
  const bram36 = (b: BlockAccelerator): number => b.buffers.reduce((x, y) => x + y.bram36, 0);
  const { cfg } = engine;
  if (args.json) {
    printJson({
      out: result.dir,
      device: budget.device,
      engine: cfg,
      weightsPerCycle: engine.geo.weightsPerCycle,
      resources: engine.resources,
      tensors: result.tensors,
      rtlFiles: result.rtlFiles,
      hlsFiles: result.hlsFiles,
      scope,
      ...(blockSkipped !== undefined ? { block: { written: false, reason: blockSkipped } } : {}),
      ...(block
        ? {
            block: {
              written: true,
              top: block.top,
              rtlFiles: result.blockRtlFiles,
              shape: block.shape,
              capacity: block.capacity,
              buffers: block.buffers,
              buffersBram36: bram36(block),
              dequantAdded: block.dequantAdded,
            },
          }
        : {}),
      ...(args.report !== false ? { report: ["report.html", "report.md", "report.json"].map((f) => join(args.out, f)) } : {}),
      ...(auto ? { auto: { set: auto.set, searched: auto.searched, feasible: auto.feasible } } : {}),
    });
    return;
  }
  console.log(
    `engine G=${cfg.G} ${cfg.encoding} T=${cfg.T} P=${cfg.P} c=${cfg.c} on ${budget.device}: ` +
      `${engine.geo.weightsPerCycle} weights/cycle, ${engine.resources.uram} URAM, ${engine.resources.bram36} BRAM36`,
  );
  console.log(
    table(
      ["tensor", "n", "k", "predicted cycles", "image bytes"],
      result.tensors.map((t) => [t.name, t.n, t.k, t.predictedCycles, t.imageBytes]),
    ),
  );
  console.log(`wrote ${result.dir}: ${result.rtlFiles.length} Verilog files, engine.json, schedule.json, ${result.tensors.length} weight images`);
  if (block) {
    const s = block.shape;
    console.log(
      `  and rtl/block/: the whole decoder block accelerator (top ${block.top}, ${result.blockRtlFiles.length} Verilog files, its engine included` +
        `${block.dequantAdded ? " with its dequantization stage added" : ""}): hidden ${s.hidden}, ffn ${s.ffn}, ${s.heads} heads / ${s.kvHeads} KV heads of ${s.headDim}, ` +
        `${s.activation}${s.subNorms ? ", sub-norms" : ""}, KV cache of ${s.maxContext} positions; buffers for ${block.capacity.tokens} token a run, ${bram36(block).toFixed(1)} BRAM36`,
    );
  } else if (blockSkipped !== undefined) {
    console.log(`  NOT WRITTEN: rtl/block/, the whole decoder block accelerator: ${blockSkipped}`);
  } else {
    console.log("  scope matmuls: the engine alone (--scope block adds rtl/block/, the whole decoder block accelerator)");
  }
  if (args.report !== false) {
    console.log(`report: ${join(args.out, "report.html")} (trilut report ${args.out} adds a simulated run and its waveform)`);
  }
  if (result.hlsFiles.length > 0) console.log(`  and hls/: the engine as Vitis HLS C++ (${result.hlsFiles.length} files; vitis_hls -f ${result.dir}/hls/run_hls.tcl)`);
}

export interface SimArgs extends EngineArgs, ModelArgs, WaveArgs {
  model: string;
  tensor: string;
  input?: string | undefined;
  out?: string | undefined;
  tokens?: number | undefined;
  trace?: string | undefined;
  backpressure: number;
  seed: number;
  json: boolean;
  /** A cycle-accurate backend: rtl (Verilator, the default) or icarus. */
  backend?: "rtl" | "icarus" | undefined;
}

/** A figure rounded for JSON, absent where the backend does not measure it. */
const maybeRound = (v: number | undefined): number | undefined => (v === undefined ? undefined : round(v));

function simJson(r: BackendResult, tensor: TernaryTensor, clock: EngineClock, cycles: number, predicted: number): object {
  const m = r.matmuls[0]!;
  return {
    ...(r.backend !== "verilator" ? { backend: r.backend } : {}),
    tensor: tensor.name,
    n: tensor.n,
    k: tensor.k,
    tokens: r.tokens,
    match: m.match,
    mismatches: m.mismatches,
    firstMismatches: m.firstMismatches,
    cycles,
    predictedCycles: predicted,
    weightsPerCycle: r.weightsPerCycle,
    microseconds: cycles / clock.mhz,
    clockMHz: clock.mhz,
    clockUsed: { ...clock, note: `microseconds ${describeEngineClock(clock)}` },
    bytesRead: r.bytesRead,
    memBusyFraction: maybeRound(r.memBusyFraction),
    computeUtilization: maybeRound(r.computeUtilization),
    buildSeconds: round(r.buildSeconds),
    simSeconds: round(r.simSeconds),
    cached: r.cached,
    cyclesPerSecond: Math.round(r.cyclesPerSecond ?? 0),
  };
}

/** Returns the process exit code: 1 when any output differs from the reference. */
export async function simCommand(args: SimArgs): Promise<number> {
  const { budget, engine } = plan(args);
  const tensor = readTensor(args.model, args.tensor, openOptions(args));
  const { x, tokens } = activations(tensor, args.input, args.tokens, args.seed);
  const bp = args.backpressure;
  if (!(bp >= 0 && bp < 1)) throw new UserError(`--backpressure ${bp}: expected a probability in [0, 1)`);
  const waves = waveFlags(args);
  // the engine runs at its own clock (the budget's, or its lower estimate): the memory in its cycles
  const clock = engineClockMHz(engine.geo, budget);
  const options = { tokens, memory: memoryTiming(atEngineClock(budget, clock)), validProb: 1 - bp, readyProb: 1 - bp, seed: args.seed };
  // what goes wrong preparing or running this tensor names the model and tensor, as compile does
  const inIt = <T>(fn: () => T): T => inTensor(args.model, tensor.name, fn);
  const matmul = inIt(() => engineMatmul(engine.geo, tensor));
  const wave = await inIt(() => drawWave(args, waves, engine.geo, [matmul], [x], options, `${tensor.name} on ${budget.device}`));
  const r = await inIt(() => runOnBackend(backendNamed(args.backend ?? "rtl"), engine.geo, [matmul], [x], { ...options, ...waves.trace }));
  const m = r.matmuls[0]!;
  const { cycles, predicted } = measuredCycles(r);
  if (args.out) writeInt32Matrix(args.out, m.y);
  const drawn = writeWave(args, wave);
  if (args.json) {
    printJson({ ...simJson(r, tensor, clock, cycles, predicted), ...cyclesReport(cycles, predicted, bp).json, ...drawn.json });
  } else {
    const verdict = outputsVerdict(m.match, m.mismatches, m.expected.length);
    const on = r.backend === "verilator" ? "" : ` (${r.backend})`;
    console.log(`${printable(tensor.name)} (${tensor.n}×${tensor.k}, ${tokens} token${tokens > 1 ? "s" : ""}) on ${budget.device}${on}: ${verdict}`);
    console.log(
      `  ${cyclesReport(cycles, predicted, bp).text}, ` +
        `${(cycles / clock.mhz).toFixed(1)} µs at ${clock.mhz} MHz, ${r.weightsPerCycle} weights/cycle`,
    );
    if (clock.limitedBy === "estimate") console.log(`  NOTE: microseconds and memory timing ${describeEngineClock(clock)}`);
    if (r.bytesRead !== undefined && r.memBusyFraction !== undefined) {
      console.log(
        `  memory ${r.bytesRead.toLocaleString("en-US")} bytes, port ${(r.memBusyFraction * 100).toFixed(1)}% busy ` +
          `(${budget.memoryGBps} GB/s); lookup slots ${((r.computeUtilization ?? 0) * 100).toFixed(1)}% used`,
      );
    }
    const speed = `(${Math.round(r.cyclesPerSecond ?? 0).toLocaleString("en-US")} cycles/s)`;
    // Icarus compiles its testbench for the stream at run time: there is no separate build to show
    if (r.backend === "icarus") console.log(`  Icarus compiled and ran the testbench in ${r.simSeconds.toFixed(2)} s ${speed}`);
    else console.log(`  simulator ${r.cached ? "cached" : "built"} in ${r.buildSeconds.toFixed(2)} s; ran ${r.simSeconds.toFixed(2)} s ${speed}`);
    for (const f of m.firstMismatches) console.log(`  token ${f.token} row ${f.row}: expected ${f.expected}, got ${f.actual}`);
    for (const line of drawn.lines) console.log(line);
  }
  return m.match ? 0 : 1;
}

/** The bundled example: compile for the KV260 and simulate every matmul of block 0. */
export async function demoCommand(args: { out: string }): Promise<number> {
  const model = join(PACKAGE_ROOT, "models", "tiny-tq2_0.gguf");
  if (!existsSync(model)) throw new UserError(`${model}: the bundled example model is missing`);
  console.log(`trilut demo: ${model} on the kv260 budget\n`);
  const { budget, engine } = plan({ device: "kv260" });
  const names = withModel(model, (m) => m.listTensors().filter((t) => t.ternary && t.name.startsWith("blk.0.")).map((t) => t.name));
  withModel(model, (m) => compileModel(m, budget, engine, args.out, names));
  const rows: (string | number)[][] = [];
  const demoRuns: SimulationRow[] = [];
  let failed = false;
  for (const name of names) {
    const tensor = readTensor(model, name);
    const { x } = activations(tensor, undefined, 1, 1);
    const r = await simulateMatmul(engine.geo, tensor, x, { memory: memoryTiming(engineBudget(engine.geo, budget)) });
    failed ||= !r.match;
    demoRuns.push({ what: name, mode: "decode", tokens: 1, predictedCycles: r.predictedCycles, measuredCycles: r.cycles, bitExact: r.match });
    rows.push([
      name,
      `${tensor.n}×${tensor.k}`,
      r.cycles,
      r.predictedCycles,
      (r.cycles / engineClockMHz(engine.geo, budget).mhz).toFixed(1),
      `${(r.memBusyFraction * 100).toFixed(0)}%`,
      r.match ? "yes" : "NO",
    ]);
  }
  console.log(table(["tensor", "n×k", "cycles", "predicted", "µs", "memory busy", "bit-exact"], rows));
  const { cfg } = engine;
  console.log(
    `\nengine: G=${cfg.G} ${cfg.encoding} tables, T=${cfg.T}, P=${cfg.P}, c=${cfg.c}: ${engine.geo.weightsPerCycle} weights/cycle at ${engineClockMHz(engine.geo, budget).mhz} MHz`,
  );
  console.log(`RTL, schedule and weight images: ${args.out}`);
  const tensor = readTensor(model, names[0]!);
  const waveform = await firstCycles(engine.geo, tensor, activations(tensor, undefined, 1, 1).x, engineBudget(engine.geo, budget));
  await writeReport(args.out, async (d) => ({ ...d, simulation: demoRuns, waveform }));
  console.log(`report: ${join(args.out, "report.html")}`);
  return failed ? 1 : 0;
}
