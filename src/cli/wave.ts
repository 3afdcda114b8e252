import { type EngineGeometry } from "../engine/config.js";
import { type EngineMatmul, type SimulateOptions } from "../sim/simulate.js";
import { engineWaveform, type EngineWaveform } from "../sim/wave.js";
import { parseCycleWindow, type CycleWindow } from "../sim/window.js";
import { writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";

/** The waveform options of `trilut sim`. */
export interface WaveArgs {
  trace?: string | undefined;
  traceWindow?: string | undefined;
  wave?: string | undefined;
  signals?: string | undefined;
}

export interface WaveFlags {
  /** SimulateOptions for the checked run: the trace file and its window. */
  readonly trace: Pick<SimulateOptions, "trace" | "traceWindow">;
  readonly window: CycleWindow | undefined;
  readonly signals: string[] | undefined;
}

/** Checks the waveform flags before anything runs. */
export function waveFlags(args: WaveArgs): WaveFlags {
  if (args.traceWindow !== undefined && !args.trace && !args.wave) {
    throw new UserError("--trace-window chooses the cycles of --trace FILE.vcd|FILE.fst or --wave FILE.svg; add one of them");
  }
  if (args.signals !== undefined && !args.wave) throw new UserError("--signals chooses what --wave FILE.svg draws; add --wave");
  if (args.trace !== undefined && !/\.(vcd|fst)$/i.test(args.trace)) throw new UserError(`--trace ${args.trace}: expected a .vcd or .fst file name`);
  if (args.wave !== undefined && !/\.svg$/i.test(args.wave)) throw new UserError(`--wave ${args.wave}: expected an .svg file name`);
  const window = args.traceWindow !== undefined ? parseCycleWindow(args.traceWindow) : undefined;
  const signals = args.signals?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (signals !== undefined && signals.length === 0) throw new UserError("--signals: expected comma-separated signal names, like clk,x_valid,y_data[31:0]");
  return {
    trace: args.trace ? { trace: args.trace, ...(window ? { traceWindow: window } : {}) } : {},
    window,
    signals,
  };
}

/** Draws the --wave window of the same run the command then simulates and checks. */
export async function drawWave(
  args: WaveArgs,
  flags: WaveFlags,
  geo: EngineGeometry,
  matmuls: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: Omit<SimulateOptions, "trace" | "traceWindow">,
  title: string,
): Promise<EngineWaveform | undefined> {
  if (!args.wave) return undefined;
  return engineWaveform(geo, matmuls, xs, {
    ...options,
    ...(flags.window ? { window: flags.window } : {}),
    ...(flags.signals ? { signals: flags.signals } : {}),
    title,
  });
}

/** Writes the drawing (once the checked run is over): what to add to --json, and a line to print. */
export function writeWave(args: WaveArgs, wave: EngineWaveform | undefined): { json: { wave?: object }; lines: string[] } {
  const lines: string[] = [];
  if (args.trace) lines.push(`  trace ${args.trace}${args.traceWindow !== undefined ? `: cycles ${args.traceWindow}` : ""}`);
  if (!args.wave || !wave) return { json: {}, lines };
  writeFileAtomic(args.wave, wave.svg);
  const [start, end] = wave.window;
  lines.push(`  waveform ${args.wave}: ${wave.signals.length} signals over cycles ${start}..${end - 1}`);
  return { json: { wave: { file: args.wave, window: [start, end], signals: wave.signals } }, lines };
}
