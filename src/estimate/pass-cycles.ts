import { type EngineGeometry } from "../engine/config.js";

/** Weight buffer read latency (trilut_uram72: array register + output register). */
export const BUFFER_LATENCY = 2;

/**
 * One pass of the streaming core (hw/trilut_stream_core.v): `steps` steps over `groups` row groups,
 * from the cycle the compute side takes the tile to the cycle it is idle again with every result
 * beat out, when no stream stalls (tests compare it with Verilator). Per step s the precompute
 * unit accepts the activations at a[s] and writes E entries on the next E cycles; the lookups of step s issue from
 * i[s], one row group per cycle, once its tables are complete. A build may only start when the
 * half it overwrites (last read by step s-2) has been read by every row group, which happens
 * BUFFER_LATENCY cycles after that group issues. With `sweep` (dequantization) one more pass over
 * the row groups reads their scale words after each column group's last step.
 */
export function runCycles(geo: EngineGeometry, steps: number, groups: number, sweep?: { gsteps: number }): number {
  const E = geo.entries;
  // the issuer's sequence: every weight step, and with dequantization a sweep after each column
  // group of gsteps steps (0: after the last step only); a sweep reads scales, not tables
  const groupSteps = sweep && sweep.gsteps > 0 ? sweep.gsteps : steps;
  const a: number[] = new Array<number>(steps); // build accepted
  const i: number[] = new Array<number>(steps); // weight step issued
  a[0] = 1; // the cycle after taking the tile
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
  return runEnd(geo, next - 1, groups);
}

/** The cycles of a pass whose last row group issued in cycle `lastIssue`, its results drained. */
export function runEnd(geo: EngineGeometry, lastIssue: number, groups: number): number {
  // the last group's sum is written PIPE = 3 + treeStages cycles after it issues; the engine sees
  // an empty pipeline the cycle after and leaves the pass on the next; then the groups drain
  const pipe = 3 + geo.treeStages;
  return lastIssue + pipe + 2 + groups + 1;
}

/** Longest period looked for: the recurrence's cyclicity is 1 or 2; 4 leaves a margin. */
const MAX_PERIOD = 4;
/** passCycles' scratch memory, shared by every call (synchronous, never reentered): no allocation per pass. */
const HISTORY = new Float64Array(MAX_PERIOD * 4);

/**
 * runCycles of a pass, equal to it for every shape but in a few steps instead of one per weight step: a design-space sweep needs it for thousands of tile
 * shapes a second, and k / (T·G) steps run into the thousands.
 *
 * The pass recurrence is max-plus with constant coefficients: step s's build and issue cycles
 * are maxima of the previous steps' cycles plus constants. Its state relative to a[s] therefore
 * settles, after a short transient, into a cycle of period 1 or 2 (the critical cycle of the
 * build → issue → build-after-next loop can have an odd length, giving an average rate of half a
 * cycle). Once the relative state repeats, every later step is the earlier one shifted by the same
 * number of cycles, so the identical steps left are skipped in one addition. The relative state is
 * compared exactly, so the skip is exact; when it never repeats, the loop simply runs to the end.
 *
 * With scales in column groups (a sweep after every gsteps steps) the repeating unit is a column
 * group rather than a step; the last unit (the last step, or a shorter last column group) differs
 * and is always stepped.
 */
export function passCycles(geo: EngineGeometry, steps: number, groups: number, sweep?: { gsteps: number }): number {
  const E = geo.entries;
  const groupSteps = sweep && sweep.gsteps > 0 ? sweep.gsteps : steps;
  const unit = groupSteps < steps ? groupSteps : 1;
  const units = Math.ceil(steps / unit);
  // the state after s steps: a[s-1], i[s-1], i[s-2] and the earliest next issue
  // (before step 0 there is no issue: -Infinity keeps step 1's state from matching a later one)
  let a = 0;
  let i = -Infinity;
  let iPrev = -Infinity;
  let next = 0;
  // the relative state at the last MAX_PERIOD unit boundaries, newest first: a, i − a, i' − a, next − a
  const history = HISTORY;
  let kept = 0;
  let s = 0;
  let jumped = false;
  while (s < steps) {
    let build = s === 0 ? 1 : a + E;
    if (s >= 2) build = Math.max(build, iPrev + groups - 1 + BUFFER_LATENCY + 1);
    const issue = Math.max(next, build + E + 1);
    next = issue + groups + (sweep && ((s + 1) % groupSteps === 0 || s === steps - 1) ? groups : 0);
    iPrev = i;
    i = issue;
    a = build;
    s++;
    if (jumped || s % unit !== 0) continue;
    const done = s / unit;
    // units strictly between this boundary and the last unit are identical to the ones before
    const identical = units - 1 - done;
    if (identical <= 0) continue;
    const k1 = i - a;
    const k2 = iPrev - a;
    const k3 = next - a;
    for (let p = 1; p <= kept; p++) {
      const at = (p - 1) * 4;
      if (history[at + 1] === k1 && history[at + 2] === k2 && history[at + 3] === k3) {
        const shift = (a - history[at]!) * Math.floor(identical / p);
        a += shift;
        i += shift;
        iPrev += shift;
        next += shift;
        s += Math.floor(identical / p) * p * unit;
        jumped = true;
        break;
      }
    }
    if (jumped) continue;
    history.copyWithin(4, 0, (MAX_PERIOD - 1) * 4);
    history[0] = a;
    history[1] = k1;
    history[2] = k2;
    history[3] = k3;
    kept = Math.min(kept + 1, MAX_PERIOD);
  }
  return runEnd(geo, next - 1, groups);
}
