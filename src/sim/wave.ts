import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wavedrom from "wavedrom";
import { TOP_MODULE } from "../codegen/rtl.js";
import { type EngineGeometry } from "../engine/config.js";
import { UserError } from "../util/errors.js";
import { traceMatmuls, type EngineMatmul, type SimulateOptions } from "./simulate.js";
import { readVcdFile, type VcdHeader, type VcdVariable } from "./vcd.js";
import { checkWindowShape, formatWindow, sampleTime, windowInRun, type CycleWindow } from "./window.js";

/**
 * Waveform drawings of a window of an engine's run: the simulator records the window to a VCD,
 * the VCD reader samples the chosen signals once per cycle, and wavedrom draws them as SVG.
 *
 * Signals are named by their path below the engine: ports by their name ("desc_valid"), internal
 * nets by instance path ("core.compute.issue"). A bus can be cut with [i] or [msb:lsb]
 * ("y_data[31:0]"). Column c of a drawing is clock cycle c: the clock rises at its start (the edge
 * that ended cycle c-1) and at its end (the edge at which cycle c's handshakes happen); registers
 * show their value after the first edge, host inputs the value set for cycle c.
 */

/** The widest window a drawing takes; longer windows are for --trace and GTKWave. */
export const MAX_WAVE_CYCLES = 400;
/** The window drawn when none is given, cut at the end of the run. */
export const DEFAULT_WAVE_CYCLES = 60;

/** A lane of WaveJSON: one signal's wave characters and the labels of its data segments. */
export interface WaveLane {
  readonly name: string;
  readonly wave: string;
  readonly data?: readonly string[];
}

/** The WaveJSON that wavedrom draws (https://wavedrom.com/tutorial.html). */
export interface WaveJson {
  readonly signal: readonly WaveLane[];
  readonly head: { readonly text?: string; readonly tock: number; readonly every: number };
  readonly config: { readonly hscale: number };
}

/** One signal chosen for a drawing: the variable it reads and the bits it shows. */
export interface SignalPick {
  /** As the user wrote it. */
  readonly name: string;
  readonly variable: VcdVariable;
  readonly msb: number;
  readonly lsb: number;
}

/**
 * The engine's signals by name: the path below the engine instance. A port appears both at the
 * top of the harness and in the engine; the two are one signal.
 */
export function engineSignals(header: VcdHeader): Map<string, VcdVariable> {
  const names = new Map<string, VcdVariable>();
  for (const v of header.variables) {
    const scopes = v.scopes[0] === "TOP" ? v.scopes.slice(1) : v.scopes;
    const below = scopes[0] === TOP_MODULE ? scopes.slice(1) : scopes;
    const name = [...below, v.name].join(".");
    if (!names.has(name)) names.set(name, v);
  }
  return names;
}

function unknownSignal(name: string, signals: Map<string, VcdVariable>): UserError {
  const all = [...signals.keys()];
  const ports = all.filter((n) => !n.includes(".") && !/^[A-Z_0-9]+$/.test(n));
  const leaf = name.replace(/\[[^\]]*\]$/, "").split(".").pop()!.toLowerCase();
  const similar = all.filter((n) => n.toLowerCase().includes(leaf) && !ports.includes(n));
  const list = (names: string[], most: number): string =>
    names.slice(0, most).join(", ") + (names.length > most ? ` (+${names.length - most} more)` : "");
  return new UserError(
    `--signals ${name}: no such signal in the engine; its ${all.length.toLocaleString("en-US")} signals include the ports ` +
      `${list(ports, 40)}` +
      (similar.length > 0 ? `; and ${list(similar, 12)}` : "; and inner nets named by instance path, like core.compute.issue"),
  );
}

/** Finds each named signal, with an optional bit select; an unknown name lists what there is. */
export function pickSignals(names: readonly string[], signals: Map<string, VcdVariable>): SignalPick[] {
  return names.map((name) => {
    const exact = signals.get(name);
    if (exact) return { name, variable: exact, msb: exact.width - 1, lsb: 0 };
    const m = /^(.*)\[(\d+)(?::(\d+))?\]$/.exec(name);
    const bus = m ? signals.get(m[1]!) : undefined;
    if (!m || !bus) throw unknownSignal(name, signals);
    const msb = Number(m[2]);
    const lsb = m[3] === undefined ? msb : Number(m[3]);
    if (!(lsb <= msb && msb < bus.width)) {
      throw new UserError(`--signals ${name}: ${m[1]} has bits [${bus.width - 1}:0]; a select is [i] or [msb:lsb] within them`);
    }
    return { name, variable: bus, msb, lsb };
  });
}

