import { type EngineGeometry } from "../engine/config.js";
import { type AxiStreams } from "../engine/streams.js";
import { type MemoryTiming } from "../budget/memory.js";
import { UserError } from "../util/errors.js";
import { type CycleWindow } from "./window.js";

/**
 * A simulator of the engine: it builds the engine for a geometry and runs descriptor streams on
 * it. A backend only runs; preparing the streams, checking the results against the reference and
 * the cycles against the cycle model happen once, in runOnBackend (simulate.ts), for all of them; backends.ts names them.
 */
export type BackendName = "verilator" | "icarus" | "hls";

export interface SimBackend {
  readonly name: BackendName;
  /**
   * Whether the backend counts clock cycles: the RTL simulators do; the HLS engine's C simulation
   * runs the same dataflow without a clock, so its runs have no cycles to hold to the model.
   */
  readonly cycleAccurate: boolean;
  /**
   * Builds (or finds in the cache) the engine. Options the backend cannot honour (a waveform,
   * backpressure) are a UserError here, before anything is built.
   */
  build(geo: EngineGeometry, options: BackendOptions): Promise<BuiltBackend>;
}

/** What a run of matmuls may ask of a backend (not every backend can do all of it). */
export interface SimulateOptions {
  /** Tokens (rows of x). */
  tokens?: number;
  /** Memory timing: where the engine streams its weights from (required). */
  memory?: MemoryTiming;
  /** Backpressure: probability a stream with data offers it, and that the sink is ready (1 = always). */
  validProb?: number;
  readyProb?: number;
  seed?: number;
  /** Waveform file (.vcd or .fst), written when the run ends (a hung run's too). */
  trace?: string;
  /**
   * Cycles of the run the waveform records: [start, end), start inclusive, end exclusive, cycle 0
   * the first after reset; end Infinity for the rest of the run (default: the whole run). A window
   * outside the run is a UserError naming the run's cycle count, and no file is written.
   */
  traceWindow?: CycleWindow;
  /** Cycles without a handshake before the watchdog ends the run. */
  stallLimit?: number;
  /** End the run after this many cycles (traceMatmuls: a waveform of the first cycles only). */
  maxCycles?: number;
}

/** The run's options, with the cycle model's prediction (a progress line, a trace window's check). */
export interface BackendOptions extends SimulateOptions {
  readonly predictedCycles?: number | undefined;
}

export interface BuiltBackend {
  /** Seconds build() spent (the build, or only the cache lookup), and whether it was cached. */
  readonly buildSeconds: number;
  readonly cached: boolean;
  /** Runs one descriptor stream; throws SimulationError when the engine hangs or its run fails. */
  run(streams: AxiStreams, options: BackendOptions): Promise<BackendRun>;
}

export interface BackendRun {
  /** The result beats, as the engine's result stream carries them. */
  readonly results: Uint32Array;
  /** Clock cycles of the run; undefined for a backend that is not cycle-accurate (HLS). */
  readonly cycles: number | undefined;
  /** Weight bytes read from the memory model; undefined where the backend does not count them. */
  readonly bytesRead: number | undefined;
  readonly simSeconds: number;
}



/**
 * Refuses, before anything is built, what only the Verilator backend can do: stall the streams
 * (backpressure) and write a waveform. `why` says, for each, why this backend cannot.
 */
export function onlyOnVerilator(options: SimulateOptions, why: { backpressure: string; waveform: string }): void {
  if ((options.validProb ?? 1) < 1 || (options.readyProb ?? 1) < 1) throw new UserError(`backpressure: ${why.backpressure}; use the Verilator backend (rtl)`);
  if (options.trace) throw new UserError(`a waveform: ${why.waveform}; use the Verilator backend (rtl)`);
}
