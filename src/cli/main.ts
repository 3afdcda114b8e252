import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { SimulationError, ToolError, UserError } from "../util/errors.js";
import { compileCommand, demoCommand, inspectCommand, makeModelCommand, refCommand, simCommand } from "./commands.js";
import { estimateCommand } from "./estimate.js";
import { blockSimCommand } from "./block-sim.js";
import { scopeOf } from "./common.js";
import { hlsSimCommand } from "./hls-sim.js";
import { modelSimCommand } from "./model-sim.js";
import { modeTokens } from "../sim/inputs.js";
import { mergeCommand, sweepCommand } from "./sweep.js";
import { verifyCommand } from "./verify.js";
import { reportCommand } from "./report.js";
import { checkOutputFile } from "../util/atomic.js";
import { printable } from "../util/quote.js";

const debug = process.argv.includes("--debug");

/** What the Icarus testbench cannot do, refused by flag before anything runs. */
function refuseForIcarus(a: { backpressure: number; trace?: string | undefined; wave?: string | undefined; traceWindow?: string | undefined }): void {
  if (a.backpressure !== 0) throw new UserError("--backpressure: the Icarus testbench drives the streams without stalls; use --backend rtl");
  if ((a.trace ?? a.wave ?? a.traceWindow) !== undefined) throw new UserError("--trace, --wave and --trace-window: the Icarus backend writes no waveforms; use --backend rtl");
}

function engineOptions<T>(y: Argv<T>) {
  return y
    .option("device", { type: "string", describe: "budget preset: kv260, zcu104, zcu102, vck190, u55c, u280" })
    .option("budget", { type: "string", describe: "budget JSON file" })
    .option("engine", { type: "string", describe: "engine JSON file (fields of EngineConfig)" })
    .option("set", { type: "string", array: true, describe: "engine override key=value (repeatable)" });
}

/** Runs a command body, turning known failures into one line and an exit code. */
async function guarded(body: () => number | void | Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = typeof code === "number" ? code : 0;
  } catch (err) {
    if (err instanceof UserError) {
      // names read from files (tensors, paths) may hold control characters: one visible line
      console.error(`trilut: ${printable(err.message)}`);
      process.exitCode = 2;
    } else if (err instanceof ToolError) {
      console.error(`trilut: ${printable(err.message)}`);
      if (err.detail) console.error(err.detail);
      process.exitCode = 3;
    } else if (err instanceof SimulationError) {
      console.error(`trilut: ${printable(err.message)}`);
      process.exitCode = 1;
    } else {
      console.error(debug ? err : `trilut: internal error: ${(err as Error).message} (rerun with --debug for the stack)`);
      process.exitCode = 1;
    }
  }
}

