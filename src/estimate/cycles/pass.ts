import { type EngineGeometry } from "../../engine/config.js";
import { DEQUANT_LATENCY, SWEEP_CYCLES_PER_GROUP } from "../../units/dequant.js";
import { lookupPipeline, PASS_EXIT } from "../../units/lookup.js";
import { DRAIN_READ } from "../../units/partial-sums.js";
import { buildCycles } from "../../units/tables.js";
import { BUFFER_LATENCY } from "../../units/weight-buffer.js";

/**
 * The pass recurrence of the streaming core (hw/trilut_stream_core.v), written once: both the
 * step-by-step model (./step.ts) and the skipping closed form (./closed-form.ts) advance it with
 * passStep. One pass runs `steps` weight steps over `groups` row groups, from the cycle the compute
 * side takes the tile. Per step s the precompute unit accepts the activations at a[s] and writes E
 * entries on the next E cycles; the lookups of step s issue from i[s], one row group per cycle,
 * once its tables are complete. A build may only start when the half it overwrites (last read by
 * step s-2) has been read by every row group, which happens BUFFER_LATENCY cycles after that
 * group issues. With dequantization one more pass over the row groups reads their scale words
 * after each column group's last step. The cycle figures come from the units that own them.
 */
export interface PassShape {
  /** Cycles of a table build (the tables unit's E). */
  readonly build: number;
  readonly steps: number;
  readonly groups: number;
  /** Steps per column group: a sweep follows every groupSteps steps and the last (0 or steps: the last only). */
  readonly groupSteps: number;
  /** Whether the pass sweeps the row groups for their scales (dequantization). */
  readonly sweeps: boolean;
}

export function passShape(geo: EngineGeometry, steps: number, groups: number, sweep?: { gsteps: number }): PassShape {
  return { build: buildCycles(geo), steps, groups, groupSteps: sweep && sweep.gsteps > 0 ? sweep.gsteps : steps, sweeps: sweep !== undefined };
}

/**
 * The recurrence's state after `done` steps: the last step's build (a) and issue (i) cycles, the
 * issue before it, and the earliest issue of the next step or sweep. Before step 0 there is no
 * issue: −Infinity (which also keeps a state before step 2 from matching a later one).
 */
export interface PassState {
  done: number;
  build: number;
  issue: number;
  issuePrev: number;
  next: number;
}

export function passStart(): PassState {
  return { done: 0, build: 0, issue: -Infinity, issuePrev: -Infinity, next: 0 };
}

/** Advances `st` by one weight step of pass `p` (and the sweep that follows it, if any). */
export function passStep(p: PassShape, st: PassState): void {
  const s = st.done;
  // step 0 is accepted the cycle after the tile is taken; later ones in the cycle of the last write
  let build = s === 0 ? 1 : st.build + p.build;
  if (s >= 2) build = Math.max(build, st.issuePrev + p.groups - 1 + BUFFER_LATENCY + 1);
  const issue = Math.max(st.next, build + p.build + 1);
  const sweep = p.sweeps && ((s + 1) % p.groupSteps === 0 || s === p.steps - 1);
  st.next = issue + p.groups + (sweep ? p.groups * SWEEP_CYCLES_PER_GROUP : 0);
  st.issuePrev = st.issue;
  st.issue = issue;
  st.build = build;
  st.done = s + 1;
}

/**
 * The cycles of a pass whose last row group issued in cycle `lastIssue`, its results drained;
 * `sweeps`: the pass dequantizes, so its last issue is the last sweep's, whose result is written
 * DEQUANT_LATENCY cycles after the partial sum's read-add-write would have been.
 */
export function runEnd(geo: EngineGeometry, lastIssue: number, groups: number, sweeps = false): number {
  // the last group's sum is written lookupPipeline cycles after it issues (the dequantized result
  // DEQUANT_LATENCY later), the engine leaves the pass PASS_EXIT cycles later, then the groups
  // drain, one beat each after the first read
  return lastIssue + lookupPipeline(geo) + (sweeps ? DEQUANT_LATENCY : 0) + PASS_EXIT + groups + DRAIN_READ;
}
