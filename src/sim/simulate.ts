import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "../engine/config.js";
import { scheduleMatmul, type Schedule } from "../engine/schedule.js";
import { scheduleCycles } from "../estimate/cycles.js";
import { ternaryMatmul } from "../ref/kernel.js";
import { SimulationError } from "../util/errors.js";
import { loadAddon } from "./binding.js";
import { buildSimulator, type TraceFormat } from "./build.js";
import { hostStreams, unpackResults } from "./streams.js";

export interface SimulateOptions {
  /** Tokens (rows of x). */
  tokens?: number;
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
  readonly schedule: Schedule;
  readonly y: Int32Array;
  readonly expected: Int32Array;
}

function traceFormat(path: string | undefined): TraceFormat | undefined {
  if (!path) return undefined;
  return path.endsWith(".fst") ? "fst" : "vcd";
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
  const schedule = scheduleMatmul(geo, w.n, w.k, tokens);
  const built = await buildSimulator(geo, traceFormat(options.trace));
  const addon = loadAddon(built.addonPath);
  const streams = hostStreams(geo, schedule, w, x);
  const started = performance.now();
  const reply = addon.run({
    ...streams,
    validProb: options.validProb ?? 1,
    readyProb: options.readyProb ?? 1,
    seed: options.seed ?? 1,
    stallLimit: options.stallLimit ?? 100_000,
    ...(options.trace
      ? { tracePath: options.trace, traceStart: options.traceWindow?.[0] ?? 0, traceEnd: options.traceWindow?.[1] ?? 1e15 }
      : {}),
  });
  const simSeconds = (performance.now() - started) / 1000;
  if (reply.error) throw new SimulationError(reply.error);

  const y = unpackResults(geo, schedule, reply.results);
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
  return {
    match: mismatches === 0,
    mismatches,
    firstMismatches,
    cycles: reply.cycles,
    predictedCycles: scheduleCycles(geo, schedule).total,
    weightsPerCycle: geo.weightsPerCycle,
    buildSeconds: built.buildSeconds,
    simSeconds,
    cached: built.cached,
    cyclesPerSecond: reply.cycles / Math.max(simSeconds, 1e-9),
    schedule,
    y,
    expected,
  };
}