/**
 * Each signal's value in every cycle of the window, as binary digits of the variable's full width
 * (most significant first; "x"/"z" digits as recorded), read from a VCD the simulator wrote.
 */
export function sampleVcd(
  path: string,
  choose: (signals: Map<string, VcdVariable>) => SignalPick[],
  window: readonly [number, number],
): { picks: SignalPick[]; values: string[][] } {
  const [start, end] = window;
  const cycles = end - start;
  let picks: SignalPick[] = [];
  const current = new Map<string, string>();
  const columns: Map<string, string>[] = [];
  const takeUntil = (time: number): void => {
    while (columns.length < cycles && sampleTime(start + columns.length) < time) columns.push(new Map(current));
  };
  readVcdFile(path, {
    header(h) {
      picks = choose(engineSignals(h));
      return new Set(picks.map((p) => p.variable.id));
    },
    time(t) {
      takeUntil(t);
      return columns.length < cycles;
    },
    change(id, value) {
      current.set(id, value);
    },
  });
  takeUntil(Infinity);
  const values = picks.map((p) =>
    columns.map((col) => {
      const v = col.get(p.variable.id) ?? "x";
      const fill = v[0] === "x" || v[0] === "z" ? v[0] : "0";
      return v.padStart(p.variable.width, fill);
    }),
  );
  return { picks, values };
}

function hex(bits: string): string {
  if (/[xz]/.test(bits)) return "x";
  const digits = BigInt(`0b${bits}`).toString(16);
  // a wide bus is shown by its low end; a drawing's box holds a few characters
  return digits.length > 16 ? `…${digits.slice(-12)}` : digits;
}

/** One lane: a clock, a bit ("0", "1", "x", "z", "." to hold) or a bus of data segments. */
export function waveLane(pick: SignalPick, values: readonly string[]): WaveLane {
  const { variable, msb, lsb } = pick;
  if (variable.width === 1 && variable.name === "clk") return { name: pick.name, wave: "p" + ".".repeat(Math.max(values.length - 1, 0)) };
  const cut = values.map((v) => v.slice(variable.width - 1 - msb, variable.width - lsb));
  let wave = "";
  const data: string[] = [];
  cut.forEach((bits, i) => {
    if (i > 0 && bits === cut[i - 1]) {
      wave += ".";
    } else if (msb === lsb) {
      wave += bits;
    } else if (/[xz]/.test(bits)) {
      wave += "x";
    } else {
      wave += "=";
      data.push(hex(bits));
    }
  });
  return msb === lsb ? { name: pick.name, wave } : { name: pick.name, wave, data };
}

/** Cycle numbers along the top, in the middle of each column: every cycle, or every 5th or 10th. */
function cycleNumbers(window: readonly [number, number]): { tock: number; every: number } {
  const [start, end] = window;
  const width = end - start;
  const every = width <= 40 && end <= 1000 ? 1 : width <= 200 ? 5 : 10;
  return { tock: start, every };
}

export function waveJson(picks: readonly SignalPick[], values: readonly string[][], window: readonly [number, number], title?: string): WaveJson {
  return {
    signal: picks.map((p, i) => waveLane(p, values[i]!)),
    head: { ...(title ? { text: title } : {}), ...cycleNumbers(window) },
    config: { hscale: 1 },
  };
}

/** wavedrom's drawing of a WaveJSON source as SVG text (deterministic for the same source). */
export function renderWave(json: WaveJson): string {
  // wavedrom annotates the source it is given; draw from a copy
  const source = JSON.parse(JSON.stringify(json)) as object;
  return wavedrom.onml.stringify(wavedrom.renderAny(0, source, wavedrom.waveSkin));
}

/**
 * Signals worth seeing in an engine's first cycles, in the order they act: the descriptors,
 * weights arriving over AXI, activations, the table build, lookups issued, partial sums written
 * (the adder tree's output accumulated), and results leaving. Names a design lacks (the baseline
 * engine has no tables) are left out when the VCD is read.
 */
export function defaultSignals(): string[] {
  return [
    "clk",
    "desc_valid",
    "desc_ready",
    "ar_valid",
    "ar_ready",
    "r_valid",
    "r_ready",
    "x_valid",
    "x_ready",
    "core.compute.g_tables.pre_we",
    "core.compute.g_tables.pre_waddr",
    "core.compute.issue",
    "core.compute.rd_addr",
    "core.compute.psum_we",
    "y_valid",
    "y_ready",
    "y_data[31:0]",
  ];
}

