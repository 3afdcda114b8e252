import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "../engine/config.js";
import { scheduleMatmul, type Schedule } from "../engine/schedule.js";
import { planMatmuls, type TilePlan } from "../engine/tiles.js";
import { scheduleCycles } from "../estimate/cycles.js";
import { streamCycles } from "../estimate/stream-cycles.js";
import { ternaryMatmul } from "../ref/kernel.js";
import { coreMatrix, fixScales, scaledMatmul, type FixedScales, type ScaledMatmul } from "../engine/scales.js";
import { SimulationError, UserError } from "../util/errors.js";
import { loadAddon } from "./binding.js";
import { buildSimulator, type TraceFormat } from "./build.js";
import { bytesPerCycle, type MemoryTiming } from "../budget/memory.js";
import { axiStreams, hostStreams, unpackResults, unpackTileResults } from "./streams.js";

export interface SimulateOptions {
  /** Tokens (rows of x). */
  tokens?: number;
  /** Memory timing, for engines that stream weights (loader "axi"). */
  memory?: MemoryTiming;
  /** Backpressure: probability a stream with data offers it, and that the sink is ready (1 = always). */
  validProb?: number;
  readyProb?: number;
  seed?: number;
  /** Waveform file (.vcd or .fst) and cycle window. */
  trace?: string;
  traceWindow?: [number, number];
  /** Cycles without a handshake before the watchdog ends the run. */
  stallLimit?: number;
}

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
  /** Preload engines: the LOAD/RUN schedule; axi engines: the tile plan. */
  readonly schedule?: Schedule;
  readonly tiles?: TilePlan;
}

/** Several matmuls in one descriptor stream (a decoder block, a model) on a streaming engine. */
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

function traceOptions(options: SimulateOptions): { tracePath?: string; traceStart?: number; traceEnd?: number } {
  return options.trace
    ? { tracePath: options.trace, traceStart: options.traceWindow?.[0] ?? 0, traceEnd: options.traceWindow?.[1] ?? 1e15 }
    : {};
}

/** Every output against the reference kernel. */
function check(w: TritMatrix, x: Int8Array, tokens: number, y: Int32Array): MatmulCheck {
  return compare(ternaryMatmul(w, x, tokens), w.n, y);
}

