import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type MemoryTiming } from "../budget/memory.js";
import { type SourceFile } from "../units/unit.js";
import { cacheRoot } from "../util/cache.js";
import { SimulationError, ToolError } from "../util/errors.js";
import { PACKAGE_ROOT, packageVersion, renderTemplate } from "../util/templates.js";
import { CXX_FLAGS, hash, publish, runBuildTool, VERILATOR_FLAGS } from "./build.js";
import { HLS_CXX_FLAGS } from "./hls-build.js";
import { toolchain } from "./toolchain.js";

const execFileAsync = promisify(execFile);

/**
 * The harness of one decoder unit on its own: its Verilog in Verilator (or its HLS function under
 * g++) with each stream port fed from a list of items and each output collected, so a unit's
 * reference, RTL, HLS and cycle function are checked against each other before the block sequencer
 * composes them. Streams are `<name>_valid`, `<name>_ready`, `<name>_data` and, when declared,
 * `<name>_last`; the clock is `clk` and the synchronous reset `rst`.
 */
export interface HarnessStream {
  readonly name: string;
  /** Bits of `<name>_data` (1..1024). */
  readonly width: number;
  /** Whether the stream has `<name>_last`. */
  readonly last?: boolean;
  /** Its C++ element type in the HLS function (int32_t, int8_t, …; at most 64 bits). */
  readonly cxxType?: string;
}

export interface StreamItem {
  /** The data bits, unsigned (masked to the stream's width). */
  readonly data: bigint;
  readonly last?: boolean;
}

/**
 * An off-chip memory port of the unit (AXI4 subset, named as the engine's read port in
 * hw/trilut_axi_loader.v with `<name>_` in front): `_ar_valid/_ar_ready/_ar_addr/_ar_len`,
 * `_r_valid/_r_ready/_r_data/_r_last`, `_aw_valid/_aw_ready/_aw_addr/_aw_len`,
 * `_w_valid/_w_ready/_w_data/_w_strb/_w_last`, `_b_valid/_b_ready`; lengths are beats − 1, addresses
 * 32 bits. Served by sim/trilut_memory.h's model (read and write ports).
 */
export interface HarnessMemory {
  readonly name: string;
  /** Bytes per data beat (a power of two, 16..512): `_r_data`/`_w_data` are 8·beatBytes bits. */
  readonly beatBytes: number;
}

export interface UnitDesign {
  readonly top: string;
  readonly sources: readonly SourceFile[];
  readonly inputs: readonly HarnessStream[];
  readonly outputs: readonly HarnessStream[];
  readonly memories?: readonly HarnessMemory[];
}

/** A memory's initial image (bytes, a multiple of 4) and timing for one run. */
export interface MemoryRun {
  readonly image: Uint8Array;
  readonly timing: MemoryTiming;
}

export interface UnitHlsDesign {
  /** The function the harness calls with the input streams, then the output streams, in order. */
  readonly function: string;
  /** The C++ source defining it (it may include trilut_hls_stream.h). */
  readonly source: SourceFile;
  readonly inputs: readonly HarnessStream[];
  readonly outputs: readonly HarnessStream[];
  /** Memories, passed after the streams as `uint32_t*` (the image's words; C simulation: no timing). */
  readonly memories?: readonly HarnessMemory[];
}

export interface UnitRun {
  /** Items per input stream, by name. */
  readonly inputs: Readonly<Record<string, readonly StreamItem[]>>;
  /** Items to collect per output stream: the run ends when every output has given this many. */
  readonly expect: Readonly<Record<string, number>>;
  /** Random valid and ready gaps (about 30% idle) on every stream, from this seed. */
  readonly backpressure?: { readonly seed: number };
  /** A run that has not finished after this many cycles is a hang (default 1,000,000). */
  readonly maxCycles?: number;
  /** Each declared memory's initial image and timing, by name. */
  readonly memories?: Readonly<Record<string, MemoryRun>>;
}

export interface UnitResult {
  readonly outputs: Record<string, StreamItem[]>;
  /**
   * Cycles from the first after reset to the one in which the last expected output item was taken,
   * inclusive (−1 from the HLS harness: C simulation has no cycles).
   */
  readonly cycles: number;
  /** Per output, the cycle of its first item (−1 for none, and in C simulation). */
  readonly firstOutput: Record<string, number>;
  /** Each declared memory's image at the end of the run, by name. */
  readonly memories: Record<string, Uint8Array>;
}

const MAX_WIDTH = 1024;

/** The signed value of `width` bits. */
export function signedOf(v: bigint, width: number): number {
  return Number(BigInt.asIntN(width, v));
}

/** Stream items from signed (or unsigned) integers, masked to `width` bits; `lastEvery` marks vector ends. */
export function itemsOf(values: ArrayLike<number | bigint>, width: number, lastEvery?: number): StreamItem[] {
  return Array.from({ length: values.length }, (_, i) => ({
    data: BigInt.asUintN(width, BigInt(values[i]!)),
    last: lastEvery !== undefined && (i + 1) % lastEvery === 0,
  }));
}

