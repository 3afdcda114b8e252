import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "../engine/config.js";
import { scheduleMatmul, type Schedule } from "../engine/schedule.js";
import { planTiles, type TilePlan } from "../engine/tiles.js";
import { scheduleCycles } from "../estimate/cycles.js";
import { streamCycles } from "../estimate/stream-cycles.js";
import { ternaryMatmul } from "../ref/kernel.js";
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

export interface SimulationResult {
  readonly match: boolean;
  readonly mismatches: number;
  readonly firstMismatches: Mismatch[];
  readonly cycles: number;
  readonly predictedCycles: number;
  readonly weightsPerCycle: number;
  readonly buildSeconds: number;
  readonly simSeconds: number;
  readonly cached: boolean;
  readonly cyclesPerSecond: number;
  readonly tokens: number;
  /** Preload engines: the LOAD/RUN schedule; axi engines: the tile plan. */
  readonly schedule?: Schedule;
  readonly tiles?: TilePlan;
  /** Weight bytes read from off-chip memory, and their share of what the bandwidth allowed. */
  readonly bytesRead: number;
  readonly memBusyFraction: number;
  /** Useful table lookups (tokens · n · ⌈k/G⌉) over the P·T lookup slots of every cycle. */
  readonly computeUtilization: number;
  readonly y: Int32Array;
  readonly expected: Int32Array;
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
function check(w: TritMatrix, x: Int8Array, tokens: number, y: Int32Array): Pick<SimulationResult, "match" | "mismatches" | "firstMismatches" | "expected"> {
  const expected = ternaryMatmul(w, x, tokens);
  const firstMismatches: Mismatch[] = [];
  let mismatches = 0;
  for (let i = 0; i < expected.length; i++) {
    if (y[i] !== expected[i]) {
      mismatches++;
      if (firstMismatches.length < 10) {
        firstMismatches.push({ token: Math.floor(i / w.n), row: i % w.n, expected: expected[i]!, actual: y[i]! });
      }
    }
  }
  return { match: mismatches === 0, mismatches, firstMismatches, expected };
}

function utilization(geo: EngineGeometry, w: TritMatrix, tokens: number, cycles: number): number {
  const useful = tokens * w.n * Math.ceil(w.k / geo.cfg.G);
  return useful / (geo.cfg.P * geo.cfg.T * Math.max(cycles, 1));
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
  const tokens = options.tokens ?? 1;
  const built = await buildSimulator(geo, traceFormat(options.trace));
  const addon = loadAddon(built.addonPath);
  const handshakes = {
    validProb: options.validProb ?? 1,
    readyProb: options.readyProb ?? 1,
    seed: options.seed ?? 1,
    stallLimit: options.stallLimit ?? 100_000,
    ...traceOptions(options),
  };
  const started = performance.now();
  let reply: { cycles: number; results: Uint32Array; error?: string; bytesRead?: number };
  let y: Int32Array;
  let predictedCycles: number;
  let plan: { schedule?: Schedule; tiles?: TilePlan } = {};
  let memBusyFraction = 0;
  if (geo.cfg.loader === "axi") {
    const memory = options.memory;
    if (!memory) throw new UserError("an engine that streams weights needs a memory timing (a budget)");
    const tiles = planTiles(geo, w.n, w.k, tokens);
    const s = axiStreams(geo, tiles, w, x);
    reply = addon.run({ ...s, beatBytes: geo.beatBytes, ...memory, ...handshakes });
    y = unpackTileResults(geo, tiles, reply.results);
    plan = { tiles };
    predictedCycles = streamCycles(geo, tiles, memory).total;
    memBusyFraction = (reply.bytesRead ?? 0) / (bytesPerCycle(memory) * Math.max(reply.cycles, 1));
  } else {
    const schedule = scheduleMatmul(geo, w.n, w.k, tokens);
    reply = addon.run({ ...hostStreams(geo, schedule, w, x), ...handshakes });
    y = unpackResults(geo, schedule, reply.results);
    predictedCycles = scheduleCycles(geo, schedule).total;
    plan = { schedule };
  }
  const simSeconds = (performance.now() - started) / 1000;
  if (reply.error) throw new SimulationError(reply.error);
  return {
    ...check(w, x, tokens, y),
    cycles: reply.cycles,
    predictedCycles,
    weightsPerCycle: geo.weightsPerCycle,
    buildSeconds: built.buildSeconds,
    simSeconds,
    cached: built.cached,
    cyclesPerSecond: reply.cycles / Math.max(simSeconds, 1e-9),
    tokens,
    ...plan,
    bytesRead: reply.bytesRead ?? 0,
    memBusyFraction,
    computeUtilization: utilization(geo, w, tokens, reply.cycles),
    y,
  };
}
