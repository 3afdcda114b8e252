import { step } from "../util/progress.js";
import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "../engine/config.js";
import { planMatmuls, type TilePlan } from "../engine/tiles.js";
import { streamCycles } from "../estimate/cycles/event.js";
import { ternaryMatmul } from "../ref/kernel.js";
import { coreMatrix, fixScales, scaledMatmul, type FixedScales, type ScaledMatmul } from "../engine/scales.js";
import { SimulationError, UserError } from "../util/errors.js";
import { loadAddon } from "./binding.js";
import { buildSimulator, type TraceFormat } from "./build.js";
import { bytesPerCycle, type MemoryTiming } from "../budget/memory.js";
import { axiStreams, unpackTileResults } from "../engine/streams.js";
import { type HostOptions, type RunReply } from "./binding.js";
import type { BackendName, SimBackend, SimulateOptions } from "./backend.js";
import { checkWindowShape, windowInRun, type CycleWindow } from "./window.js";
import { renameSync, rmSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";

export type { SimulateOptions } from "./backend.js";

export interface Mismatch {
  readonly token: number;
  readonly row: number;
  readonly expected: number;
  readonly actual: number;
}

/** One matmul's outputs against the reference kernel. */
export interface MatmulCheck {
  readonly match: boolean;
  readonly mismatches: number;
  readonly firstMismatches: Mismatch[];
  readonly y: Int32Array;
  readonly expected: Int32Array;
}

/** What a run measured, beside what the cycle model predicted. */
export interface RunFigures {
  readonly cycles: number;
  readonly predictedCycles: number;
  readonly weightsPerCycle: number;
  readonly buildSeconds: number;
  readonly simSeconds: number;
  readonly cached: boolean;
  readonly cyclesPerSecond: number;
  readonly tokens: number;
  /** Weight bytes read from off-chip memory, and their share of what the bandwidth allowed. */
  readonly bytesRead: number;
  readonly memBusyFraction: number;
  /** Useful table lookups (tokens · n · ⌈k/G⌉ summed over matmuls) over the P·T slots of every cycle. */
  readonly computeUtilization: number;
}

export interface SimulationResult extends MatmulCheck, RunFigures {
  readonly tiles: TilePlan;
}

/** Several matmuls in one descriptor stream (a decoder block, a model). */
export interface MatmulsResult extends RunFigures {
  readonly match: boolean;
  readonly mismatches: number;
  readonly matmuls: MatmulCheck[];
  readonly tiles: TilePlan;
}

function traceFormat(path: string | undefined): TraceFormat | undefined {
  if (!path) return undefined;
  return path.endsWith(".fst") ? "fst" : "vcd";
}

function traceOptions(options: SimulateOptions, path: string | undefined): Pick<HostOptions, "tracePath" | "traceStart" | "traceEnd"> {
  if (!path) return {};
  const [start, end] = options.traceWindow ?? [0, Infinity];
  // the addon takes a finite end; 1e15 cycles is beyond any run
  return { tracePath: path, traceStart: start, traceEnd: Math.min(end, 1e15) };
}

/**
 * A trace window's shape, and with no backpressure its place in the run: the cycle model is then
 * exact, so a window beyond the predicted run fails before anything is built or simulated.
 */
function checkTraceWindow(options: SimulateOptions, predictedCycles: number): void {
  const window = options.traceWindow;
  if (!window) return;
  if (!options.trace) throw new UserError("a trace window needs a trace file");
  checkWindowShape(window);
  if ((options.validProb ?? 1) >= 1 && (options.readyProb ?? 1) >= 1) windowInRun(window, predictedCycles);
}

/**
 * Runs the simulator, writing the waveform (if any) to a temporary sibling that becomes the trace
 * file when the run is over and its window lies within the run (a hung run's waveform is kept:
 * it is what one debugs the hang with). `checkInRun` false leaves the window's place in the run
 * to the caller (a run stopped at the window's end).
 */
function runTraced<R extends RunReply>(options: SimulateOptions, run: (host: HostOptions) => R, checkInRun = true): R {
  const host = handshakes(options);
  const trace = options.trace;
  if (!trace) return run(host);
  const tmp = join(dirname(trace), `.${basename(trace, extname(trace))}.${process.pid}.partial${extname(trace)}`);
  let reply: R;
  try {
    reply = run({ ...host, ...traceOptions(options, tmp) });
    if (options.traceWindow && checkInRun && !reply.error) windowInRun(options.traceWindow, reply.cycles);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, trace);
  return reply;
}

function compare(expected: Int32Array, n: number, y: Int32Array): MatmulCheck {
  const firstMismatches: Mismatch[] = [];
  let mismatches = 0;
  for (let i = 0; i < expected.length; i++) {
    if (y[i] !== expected[i]) {
      mismatches++;
      if (firstMismatches.length < 10) {
        firstMismatches.push({ token: Math.floor(i / n), row: i % n, expected: expected[i]!, actual: y[i]! });
      }
    }
  }
  return { match: mismatches === 0, mismatches, firstMismatches, y, expected };
}

function utilization(geo: EngineGeometry, ws: readonly TritMatrix[], tokens: number, cycles: number): number {
  const useful = ws.reduce((sum, w) => sum + tokens * w.n * Math.ceil(w.k / geo.cfg.G), 0);
  return useful / (geo.cfg.P * geo.cfg.T * Math.max(cycles, 1));
}

function handshakes(options: SimulateOptions): HostOptions {
  return {
    validProb: options.validProb ?? 1,
    readyProb: options.readyProb ?? 1,
    seed: options.seed ?? 1,
    stallLimit: options.stallLimit ?? 100_000,
    ...(options.maxCycles !== undefined ? { maxCycles: options.maxCycles } : {}),
  };
}

/** A matmul the engine runs: integer results, or scaled ones through the dequantization stage. */
export type EngineMatmul = TritMatrix | ScaledMatmul;

function isScaled(m: EngineMatmul): m is ScaledMatmul {
  return "planes" in m;
}

/**
 * A model's tensor carries its scales: on a dequantizing engine it must run as a scaled matmul
 * (engineMatmul makes one), or the dequantization stage is bypassed and the run still "matches"
 * the integer reference. Plain trit matrices stay allowed there: a stream may mix integer matmuls
 * with scaled ones by design. Every backend prepares its stream here, so all of them refuse it.
 */
function matchesEngine(geo: EngineGeometry, w: EngineMatmul, i: number): void {
  if (geo.cfg.dequant && !isScaled(w) && "scale" in w) {
    const name = "name" in w ? ` "${String(w.name)}"` : "";
    throw new UserError(`matmul ${i}, tensor${name} (${w.n}×${w.k}): the engine dequantizes (dequant=true) and the tensor has scales; pass it with them (engineMatmul), not as raw trits`);
  }
}

/** What the integer core computes for a matmul, its scales, and the reference's expected output. */
function prepare(m: EngineMatmul, x: Int8Array, tokens: number): { core: TritMatrix; scales?: FixedScales; expected: Int32Array; n: number } {
  if (!isScaled(m)) return { core: m, expected: ternaryMatmul(m, x, tokens), n: m.n };
  const scales = fixScales(m);
  return { core: coreMatrix(m), scales, expected: scaledMatmul(m, scales, x, tokens), n: m.planes[0]!.n };
}

/**
 * Matmuls as one descriptor stream of the streaming engine, for any backend that runs it (the
 * verilated RTL, the HLS engine): each matmul prepared against the reference, the tile plan, and
 * the descriptor, activation and memory-image streams.
 */
export function descriptorStream(geo: EngineGeometry, ws: readonly EngineMatmul[], xs: readonly Int8Array[], tokens: number) {
  ws.forEach((w, i) => matchesEngine(geo, w, i));
  const prepared = ws.map((w, i) => prepare(w, xs[i]!, tokens));
  const tiles = planMatmuls(
    geo,
    prepared.map((p) => ({ n: p.core.n, k: p.core.k, scales: p.scales })),
    tokens,
  );
  return { prepared, tiles, streams: axiStreams(geo, tiles, prepared.map((p) => p.core), xs) };
}

/** A stream's results checked matmul by matmul against the reference. */
export function checkStream(geo: EngineGeometry, s: Pick<ReturnType<typeof descriptorStream>, "prepared" | "tiles">, results: Uint32Array): MatmulCheck[] {
  return unpackTileResults(geo, s.tiles, results).map((y, i) => compare(s.prepared[i]!.expected, s.prepared[i]!.n, y));
}

/** What the cycle model says of a run (exact when no stream stalls). */
export interface PredictedRun {
  readonly cycles: number;
  /** The cycle the first pass can start: its weights are in the buffer (the first lookups follow). */
  readonly firstPass: number;
}

function predictRun(geo: EngineGeometry, tiles: TilePlan, memory: MemoryTiming): PredictedRun {
  const model = streamCycles(geo, tiles, memory);
  return { cycles: model.total, firstPass: model.tileLoaded[0] ?? 0 };
}

function requireMemory(options: Pick<SimulateOptions, "memory">): MemoryTiming {
  if (!options.memory) throw new UserError("an engine that streams weights needs a memory timing (a budget)");
  return options.memory;
}

/** Runs that a user waits for visibly (Verilator runs a few million cycles a second). */
const LARGE_RUN_CYCLES = 5_000_000;

function timed<R>(predictedCycles: number, run: () => R): { reply: R; simSeconds: number } {
  const shown = predictedCycles >= LARGE_RUN_CYCLES ? step(`simulating ${predictedCycles.toLocaleString("en-US")} cycles in Verilator`, predictedCycles / 3e6) : undefined;
  const started = performance.now();
  try {
    const reply = run();
    return { reply, simSeconds: (performance.now() - started) / 1000 };
  } finally {
    shown?.done();
  }
}

/** The verilated RTL, through its N-API addon: cycle-accurate, with backpressure and waveforms. */
export const verilatorBackend: SimBackend = {
  name: "verilator",
  cycleAccurate: true,
  async build(geo, options) {
    if (options.predictedCycles !== undefined) checkTraceWindow(options, options.predictedCycles);
    const built = await buildSimulator(geo, traceFormat(options.trace));
    const addon = loadAddon(built.addonPath);
    return {
      buildSeconds: built.buildSeconds,
      cached: built.cached,
      async run(streams, runOptions) {
        const request = { ...streams, beatBytes: geo.beatBytes, ...requireMemory(runOptions) };
        const { reply, simSeconds } = timed(runOptions.predictedCycles ?? 0, () => runTraced(runOptions, (host) => addon.run({ ...request, ...host })));
        if (reply.error) throw new SimulationError(reply.error);
        return { results: reply.results, cycles: reply.cycles, bytesRead: reply.bytesRead, simSeconds };
      },
    };
  },
};

/** A run of matmuls on any backend, checked against the reference and, where it counts cycles, the cycle model. */
export interface BackendResult {
  readonly backend: BackendName;
  readonly match: boolean;
  readonly mismatches: number;
  readonly matmuls: MatmulCheck[];
  readonly tiles: TilePlan;
  readonly tokens: number;
  readonly weightsPerCycle: number;
  /** Measured cycles: undefined for a backend that is not cycle-accurate (HLS). */
  readonly cycles: number | undefined;
  /** The cycle model's cycles for the run (given a memory timing), or the caller's own prediction. */
  readonly predictedCycles: number | undefined;
  /**
   * The measured cycles against the prediction: true or false when the run is free-running on a
   * cycle-accurate backend (the model is then exact), undefined when there is nothing to hold to it
   * (backpressure stalls by chance; HLS has no cycles).
   */
  readonly cyclesAsPredicted: boolean | undefined;
  readonly bytesRead: number | undefined;
  readonly memBusyFraction: number | undefined;
  readonly computeUtilization: number | undefined;
  readonly cyclesPerSecond: number | undefined;
  readonly buildSeconds: number;
  readonly simSeconds: number;
  readonly cached: boolean;
}

/**
 * Runs matmuls back to back on a backend as one descriptor stream and checks every output
 * against the reference (the kernel, then the dequantization for scaled matmuls), and the cycles
 * against the cycle model (or `predictedCycles`, a caller's own model of the same run). ws[i] and
 * xs[i] (tokens × k int8) are matmul i's weights and inputs. A cycle-accurate backend needs
 * `memory`. Throws SimulationError when the run hangs or fails; a wrong output is reported, not thrown.
 */
export async function runOnBackend(
  backend: SimBackend,
  geo: EngineGeometry,
  ws: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: SimulateOptions & { predictedCycles?: number } = {},
): Promise<BackendResult> {
  const tokens = options.tokens ?? 1;
  const { prepared, tiles, streams } = descriptorStream(geo, ws, xs, tokens);
  const memory = backend.cycleAccurate ? requireMemory(options) : options.memory;
  const predictedCycles = options.predictedCycles ?? (memory ? predictRun(geo, tiles, memory).cycles : undefined);
  const runOptions = { ...options, predictedCycles };
  const built = await backend.build(geo, runOptions);
  const run = await built.run(streams, runOptions);
  const matmuls = checkStream(geo, { prepared, tiles }, run.results);
  const freeRunning = (options.validProb ?? 1) >= 1 && (options.readyProb ?? 1) >= 1;
  const { cycles, bytesRead } = run;
  return {
    backend: backend.name,
    match: matmuls.every((m) => m.match),
    mismatches: matmuls.reduce((sum, m) => sum + m.mismatches, 0),
    matmuls,
    tiles,
    tokens,
    weightsPerCycle: geo.weightsPerCycle,
    cycles,
    predictedCycles,
    cyclesAsPredicted: cycles !== undefined && predictedCycles !== undefined && freeRunning ? cycles === predictedCycles : undefined,
    bytesRead,
    memBusyFraction: bytesRead !== undefined && cycles !== undefined && memory ? bytesRead / (bytesPerCycle(memory) * Math.max(cycles, 1)) : undefined,
    computeUtilization: cycles !== undefined ? utilization(geo, prepared.map((p) => p.core), tokens, cycles) : undefined,
    cyclesPerSecond: cycles !== undefined ? cycles / Math.max(run.simSeconds, 1e-9) : undefined,
    buildSeconds: built.buildSeconds,
    simSeconds: run.simSeconds,
    cached: built.cached,
  };
}

/** A result's cycle figures, which a cycle-accurate backend always has. */
function measured(r: BackendResult): RunFigures {
  const { cycles, predictedCycles, bytesRead, memBusyFraction, computeUtilization, cyclesPerSecond } = r;
  if (cycles === undefined || predictedCycles === undefined || bytesRead === undefined || memBusyFraction === undefined || computeUtilization === undefined || cyclesPerSecond === undefined) {
    throw new Error(`the ${r.backend} backend returned a run without its cycle figures: a bug`);
  }
  const { weightsPerCycle, buildSeconds, simSeconds, cached, tokens } = r;
  return { cycles, predictedCycles, bytesRead, memBusyFraction, computeUtilization, cyclesPerSecond, weightsPerCycle, buildSeconds, simSeconds, cached, tokens };
}

/**
 * Runs matmuls back to back through the verilated engine as one descriptor stream (runOnBackend
 * on Verilator), every output checked against the reference. Throws SimulationError when the
 * simulation hangs.
 */
export async function simulateMatmuls(
  geo: EngineGeometry,
  ws: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: SimulateOptions = {},
): Promise<MatmulsResult> {
  const r = await runOnBackend(verilatorBackend, geo, ws, xs, options);
  return { match: r.match, mismatches: r.mismatches, matmuls: r.matmuls, tiles: r.tiles, ...measured(r) };
}

/**
 * Runs one matmul through the verilated engine and checks every output against the reference
 * kernel. Throws SimulationError when the simulation hangs; a wrong output is reported, not thrown.
 */
export async function simulateMatmul(
  geo: EngineGeometry,
  w: EngineMatmul,
  x: Int8Array,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  const { matmuls, ...figures } = await simulateMatmuls(geo, [w], [x], options);
  return { ...matmuls[0]!, ...figures };
}

/** What a traceMatmuls run did. */
export interface TraceRun {
  /** The window recorded, [start, end). */
  readonly window: [number, number];
  /** Cycles simulated: the window's end, or fewer when the whole run is shorter. */
  readonly cycles: number;
  /** True when the run ended by itself before the window's end. */
  readonly finished: boolean;
  readonly predicted: PredictedRun;
  readonly buildSeconds: number;
  readonly cached: boolean;
}

/**
 * Records a waveform of a window of a run without checking its outputs: the same stimulus as
 * simulateMatmuls with the same options, stopped at the window's end. The window has a finite end; it may be chosen from the cycle
 * model's prediction of the run. A run that ends before the window does is not an error here
 * (`finished` says so), which lets a caller cut a default window at the run's end.
 */
export async function traceMatmuls(
  geo: EngineGeometry,
  ws: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: Omit<SimulateOptions, "traceWindow"> & { trace: string; traceWindow: CycleWindow | ((predicted: PredictedRun) => CycleWindow) },
): Promise<TraceRun> {
  const memory = requireMemory(options);
  const { tiles, streams } = descriptorStream(geo, ws, xs, options.tokens ?? 1);
  const predicted = predictRun(geo, tiles, memory);
  const request = { ...streams, beatBytes: geo.beatBytes, ...memory };
  const asked = options.traceWindow;
  const [start, end] = checkWindowShape(typeof asked === "function" ? asked(predicted) : asked);
  if (end === Infinity) throw new UserError("a waveform of part of a run needs a window with an end");
  const built = await buildSimulator(geo, traceFormat(options.trace));
  const addon = loadAddon(built.addonPath);
  const reply = runTraced({ ...options, traceWindow: [start, end], maxCycles: end }, (host) => addon.run({ ...request, ...host }), false);
  const stopped = reply.cycles >= end && reply.error !== undefined && /exceeded the limit/.test(reply.error);
  if (reply.error && !stopped) throw new SimulationError(reply.error);
  return { window: [start, end], cycles: reply.cycles, finished: !stopped, predicted, buildSeconds: built.buildSeconds, cached: built.cached };
}