function checkStreams(where: string, streams: readonly HarnessStream[]): void {
  const seen = new Set<string>();
  for (const s of streams) {
    if (!/^[A-Za-z_]\w*$/.test(s.name)) throw new RangeError(`${where}: stream name "${s.name}" is not an identifier`);
    if (seen.has(s.name)) throw new RangeError(`${where}: stream ${s.name} declared twice`);
    seen.add(s.name);
    if (!(Number.isInteger(s.width) && s.width >= 1 && s.width <= MAX_WIDTH)) {
      throw new RangeError(`${where}: stream ${s.name} is ${s.width} bits wide; expected 1..${MAX_WIDTH}`);
    }
  }
}

const words = (width: number): number => Math.ceil(width / 32);

function checkMemories(where: string, memories: readonly HarnessMemory[]): void {
  for (const m of memories) {
    if (!/^[A-Za-z_]\w*$/.test(m.name)) throw new RangeError(`${where}: memory name "${m.name}" is not an identifier`);
    if (!(Number.isInteger(m.beatBytes) && m.beatBytes >= 16 && m.beatBytes <= 512 && (m.beatBytes & (m.beatBytes - 1)) === 0)) {
      throw new RangeError(`${where}: memory ${m.name} has ${m.beatBytes}-byte beats; expected a power of two in 16..512`);
    }
  }
}

function memoryLines(memories: readonly HarnessMemory[], run: UnitRun): string[] {
  const lines: string[] = [];
  for (const m of memories) {
    const given = run.memories?.[m.name];
    if (!given) throw new RangeError(`no image given for memory ${m.name}`);
    if (given.image.length % 4 !== 0) throw new RangeError(`memory ${m.name}: image of ${given.image.length} bytes; expected a multiple of 4`);
    const t = given.timing;
    const words = new Uint32Array(given.image.buffer.slice(given.image.byteOffset, given.image.byteOffset + given.image.length));
    lines.push(`${t.bwNum} ${t.bwDen} ${t.latency} ${t.maxQueued} ${words.length}`);
    for (let i = 0; i < words.length; i += 8) lines.push(Array.from(words.subarray(i, i + 8), (w) => w.toString(16)).join(" "));
  }
  return lines;
}

function inputFile(design: { inputs: readonly HarnessStream[]; outputs: readonly HarnessStream[]; memories?: readonly HarnessMemory[] }, run: UnitRun): string {
  const lines = [`${run.backpressure?.seed ?? 0} ${run.backpressure ? 1 : 0} ${run.maxCycles ?? 1_000_000}`];
  for (const s of design.inputs) {
    const items = run.inputs[s.name];
    if (!items) throw new RangeError(`no items given for input stream ${s.name}`);
    lines.push(String(items.length));
    for (const it of items) lines.push(`${BigInt.asUintN(s.width, it.data).toString(16)} ${it.last ? 1 : 0}`);
  }
  for (const s of design.outputs) {
    const n = run.expect[s.name];
    if (n === undefined) throw new RangeError(`no expected count for output stream ${s.name}`);
    lines.push(String(n));
  }
  lines.push(...memoryLines(design.memories ?? [], run));
  return `${lines.join("\n")}\n`;
}

function parseOutputs(outputs: readonly HarnessStream[], memories: readonly HarnessMemory[], text: string): UnitResult {
  const lines = text.split("\n");
  let at = 0;
  const cycles = Number(lines[at++]);
  const result: Record<string, StreamItem[]> = {};
  const firstOutput: Record<string, number> = {};
  for (const s of outputs) {
    const [count, first] = lines[at++]!.split(" ").map(Number) as [number, number];
    firstOutput[s.name] = first;
    result[s.name] = Array.from({ length: count }, () => {
      const [hex, last] = lines[at++]!.split(" ");
      return { data: BigInt.asUintN(s.width, BigInt(`0x${hex}`)), last: last === "1" };
    });
  }
  const images: Record<string, Uint8Array> = {};
  for (const m of memories) {
    const count = Number(lines[at++]);
    const words = new Uint32Array(count);
    for (let i = 0; i < count; i += 8) {
      lines[at++]!.split(" ").forEach((w, k) => (words[i + k] = Number.parseInt(w, 16)));
    }
    images[m.name] = new Uint8Array(words.buffer);
  }
  return { outputs: result, cycles, firstOutput, memories: images };
}

