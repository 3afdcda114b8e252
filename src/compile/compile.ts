import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type Budget } from "../budget/budget.js";
import { type PlannedEngine } from "../plan/plan.js";
import { encodeIndices } from "../engine/pack.js";
import { streamCycles } from "../estimate/cycles/event.js";
import { planMatmuls, planImage, type TilePlan } from "../engine/tiles.js";
import { fixScales, tensorScales } from "../engine/scales.js";
import { memoryTiming } from "../budget/memory.js";
import { engineBudget } from "../estimate/clock.js";
import { requireTernary, type ModelReader } from "../model/reader.js";
import { writeDirAtomic } from "../util/atomic.js";
import { inTensor, UserError } from "../util/errors.js";
import { enginePorts } from "../engine/ports.js";
import { generateRtl } from "../codegen/rtl.js";
import { packageVersion } from "../util/templates.js";
import { checkHlsProject, writeHlsProject } from "../codegen/hls-project.js";
import { type TernaryTensor } from "../model/types.js";

export interface CompiledTensor {
  readonly name: string;
  readonly n: number;
  readonly k: number;
  readonly predictedCycles: number;
  readonly image: string;
  readonly imageBytes: number;
}

export interface CompileResult {
  readonly dir: string;
  readonly rtlFiles: string[];
  readonly tensors: CompiledTensor[];
  /** hls/ files (compile --hls). */
  readonly hlsFiles: string[];
}

export interface CompileOptions {
  /** Also write hls/: the engine as Vitis HLS C++, a C testbench on the first tensor, run_hls.tcl. */
  readonly hls?: boolean;
}

/**
 * The output directory is replaced wholesale, so only ever replace an earlier compile's output (it
 * has engine.json) or an empty directory: `-o .` or `-o model.gguf` must not delete the user's files.
 */
export function checkReplaceable(outDir: string): void {
  if (outDir === "") throw new UserError("--out: expected a directory name, got an empty one");
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new UserError(`${outDir}: exists and is not a directory; refusing to replace it`);
  const entries = readdirSync(outDir);
  if (entries.length > 0 && !entries.includes("engine.json")) {
    throw new UserError(`${outDir}: exists and is not a trilut output directory (no engine.json); refusing to replace it`);
  }
}

/** File-safe name of a tensor's memory image. */
/**
 * A tensor's image file name: the name itself when it is made of [A-Za-z0-9_.-], otherwise every
 * other byte as ~HH. `~` is never kept, so two different tensor names never share a file.
 */
export function imageName(tensor: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(tensor)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(ch) ? ch : `~${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}.bin`;
}

function tilePlanJson(plan: TilePlan): object {
  const m = plan.matmuls[0]!;
  return { n: m.n, k: m.k, tokens: plan.tokens, steps: m.steps, groupsPerTile: m.groupsPerTile, descriptors: plan.tiles };
}

/**
 * Writes an engine for a model into `outDir` (compileInto), replacing an earlier output only when
 * every file is written.
 */
export function compileModel(
  model: ModelReader,
  budget: Budget,
  engine: PlannedEngine,
  outDir: string,
  tensorNames?: readonly string[],
  options: CompileOptions = {},
): CompileResult {
  checkReplaceable(outDir);
  const result = writeDirAtomic(outDir, (tmp) => compileInto(model, budget, engine, tmp, tensorNames, options));
  return { ...result, dir: outDir };
}

/**
 * Writes an engine for a model into the empty directory `dir`: rtl/*.v, engine.json (configuration, geometry,
 * ports, budget and resource estimate), schedule.json (the decode descriptors of every ternary
 * tensor with its predicted cycles) and mem/<tensor>.bin, each tensor's memory image as its
 * descriptors address it (little-endian 32-bit words);
 * with `options.hls`, also hls/ (src/codegen/hls-project.ts). Everything is checked before the first
 * file is written.
 */
export function compileInto(
  model: ModelReader,
  budget: Budget,
  engine: PlannedEngine,
  tmp: string,
  tensorNames?: readonly string[],
  options: CompileOptions = {},
): CompileResult {
  const { geo } = engine;
  if (options.hls) checkHlsProject(geo, budget);
  // predicted cycles count the memory at the engine's clock (the budget's, or its lower estimate)
  const memory = memoryTiming(engineBudget(geo, budget));
  for (const name of tensorNames ?? []) requireTernary(model, name);
  const listing = model.listTensors().filter((t) => t.ternary && (!tensorNames || tensorNames.includes(t.name)));
  if (listing.length === 0) {
    throw new UserError(`${basename(model.path)}: no ternary tensors to compile (a float checkpoint must be quantized to TQ1_0, TQ2_0, I2_S or a BitNet checkpoint first)`);
  }
  const tensors: CompiledTensor[] = [];
  const rtlFiles: string[] = [];
  const hlsFiles: string[] = [];
  let hlsTensor: { tensor: TernaryTensor; image: string } | undefined;
  {
    mkdirSync(join(tmp, "rtl"));
    mkdirSync(join(tmp, "mem"));
    for (const f of generateRtl(geo)) {
      writeFileSync(join(tmp, "rtl", f.name), f.content);
      rtlFiles.push(`rtl/${f.name}`);
    }
    const schedules: Record<string, object> = {};
    for (const t of listing) inTensor(model.path, t.name, () => {
      const tensor = model.readTernary(t.name);
      const packed = encodeIndices(geo, tensor);
      const image = `mem/${imageName(t.name)}`;
      const file = join(tmp, image);
      // a dequantizing engine gets the tensor's scales after each column group's weights
      const scales = geo.cfg.dequant ? fixScales(tensorScales(tensor)) : undefined;
      const plan = planMatmuls(geo, [{ n: tensor.n, k: tensor.k, scales }], 1);
      const words = planImage(geo, [packed], plan);
      const predictedCycles = streamCycles(geo, plan, memory).total;
      schedules[t.name] = { ...tilePlanJson(plan), predictedCycles, image };
      writeFileSync(file, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
      const bytes = words.byteLength;
      tensors.push({ name: t.name, n: tensor.n, k: tensor.k, predictedCycles, image, imageBytes: bytes });
      if (options.hls) hlsTensor ??= { tensor, image };
    });
    if (options.hls) {
      if (!hlsTensor) throw new UserError("--hls: the testbench runs a ternary tensor, and none was compiled");
      hlsFiles.push(...writeHlsProject(join(tmp, "hls"), geo, budget, hlsTensor.tensor, hlsTensor.image));
    }
    const engineJson = {
      generator: `trilut ${packageVersion()}`,
      model: model.path,
      engine: engine.cfg,
      geometry: { ...geo, cfg: undefined },
      ports: enginePorts(geo),
      budget,
      resources: engine.resources,
      weightImageLayout:
        "per tile (4 KB aligned, at its descriptor's addr): 72-bit column words in buffer order (address s*groups+g, bank p, column j = bits [72j, 72j+72) of the bank word; table t of a bank word at bits [t*IB, (t+1)*IB)), slotsPerBeat words to a memBits-bit beat, word i at bits [72i, 72i+72); 32-bit little-endian words",
      memory,
    };
    writeFileSync(join(tmp, "engine.json"), JSON.stringify(engineJson, null, 2) + "\n");
    writeFileSync(join(tmp, "schedule.json"), JSON.stringify({ tensors: schedules }, null, 2) + "\n");
  }
  return { dir: tmp, rtlFiles, tensors, hlsFiles };
}
