import { UserError } from "../util/errors.js";

/**
 * A window of clock cycles of a run: [start, end), start inclusive and end exclusive, counted
 * from the first cycle after reset (cycle 0). An end of Infinity means "to the end of the run".
 */
export type CycleWindow = readonly [start: number, end: number];

/** Half clock periods the host spends in reset before cycle 0 (templates/sim: two reset cycles). */
export const RESET_HALF_CYCLES = 4;

/**
 * The waveform time stamp (in half clock periods) at which cycle c's values are settled: the clock
 * is low, the host has set cycle c's inputs, and the rising edge that ends cycle c is next.
 */
export function sampleTime(cycle: number): number {
  return RESET_HALF_CYCLES + 2 * cycle;
}

export function formatWindow(w: CycleWindow): string {
  return `${w[0]}:${w[1] === Infinity ? "" : w[1]}`;
}

/** Parses START:END (or START: for "to the end of the run"); flag names the option in errors. */
export function parseCycleWindow(text: string, flag = "--trace-window"): CycleWindow {
  const m = /^\s*(\d+)\s*:\s*(\d*)\s*$/.exec(text);
  if (!m) throw new UserError(`${flag} ${text}: expected START:END in cycles (START inclusive, END exclusive), or START: for the rest of the run`);
  const start = Number(m[1]);
  const end = m[2] === "" ? Infinity : Number(m[2]);
  return checkWindowShape([start, end], flag);
}

/** A window's own sanity: whole cycles, START < END. */
export function checkWindowShape(w: CycleWindow, flag = "trace window"): CycleWindow {
  const [start, end] = w;
  const whole = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  if (!whole(start) || !(end === Infinity || whole(end)) || start >= end) {
    throw new UserError(`${flag} ${formatWindow(w)}: expected whole cycles START:END with START < END`);
  }
  return w;
}

/**
 * The window within a run of `cycles` cycles: an open end becomes the run's end. A window that
 * starts at or after the end of the run, or ends after it, is the user's mistake.
 */
export function windowInRun(w: CycleWindow, cycles: number, flag = "trace window"): [number, number] {
  const [start, end] = w;
  if (start >= cycles || (end !== Infinity && end > cycles)) {
    throw new UserError(
      `${flag} ${formatWindow(w)} is outside the run: it has ${cycles.toLocaleString("en-US")} cycles ` +
        `(0..${cycles - 1}), so a window is START:END with START < END <= ${cycles}`,
    );
  }
  return [start, Math.min(end, cycles)];
}