export function compare(expected: Int32Array, n: number, y: Int32Array): MatmulCheck {
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

/** The figures every run reports, from the simulator's reply and the prediction. */
function runFigures(
  geo: EngineGeometry,
  built: { buildSeconds: number; cached: boolean },
  run: { cycles: number; simSeconds: number; predictedCycles: number; tokens: number; cores: readonly TritMatrix[] },
): Omit<RunFigures, "bytesRead" | "memBusyFraction"> {
  return {
    cycles: run.cycles,
    predictedCycles: run.predictedCycles,
    weightsPerCycle: geo.weightsPerCycle,
    buildSeconds: built.buildSeconds,
    simSeconds: run.simSeconds,
    cached: built.cached,
    cyclesPerSecond: run.cycles / Math.max(run.simSeconds, 1e-9),
    tokens: run.tokens,
    computeUtilization: utilization(geo, run.cores, run.tokens, run.cycles),
  };
}

function handshakes(options: SimulateOptions): { validProb: number; readyProb: number; seed: number; stallLimit: number } {
  return {
    validProb: options.validProb ?? 1,
    readyProb: options.readyProb ?? 1,
    seed: options.seed ?? 1,
    stallLimit: options.stallLimit ?? 100_000,
    ...traceOptions(options),
  };
}

/** A matmul the engine runs: integer results, or scaled ones through the dequantization stage. */
export type EngineMatmul = TritMatrix | ScaledMatmul;

function isScaled(m: EngineMatmul): m is ScaledMatmul {
  return "planes" in m;
}

/** What the integer core computes for a matmul, its scales, and the reference's expected output. */
export function prepare(m: EngineMatmul, x: Int8Array, tokens: number): { core: TritMatrix; scales?: FixedScales; expected: Int32Array; n: number } {
  if (!isScaled(m)) return { core: m, expected: ternaryMatmul(m, x, tokens), n: m.n };
  const scales = fixScales(m);
  return { core: coreMatrix(m), scales, expected: scaledMatmul(m, scales, x, tokens), n: m.planes[0]!.n };
}

/**
 * Runs matmuls back to back through a streaming engine as one descriptor stream and checks every
 * output against the reference (the kernel, then the dequantization for scaled matmuls). ws[i]
 * and xs[i] (tokens × k int8) are matmul i's weights and inputs. Throws SimulationError when the
 * simulation hangs.
 */
export async function simulateMatmuls(
  geo: EngineGeometry,
  ws: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: SimulateOptions = {},
): Promise<MatmulsResult> {
  if (geo.cfg.loader !== "axi") throw new UserError("running several matmuls in one stream needs the streaming engine (loader axi)");
  const memory = options.memory;
  if (!memory) throw new UserError("an engine that streams weights needs a memory timing (a budget)");
  const tokens = options.tokens ?? 1;
  const prepared = ws.map((w, i) => prepare(w, xs[i]!, tokens));
  const tiles = planMatmuls(
    geo,
    prepared.map((p) => ({ n: p.core.n, k: p.core.k, scales: p.scales })),
    tokens,
  );
  const built = await buildSimulator(geo, traceFormat(options.trace));
  const addon = loadAddon(built.addonPath);
  const streams = axiStreams(geo, tiles, prepared.map((p) => p.core), xs);
  const started = performance.now();
  const reply = addon.run({ ...streams, beatBytes: geo.beatBytes, ...memory, ...handshakes(options) });
  const simSeconds = (performance.now() - started) / 1000;
  if (reply.error) throw new SimulationError(reply.error);
  const matmuls = unpackTileResults(geo, tiles, reply.results).map((y, i) => compare(prepared[i]!.expected, prepared[i]!.n, y));
  return {
    match: matmuls.every((m) => m.match),
    mismatches: matmuls.reduce((sum, m) => sum + m.mismatches, 0),
    matmuls,
    tiles,
    ...runFigures(geo, built, {
      cycles: reply.cycles,
      simSeconds,
      predictedCycles: streamCycles(geo, tiles, memory).total,
      tokens,
      cores: prepared.map((p) => p.core),
    }),
    bytesRead: reply.bytesRead,
    memBusyFraction: reply.bytesRead / (bytesPerCycle(memory) * Math.max(reply.cycles, 1)),
  };
}

/**
 * Runs one matmul through the verilated engine and checks every output against the reference
 * kernel. Throws SimulationError when the simulation hangs; a wrong output is reported, not thrown.
 */
export async function simulateMatmul(
  geo: EngineGeometry,
  w: TritMatrix,
  x: Int8Array,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  if (geo.cfg.loader === "axi") {
    const { matmuls, ...figures } = await simulateMatmuls(geo, [w], [x], options);
    return { ...matmuls[0]!, ...figures };
  }
  const tokens = options.tokens ?? 1;
  const built = await buildSimulator(geo, traceFormat(options.trace));
  const addon = loadAddon(built.addonPath);
  const schedule = scheduleMatmul(geo, w.n, w.k, tokens);
  const started = performance.now();
  const reply = addon.run({ ...hostStreams(geo, schedule, w, x), ...handshakes(options) });
  const simSeconds = (performance.now() - started) / 1000;
  if (reply.error) throw new SimulationError(reply.error);
  const y = unpackResults(geo, schedule, reply.results);
  return {
    ...check(w, x, tokens, y),
    schedule,
    ...runFigures(geo, built, { cycles: reply.cycles, simSeconds, predictedCycles: scheduleCycles(geo, schedule).total, tokens, cores: [w] }),
    // the preloaded engine's weights come from the host, not a memory model
    bytesRead: 0,
    memBusyFraction: 0,
  };
}
