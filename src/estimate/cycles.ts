import { type EngineGeometry } from "../engine/config.js";
import { type Command, type Schedule } from "../engine/schedule.js";

/**
 * The analytic cycle model of the engine, cycle-exact against the RTL (hw/trilut_engine_core.v)
 * when every stream is ready: a test compares it with Verilator on every configuration it runs.
 * Cycle 0 of a command is the cycle the engine accepts it; its cost runs to the cycle it is idle
 * again, when the next command is accepted.
 */

/** Weight buffer read latency (trilut_uram72: array register + output register). */
export const BUFFER_LATENCY = 2;

/** LOAD: the accept cycle, then one beat per cycle. */
export function loadCycles(beats: number): number {
  return 1 + beats;
}

/**
 * RUN of `steps` steps over `groups` row groups. Per step s the precompute unit accepts the
 * activations at a[s] and writes E entries on the next E cycles; the lookups of step s issue from
 * i[s], one row group per cycle, once its tables are complete. A build may only start when the
 * half it overwrites (last read by step s-2) has been read by every row group, which happens
 * BUFFER_LATENCY cycles after that group issues. With `sweep` (dequantization) one more pass over
 * the row groups reads their scale words after each column group's last step.
 */
export function runCycles(geo: EngineGeometry, steps: number, groups: number, drain: boolean, sweep?: { gsteps: number }): number {
  const E = geo.entries;
  // the issuer's sequence: every weight step, and with dequantization a sweep after each column
  // group of gsteps steps (0: after the last step only); a sweep reads scales, not tables
  const groupSteps = sweep && sweep.gsteps > 0 ? sweep.gsteps : steps;
  const a: number[] = new Array<number>(steps); // build accepted
  const i: number[] = new Array<number>(steps); // weight step issued
  a[0] = 1; // the cycle after accepting the command
  let next = 0; // earliest issue of the next step or sweep
  for (let s = 0; s < steps; s++) {
    if (s > 0) {
      let start = a[s - 1]! + E; // the unit takes a new step in the cycle of its last write
      if (s >= 2) start = Math.max(start, i[s - 2]! + groups - 1 + BUFFER_LATENCY + 1);
      a[s] = start;
    }
    i[s] = Math.max(next, a[s]! + E + 1);
    next = i[s]! + groups;
    if (sweep && ((s + 1) % groupSteps === 0 || s === steps - 1)) next += groups;
  }
  return runEnd(geo, next - 1, groups, drain);
}

/** The cycles of a RUN whose last row group issued in cycle `lastIssue`. */
export function runEnd(geo: EngineGeometry, lastIssue: number, groups: number, drain: boolean): number {
  // the last group's sum is written PIPE = 3 + treeStages cycles after it issues; the engine sees
  // an empty pipeline the cycle after and leaves RUN on the next
  const pipe = 3 + geo.treeStages;
  return lastIssue + pipe + 2 + (drain ? groups + 1 : 0);
}

export function commandCycles(geo: EngineGeometry, cmd: Command): number {
  return cmd.op === "load" ? loadCycles(cmd.beats) : runCycles(geo, cmd.steps, cmd.groups, cmd.drain);
}

export interface CycleBreakdown {
  readonly total: number;
  readonly load: number;
  readonly run: number;
}

/** Predicted cycles of a whole schedule, from reset to the engine idle with every result out. */
export function scheduleCycles(geo: EngineGeometry, schedule: Schedule): CycleBreakdown {
  let load = 0;
  let run = 0;
  for (const cmd of schedule.commands) {
    if (cmd.op === "load") load += commandCycles(geo, cmd);
    else run += commandCycles(geo, cmd);
  }
  return { total: load + run, load, run };
}