await yargs(hideBin(process.argv))
  .scriptName("trilut")
  .usage("$0 <command> [options]\n\nCompiler and cycle-accurate simulator for table-lookup ternary LLM accelerators.")
  .option("debug", { type: "boolean", describe: "show stack traces of internal errors" })
  .option("scale-direction", {
    choices: ["multiply", "divide"],
    describe: "Hugging Face checkpoints: W = trit · weight_scale or trit / weight_scale (default: from config.json)",
  })
  .command(
    "make-model",
    "write a synthetic llama- or BitNet-style ternary model (GGUF, or a Hugging Face BitNet directory)",
    (y) =>
      y
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output .gguf file (hf-bitnet: checkpoint directory)" })
        .option("format", {
          choices: ["tq2_0", "tq1_0", "i2_s", "hf-bitnet"],
          default: "tq2_0",
          describe: "i2_s (bitnet.cpp) and hf-bitnet (microsoft/bitnet-b1.58-2B-4T layout) need --arch bitnet-b1.58",
        })
        .option("arch", { choices: ["llama", "bitnet-b1.58"], default: "llama", describe: "bitnet-b1.58: ReLU², sub-norms, tied embeddings" })
        .option("hidden", { type: "number", demandOption: true })
        .option("ffn", { type: "number", demandOption: true })
        .option("layers", { type: "number", demandOption: true })
        .option("heads", { type: "number", demandOption: true })
        .option("kv-heads", { type: "number", demandOption: true })
        .option("vocab", { type: "number", demandOption: true })
        .option("seed", { type: "number", default: 1 })
        .option("zero-fraction", { type: "number", default: 1 / 3 })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => makeModelCommand(a)),
  )
  .command(
    "inspect <model>",
    "architecture, dimensions and every tensor of a model",
    (y) =>
      y
        .positional("model", { type: "string", demandOption: true })
        .option("json", { type: "boolean", default: false })
        .option("context", { type: "number", describe: "KV cache length for the attention workload (default: the model's context length)" }),
    (a) => guarded(() => inspectCommand(a)),
  )
  .command(
    "ref <model>",
    "run the reference kernel on raw int8 activations",
    (y) =>
      y
        .positional("model", { type: "string", demandOption: true })
        .option("tensor", { type: "string", demandOption: true })
        .option("input", { type: "string", demandOption: true, describe: "M×k int8, row-major" })
        .option("tokens", { type: "number", describe: "M (default: inferred from the input size)" })
        .option("out", { type: "string", demandOption: true, describe: "M×n int32 little-endian, row-major" })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => refCommand(a)),
  )
  .command(
    "compile <model>",
    "plan an engine for a budget and write its RTL, schedule and weight images",
    (y) =>
      engineOptions(y.positional("model", { type: "string", demandOption: true }))
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "output directory" })
        .option("tensor", { type: "string", array: true, describe: "only these tensors (default: every ternary tensor)" })
        .option("scope", { type: "string", describe: "block (default): also write DIR/rtl/block/, the whole decoder block accelerator; matmuls: the engine alone" })
        .option("hls", { type: "boolean", default: false, describe: "also write DIR/hls/: the engine as Vitis HLS C++, a C testbench and run_hls.tcl" })
        .option("report", { type: "boolean", default: true, describe: "write report.html, report.md and report.json (--no-report skips)" })
        .option("auto", { type: "boolean", describe: "choose the engine by a sweep of G, encoding, T, P and c on the budget (--set fields stay fixed)" })
        .option("objective", { type: "string", array: true, describe: "--auto: figures to optimize, in order (default decodeTokensPerSecond lutTotal)" })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => compileCommand(a)),
  )
  .command(
    "sim <model>",
    "simulate one matmul in Verilator and check it bit for bit against the reference",
    (y) =>
      engineOptions(y.positional("model", { type: "string", demandOption: true }))
        .option("tensor", { type: "string", describe: "one matmul" })
        .option("block", { type: "number", describe: "decoder block B: the whole block accelerator (--scope block, the default) or its matmuls as one descriptor stream (--scope matmuls)" })
        .option("scope", { type: "string", describe: "--block: block (default) runs every unit of the block and checks its residual stream and KV cache; matmuls runs its ternary matmuls alone" })
        .option("all", { type: "boolean", describe: "every ternary matmul of the model, as one descriptor stream" })
        .option("mode", { choices: ["decode", "prefill"], default: "decode", describe: "one token, or --tokens M reusing each tile" })
        .option("context", { type: "number", describe: "--block/--all decode: prompt tokens in the KV cache before the decoded one (default 8)" })
        .option("input", { type: "string", describe: "M×k int8 activations (default: seeded random)" })
        .option("out", { type: "string", describe: "write the simulated M×n int32 results" })
        .option("tokens", { type: "number" })
        .option("trace", { type: "string", describe: "waveform file for GTKWave (.vcd or .fst)" })
        .option("trace-window", { type: "string", describe: "cycles START:END that --trace records and --wave draws (START inclusive, END exclusive; START: to the run's end)" })
        .option("wave", { type: "string", describe: "draw a window of the run as a wavedrom SVG (default window: the engine's first work, 60..400 cycles)" })
        .option("signals", { type: "string", describe: "--wave: comma-separated signals, e.g. clk,x_valid,core.compute.issue,y_data[31:0] (default: handshakes, table build, lookups, results)" })
        .option("backpressure", { type: "number", default: 0, describe: "probability a stream stalls in a cycle" })
        .option("seed", { type: "number", default: 1 })
        .option("json", { type: "boolean", default: false })
        .option("backend", {
          choices: ["rtl", "icarus", "hls"] as const,
          default: "rtl" as const,
          describe: "rtl: the Verilog in Verilator; icarus: the same Verilog in Icarus Verilog (no backpressure, no waveforms); hls: the HLS C++ built with g++",
        }),
    (a) =>
      guarded(() => {
        const scopes = [a.tensor !== undefined, a.block !== undefined, a.all === true].filter(Boolean).length;
        if (scopes !== 1) throw new UserError("name what to simulate: one of --tensor NAME, --block B or --all");
        const scope = scopeOf(a.scope);
        if (a.block !== undefined && scope === "block") return blockSimCommand({ ...a, block: a.block });
        if (a.block === undefined && a.scope === "block") throw new UserError("--scope block runs a whole decoder block: name it with --block B");
        // where the results go is checked before minutes of build and simulation
        if (a.out !== undefined) checkOutputFile(a.out, "--out");
        if (a.trace !== undefined) checkOutputFile(a.trace, "--trace");
        if (a.backend === "hls" && (a.wave ?? a.traceWindow) !== undefined) throw new UserError("--wave and --trace-window: the HLS backend is a C simulation and has no waveforms; use --backend rtl");
        if (a.backend === "hls") return hlsSimCommand(a);
        if (a.backend === "icarus") refuseForIcarus(a);
        const rtl = { ...a, backend: a.backend };
        if (a.tensor === undefined) return modelSimCommand(rtl);
        return simCommand({ ...rtl, tensor: a.tensor, tokens: a.mode === "decode" ? a.tokens : modeTokens(a.mode, a.tokens) });
      }),
  )
  .command(
    "estimate <model>",
    "decode tokens/s, time to first token and the bandwidth roofline of a model on an engine",
    (y) =>
      engineOptions(y.positional("model", { type: "string", demandOption: true }))
        .option("prompt", { type: "number", array: true, describe: "prompt lengths for time to first token (default 64 128)" })
        .option("context", { type: "number", describe: "KV-cache length for decode (default: the model's, at most 1024)" })
        .option("json", { type: "boolean", default: false })
        .option("scope", { type: "string", describe: "block (default): also one whole decoder block in hardware, cycles by unit; matmuls: the ternary matmuls alone" })
        .option("synth", { type: "boolean", default: false, describe: "also synthesize the engine with yosys (@yowasp/yosys) and report resources per module" }),
    (a) => guarded(() => estimateCommand(a)),
  )
  .command(
    "sweep <spec>",
    "evaluate a space of engines with the analytic models: what fits, the Pareto front, plots",
    (y) =>
      y
        .positional("spec", { type: "string", demandOption: true, describe: "sweep spec, YAML or JSON" })
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "sweep directory (resumed if it holds this spec)" })
        .option("shard", { type: "string", describe: "evaluate shard i of N (i/N, 1-based); combine with trilut merge" })
        .option("jobs", { alias: "j", type: "number", default: 1, describe: "worker threads" })
        .option("verify-top", { type: "number", describe: "simulate the best K points in Verilator: bit-exact, predicted vs measured cycles" })
        .option("synth", { type: "boolean", default: false, describe: "with --verify-top: also synthesize them with yosys" })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => sweepCommand(a)),
  )
  .command(
    "merge <dirs..>",
    "combine the directories of a sharded sweep into one result",
    (y) =>
      y
        .positional("dirs", { type: "string", array: true, demandOption: true })
        .option("out", { alias: "o", type: "string", demandOption: true })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => mergeCommand({ dirs: a.dirs as string[], out: a.out, json: a.json })),
  )
  .command(
    "verify <spec>",
    "run a spec's checks (tensors, blocks, engines, modes) through simulation and synthesis budgets; JUnit XML for CI",
    (y) =>
      y
        .positional("spec", { type: "string", demandOption: true, describe: "verify spec, YAML or JSON" })
        .option("junit", { type: "string", describe: "write JUnit XML here" })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => (a.junit !== undefined && checkOutputFile(a.junit, "--junit"), verifyCommand(a))),
  )
  .command(
    "report <dir>",
    "write DIR/report.html (self-contained), report.md and report.json from a compile or sweep directory",
    (y) =>
      y
        .positional("dir", { type: "string", demandOption: true })
        .option("sim", { type: "boolean", default: true, describe: "compile directories: run the first tensor in Verilator for measured cycles (--no-sim skips)" })
        .option("json", { type: "boolean", default: false }),
    (a) => guarded(() => reportCommand({ dir: a.dir, sim: a.sim, json: a.json })),
  )
  .command(
    "demo",
    "compile and simulate the bundled example model on the kv260 budget",
    (y) => y.option("out", { alias: "o", type: "string", default: "out/demo" }),
    (a) => guarded(() => demoCommand(a)),
  )
  .demandCommand(1, "name a command; see --help")
  .strict()
  .fail((msg, err) => {
    if (err) throw err;
    console.error(`trilut: ${msg}`);
    process.exit(2);
  })
  .help()
  .parseAsync();
