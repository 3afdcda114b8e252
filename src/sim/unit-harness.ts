import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type SourceFile } from "../units/unit.js";
import { cacheRoot } from "../util/cache.js";
import { SimulationError, ToolError } from "../util/errors.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
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

export interface UnitDesign {
  readonly top: string;
  readonly sources: readonly SourceFile[];
  readonly inputs: readonly HarnessStream[];
  readonly outputs: readonly HarnessStream[];
}

export interface UnitHlsDesign {
  /** The function the harness calls with the input streams, then the output streams, in order. */
  readonly function: string;
  /** The C++ source defining it (it may include trilut_hls_stream.h). */
  readonly source: SourceFile;
  readonly inputs: readonly HarnessStream[];
  readonly outputs: readonly HarnessStream[];
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

function inputFile(design: { inputs: readonly HarnessStream[]; outputs: readonly HarnessStream[] }, run: UnitRun): string {
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
  return `${lines.join("\n")}\n`;
}

function parseOutputs(outputs: readonly HarnessStream[], text: string): UnitResult {
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
  return { outputs: result, cycles, firstOutput };
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
    const result = parseOutputs(design.outputs, readFileSync(output, "utf8"));
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
  const tc = toolchain();
  const decorate = (s: HarnessStream) => ({ ...s, words: words(s.width), wide: s.width > 64 });
  const tb = renderTemplate("sim/unit_tb.cpp.hbs", {
    version: packageVersion(),
    top: design.top,
    inputs: design.inputs.map(decorate),
    outputs: design.outputs.map(decorate),
  });
  const key = hash([...design.sources.flatMap((f) => [f.name, f.content]), tb, tc.verilatorVersion, tc.cxxVersion, ...VERILATOR_FLAGS]);
  const dir = join(cacheRoot(), "unit", key);
  const exe = join(dir, "unit_tb");
  if (existsSync(exe)) return exe;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "rtl"), { recursive: true });
  try {
    for (const f of design.sources) writeFileSync(join(tmp, "rtl", f.name), f.content);
    writeFileSync(join(tmp, "unit_tb.cpp"), tb);
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
