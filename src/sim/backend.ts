import { type EngineGeometry } from "../engine/config.js";
import { type AxiStreams } from "../engine/streams.js";
import { hlsBackend } from "./hls-simulate.js";
import { icarusBackend } from "./icarus.js";
import { verilatorBackend, type SimulateOptions } from "./simulate.js";

/**
 * A simulator of the engine: it builds the engine for a geometry and runs descriptor streams on
 * it. A backend only runs; preparing the streams, checking the results against the reference and
 * the cycles against the cycle model happen once, in runOnBackend (simulate.ts), for all of them.
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


/** The backends by name; `rtl`, the name the CLI and verify specs have always used, is Verilator. */
export function backendNamed(name: BackendName | "rtl"): SimBackend {
  return { rtl: verilatorBackend, verilator: verilatorBackend, icarus: icarusBackend, hls: hlsBackend }[name];
}