export interface WaveformOptions extends Omit<SimulateOptions, "trace" | "traceWindow" | "maxCycles"> {
  /**
   * Cycles to draw, [start, end) (end Infinity: DEFAULT_WAVE_CYCLES from start, cut at the run's
   * end); an end after the run's is an error. Default: the engine's first work (defaultWindow).
   */
  window?: CycleWindow;
  /** Signal names (default: defaultSignals, less any the engine lacks). */
  signals?: readonly string[];
  /** A caption above the drawing. */
  title?: string;
}

export interface EngineWaveform {
  readonly svg: string;
  readonly wavejson: WaveJson;
  /** The cycles drawn, [start, end). */
  readonly window: [number, number];
  /** The signals drawn, in order. */
  readonly signals: string[];
  /** Seconds to simulate the window, and to read and draw it. */
  readonly simSeconds: number;
  readonly renderSeconds: number;
}

/** Cycles drawn before the first pass starts, so its first handshakes are seen coming. */
const LEAD_IN = 4;
/** Cycles drawn after the first result beat. */
const TAIL = 8;

const bare = (name: string): string => name.replace(/\[\d+(:\d+)?\]$/, "");

/**
 * A drawing of a window of an engine's run of matmuls (the same stimulus and options as
 * simulateMatmuls); the run stops at the window's end. Without a window it draws the engine's
 * first work: from just before the first pass can start (its weights loaded, as the cycle model
 * predicts) through the table build, the first lookups and partial sums, to a few cycles after
 * the first result beat leaves: at least DEFAULT_WAVE_CYCLES cycles and at most MAX_WAVE_CYCLES,
 * cut at the run's end.
 */
export async function engineWaveform(
  geo: EngineGeometry,
  matmuls: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: WaveformOptions = {},
): Promise<EngineWaveform> {
  const { window: asked, signals: askedSignals, title, ...simulate } = options;
  let wanted: [number, number] | undefined;
  if (asked) {
    const [start, end] = checkWindowShape(asked, "wave window");
    wanted = [start, end === Infinity ? start + DEFAULT_WAVE_CYCLES : end];
    if (wanted[1] - start > MAX_WAVE_CYCLES) {
      throw new UserError(
        `wave window ${formatWindow(asked)} is ${wanted[1] - start} cycles wide; a drawing shows at most ${MAX_WAVE_CYCLES} ` +
          `(record longer windows with --trace for GTKWave)`,
      );
    }
  }
  const names = askedSignals ?? defaultSignals();
  if (names.length === 0) throw new UserError("--signals: name at least one signal");
  const dir = mkdtempSync(join(tmpdir(), "trilut-wave-"));
  try {
    const path = join(dir, "window.vcd");
    const simStarted = performance.now();
    const run = await traceMatmuls(geo, matmuls, xs, {
      ...simulate,
      trace: path,
      traceWindow: (predicted) => {
        if (!wanted) {
          const start = Math.max(0, predicted.firstPass - LEAD_IN);
          return [start, start + MAX_WAVE_CYCLES];
        }
        // without backpressure the prediction is exact: a window beyond the run fails before building
        const exact = (simulate.validProb ?? 1) >= 1 && (simulate.readyProb ?? 1) >= 1;
        if (exact && asked?.[1] !== Infinity) windowInRun(wanted, predicted.cycles, "wave window");
        return wanted;
      },
    });
    const simSeconds = (performance.now() - simStarted) / 1000;
    const renderStarted = performance.now();
    // an end the user gave must lie in the run; a default or open one is cut at the run's end
    const recorded = run.finished
      ? windowInRun(asked && asked[1] !== Infinity ? run.window : [run.window[0], Infinity], run.cycles, "wave window")
      : run.window;
    let picks: SignalPick[] = [];
    const sampled = sampleVcd(
      path,
      (signals) => {
        picks = pickSignals(askedSignals ? names : names.filter((n) => signals.has(bare(n))), signals);
        // the first result beat ends a default window
        return wanted || !signals.has("y_valid") ? picks : [...picks, ...pickSignals(["y_valid"], signals)];
      },
      recorded,
    );
    let drawn = recorded;
    if (!wanted) {
      const resultBeats = sampled.values[picks.length];
      const first = resultBeats ? resultBeats.indexOf("1") : -1;
      const width = Math.max(DEFAULT_WAVE_CYCLES, first >= 0 ? first + 1 + TAIL : 2 * DEFAULT_WAVE_CYCLES);
      drawn = [recorded[0], Math.min(recorded[1], recorded[0] + width)];
    }
    const values = picks.map((_, i) => sampled.values[i]!.slice(0, drawn[1] - drawn[0]));
    const wavejson = waveJson(picks, values, drawn, title);
    const svg = renderWave(wavejson);
    return {
      svg,
      wavejson,
      window: drawn,
      signals: picks.map((p) => p.name),
      simSeconds,
      renderSeconds: (performance.now() - renderStarted) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