async function runHarness(exe: string, design: UnitDesign | UnitHlsDesign, run: UnitRun, what: string): Promise<UnitResult> {
  const dir = mkdtempSync(join(tmpdir(), "trilut-unit-"));
  try {
    const [input, output] = [join(dir, "in.txt"), join(dir, "out.txt")];
    writeFileSync(input, inputFile(design, run));
    try {
      await execFileAsync(exe, [input, output], { maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new ToolError(`${what} failed`, (e.stderr ?? "").trim() || e.message);
    }
    const result = parseOutputs(design.outputs, design.memories ?? [], readFileSync(output, "utf8"));
    if ("top" in design && result.cycles < 0) {
      const short = design.outputs.map((s) => `${s.name} ${result.outputs[s.name]!.length}/${run.expect[s.name]}`).join(", ");
      throw new SimulationError(`${what}: no finish within ${run.maxCycles ?? 1_000_000} cycles (outputs taken: ${short})`);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds (or finds in the cache) the Verilator harness of a unit. */
export async function buildUnitHarness(design: UnitDesign): Promise<string> {
  checkStreams(design.top, [...design.inputs, ...design.outputs]);
  checkMemories(design.top, design.memories ?? []);
  const tc = toolchain();
  const decorate = (s: HarnessStream) => ({ ...s, words: words(s.width), wide: s.width > 64 });
  const tb = renderTemplate("sim/unit_tb.cpp.hbs", {
    version: packageVersion(),
    top: design.top,
    inputs: design.inputs.map(decorate),
    outputs: design.outputs.map(decorate),
    memories: (design.memories ?? []).map((m) => ({
      ...m,
      beatWords: m.beatBytes / 4,
      dataWide: m.beatBytes > 8,
      strbWide: m.beatBytes > 64,
      strbWords: Math.ceil(m.beatBytes / 32),
      strbBytes: m.beatBytes / 8,
    })),
  });
  const memoryHeader = readFileSync(join(PACKAGE_ROOT, "sim", "trilut_memory.h"), "utf8");
  const key = hash([...design.sources.flatMap((f) => [f.name, f.content]), tb, memoryHeader, tc.verilatorVersion, tc.cxxVersion, ...VERILATOR_FLAGS]);
  const dir = join(cacheRoot(), "unit", key);
  const exe = join(dir, "unit_tb");
  if (existsSync(exe)) return exe;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "rtl"), { recursive: true });
  try {
    for (const f of design.sources) writeFileSync(join(tmp, "rtl", f.name), f.content);
    writeFileSync(join(tmp, "unit_tb.cpp"), tb);
    writeFileSync(join(tmp, "trilut_memory.h"), memoryHeader);
    await runBuildTool(tc.verilator, [
      "--cc", "--exe", "--build", "-j", "2", ...VERILATOR_FLAGS,
      "--top-module", design.top, "--Mdir", join(tmp, "obj"), "-CFLAGS", CXX_FLAGS.join(" "),
      "-o", join(tmp, "unit_tb"),
      join(tmp, "unit_tb.cpp"), ...design.sources.map((f) => join(tmp, "rtl", f.name)),
    ]);
    rmSync(join(tmp, "obj"), { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  publish(tmp, dir);
  return exe;
}

/** Runs a unit's Verilog in Verilator on one set of input streams. */
export async function simulateUnit(design: UnitDesign, run: UnitRun): Promise<UnitResult> {
  return runHarness(await buildUnitHarness(design), design, run, `Verilator run of ${design.top}`);
}

/** Builds (or finds in the cache) the g++ harness of a unit's HLS function. */
export async function buildUnitHlsHarness(design: UnitHlsDesign): Promise<string> {
  checkStreams(design.function, [...design.inputs, ...design.outputs]);
  checkMemories(design.function, design.memories ?? []);
  for (const s of [...design.inputs, ...design.outputs]) {
    if (s.width > 64 || !s.cxxType) throw new RangeError(`${design.function}: HLS stream ${s.name} needs a cxxType of at most 64 bits`);
  }
  const cxx = process.env["CXX"] ?? "g++";
  const streamHeader = renderTemplate("hls/trilut_hls_stream.h.hbs", { version: packageVersion() });
  const tb = renderTemplate("sim/unit_hls_tb.cpp.hbs", {
    version: packageVersion(),
    function: design.function,
    sourceName: design.source.name,
    inputs: design.inputs,
    outputs: design.outputs,
    memories: design.memories ?? [],
    args: [...design.inputs, ...design.outputs].map((s) => s.name),
  });
  const key = hash([design.source.name, design.source.content, streamHeader, tb, cxx, ...HLS_CXX_FLAGS]);
  const dir = join(cacheRoot(), "unit-hls", key);
  const exe = join(dir, "unit_hls_tb");
  if (existsSync(exe)) return exe;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, design.source.name), design.source.content);
    writeFileSync(join(tmp, "trilut_hls_stream.h"), streamHeader);
    writeFileSync(join(tmp, "unit_hls_tb.cpp"), tb);
    await runBuildTool(cxx, [...HLS_CXX_FLAGS, `-I${tmp}`, join(tmp, "unit_hls_tb.cpp"), "-o", exe.replace(dir, tmp)]);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  publish(tmp, dir);
  return exe;
}

/** Runs a unit's HLS function under g++ on one set of input streams (C simulation: no cycles). */
export async function simulateUnitHls(design: UnitHlsDesign, run: UnitRun): Promise<UnitResult> {
  return runHarness(await buildUnitHlsHarness(design), design, run, `C simulation of ${design.function}`);
}
