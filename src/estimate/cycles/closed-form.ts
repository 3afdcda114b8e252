import { type EngineGeometry } from "../../engine/config.js";
import { checkTokens, matmulTiling, tileBeats, TILE_ALIGN, type MatmulShape, type TilePlan } from "../../engine/tiles.js";
import { modeField } from "../../engine/descriptor.js";
import { type MemoryTiming } from "../../budget/memory.js";
import { UserError } from "../../util/errors.js";
import { LOADED_DELAY } from "../../units/weight-buffer.js";
import { TileLoader, type FastCycleStats } from "./closed-form-load.js";
import { CreditPort, ceilDiv } from "./credit.js";
import { passShape, passStart, passStep, runEnd } from "./pass.js";

/**
 * The streaming engine's cycles, equal to streamCycles (./event.ts, itself equal to
 * Verilator) but in a few dozen steps per matmul instead of one per memory beat, for sweeps.
 *
 * streamCycles follows the loader and the memory beat by beat. Here the same machine is followed
 * tile by tile, with each tile's events in closed form:
 *
 * - the descriptor queues and ping-pong halves give, for tile i, the cycle its descriptor is taken
 *   D_i = max(D_{i-1} + 1, C_{i-2} + 1) (the compute queue holds two tiles), the cycle the loader
 *   starts it S_i = max(D_i + 1, E_{i-1} + 1) (one tile at a time; its half was freed with its
 *   queue slot), its last beat E_i, the first pass X_i = max(E_i + 3, C_{i-1} + 1) and its last
 *   pass's end C_i = X_i + tokens · passCycles; the run ends at C_last + 1;
 * - a tile's beats come from the bandwidth credit alone once the bursts in flight cover the
 *   memory latency (provably so when (window − 1) · maxBurst ≥ latency, or, at a bandwidth below
 *   a beat per cycle, when the credit accrued over the window's beats does), so its last beat is a
 *   closed form of the credit at its first ready cycle (CreditPort.serve); a tile where that
 *   cannot be shown is followed burst by burst, still exactly, its repeating bursts skipped
 *   (TileLoader);
 * - the credit a tile starts from is capped at two beats, so after the loader's bubble between
 *   tiles it no longer depends on what the previous tile left (the usual case), and the state of
 *   the recurrence relative to E_i repeats after a few identical tiles: the rest of the run is the
 *   same tiles shifted by the same number of cycles, skipped in one addition; so are identical
 *   matmuls back to back (a block's q, k, v and o) once the state after one repeats;
 * - when the bubble does not refill the credit (a memory slower than two beats per latency), the
 *   loads of a memory-bound run chain without the compute ever holding them back, and the memory
 *   behaves as one credit stream: the k-th following last beat is ⌈(bwNum·E_i − R_i + k·beats·cost)
 *   / bwNum⌉, skipped to directly.
 * Every skip is taken only when its precondition is checked on the state; otherwise tiles are
 * stepped one by one, which is exact but slower (counted in `FastCycleStats`).
 */
export interface FastCycles {
  readonly total: number;
  /** Cycles in which the memory port moved a beat, and the bytes it moved. */
  readonly memBusy: number;
  readonly bytesRead: number;
}

export type { FastCycleStats } from "./closed-form-load.js";

/** Relative states remembered when looking for a repeat. */
const MAX_PERIOD = 4;
/**
 * Scratch memory of StreamMachine.run, shared by every machine: a sweep creates two machines per
 * engine, and allocating typed arrays for each cost more than the model. Safe because a machine
 * runs synchronously and never calls another.
 */
const HISTORY = new Float64Array(MAX_PERIOD * 5);

export function fastStreamCycles(geo: EngineGeometry, plan: TilePlan, memory: MemoryTiming, stats?: FastCycleStats): FastCycles {
  const stream: MatmulRuns[] = [];
  const passes = new Map<string, number>();
  for (const matmul of plan.matmuls) {
    const runs: TileRun[] = [];
    for (const tile of plan.tiles.slice(matmul.firstTile, matmul.firstTile + matmul.tileCount)) {
      const sweep = modeField(tile.mode, "dequant") === 1 ? { gsteps: tile.gsteps } : undefined;
      const key = `${tile.steps}/${tile.groups}/${sweep ? tile.gsteps : -1}`;
      let pc = passes.get(key);
      if (pc === undefined) {
        pc = passCycles(geo, tile.steps, tile.groups, sweep);
        passes.set(key, pc);
      }
      pushRun(runs, tile.beats, pc, 1);
    }
    pushMatmul(stream, runs);
  }
  return runsCycles(geo, stream, plan.tokens, memory, stats);
}

/** Longest period looked for: the recurrence's cyclicity is 1 or 2; 4 leaves a margin. */
const MAX_PASS_PERIOD = 4;
/** passCycles' scratch memory, shared by every call (synchronous, never reentered): no allocation per pass. */
const PASS_HISTORY = new Float64Array(MAX_PASS_PERIOD * 4);

/**
 * runCycles (./step.ts) of a pass, equal to it for every shape but in a few steps instead of one
 * per weight step: a design-space sweep needs it for thousands of tile shapes a second, and
 * k / (T·G) steps run into the thousands.
 *
 * The pass recurrence (./pass.ts) is max-plus with constant coefficients: step s's build and issue
 * cycles are maxima of the previous steps' cycles plus constants. Its state relative to a[s]
 * therefore settles, after a short transient, into a cycle of period 1 or 2 (the critical cycle of
 * the build → issue → build-after-next loop can have an odd length, giving an average rate of half
 * a cycle). Once the relative state repeats, every later step is the earlier one shifted by the
 * same number of cycles, so the identical steps left are skipped in one addition. The relative
 * state is compared exactly, so the skip is exact; when it never repeats, the loop simply runs to
 * the end.
 *
 * With scales in column groups (a sweep after every gsteps steps) the repeating unit is a column
 * group rather than a step; the last unit (the last step, or a shorter last column group) differs
 * and is always stepped.
 */
export function passCycles(geo: EngineGeometry, steps: number, groups: number, sweep?: { gsteps: number }): number {
  const p = passShape(geo, steps, groups, sweep);
  const unit = p.groupSteps < steps ? p.groupSteps : 1;
  const units = Math.ceil(steps / unit);
  const st = passStart();
  // the relative state at the last MAX_PASS_PERIOD unit boundaries, newest first: a, i − a, i' − a, next − a
  const history = PASS_HISTORY;
  let kept = 0;
  let jumped = false;
  while (st.done < steps) {
    passStep(p, st);
    if (jumped || st.done % unit !== 0) continue;
    // units strictly between this boundary and the last unit are identical to the ones before
    const identical = units - 1 - st.done / unit;
    if (identical <= 0) continue;
    const k1 = st.issue - st.build;
    const k2 = st.issuePrev - st.build;
    const k3 = st.next - st.build;
    for (let q = 1; q <= kept; q++) {
      const at = (q - 1) * 4;
      if (history[at + 1] === k1 && history[at + 2] === k2 && history[at + 3] === k3) {
        const periods = Math.floor(identical / q);
        const shift = (st.build - history[at]!) * periods;
        st.build += shift;
        st.issue += shift;
        st.issuePrev += shift;
        st.next += shift;
        st.done += periods * q * unit;
        jumped = true;
        break;
      }
    }
    if (jumped) continue;
    history.copyWithin(4, 0, (MAX_PASS_PERIOD - 1) * 4);
    history[0] = st.build;
    history[1] = k1;
    history[2] = k2;
    history[3] = k3;
    kept = Math.min(kept + 1, MAX_PASS_PERIOD);
  }
  return runEnd(geo, st.next - 1, groups, p.sweeps);
}

/** Identical consecutive tiles: their memory beats and the cycles of one pass over them. */
export interface TileRun {
  readonly beats: number;
  readonly passCycles: number;
  readonly count: number;
}

/** A matmul's tiles as runs, and how many identical matmuls run back to back (a block's q, k, v, o). */
export interface MatmulRuns {
  readonly runs: readonly TileRun[];
  readonly repeat: number;
}

/** Matmuls as one descriptor stream, in the order the engine runs them. */
export type TileStream = readonly MatmulRuns[];

/** Appends `count` tiles to a list of runs, merging them into the last run when identical. */
function pushRun(runs: TileRun[], beats: number, passCycles: number, count: number): void {
  const last = runs[runs.length - 1];
  if (last && last.beats === beats && last.passCycles === passCycles) runs[runs.length - 1] = { beats, passCycles, count: last.count + count };
  else runs.push({ beats, passCycles, count });
}

/** Appends a matmul to a stream, as one more repeat of the last matmul when its runs are the same. */
function pushMatmul(stream: MatmulRuns[], runs: readonly TileRun[]): void {
  const last = stream[stream.length - 1];
  const same =
    last !== undefined &&
    last.runs.length === runs.length &&
    last.runs.every((r, i) => r.beats === runs[i]!.beats && r.passCycles === runs[i]!.passCycles && r.count === runs[i]!.count);
  if (same) stream[stream.length - 1] = { runs: last.runs, repeat: last.repeat + 1 };
  else stream.push({ runs, repeat: 1 });
}

/**
 * The tile runs of matmuls as one descriptor stream (planMatmuls' tiles without the Tile objects):
 * each matmul is its full tiles and a last one. Refuses what planMatmuls refuses. The stream
 * depends on the engine only, so one serves every token count.
 */
export function matmulRuns(geo: EngineGeometry, shapes: readonly MatmulShape[]): TileStream {
  const stream: MatmulRuns[] = [];
  let imageBytes = 0;
  let previous: MatmulShape | undefined;
  let previousBytes = 0;
  for (const shape of shapes) {
    // a shape like the one before (the usual block: q, k, v, o) is the same tiles again
    if (previous && shape.n === previous.n && shape.k === previous.k && shape.scales === previous.scales) {
      const last = stream[stream.length - 1]!;
      stream[stream.length - 1] = { runs: last.runs, repeat: last.repeat + 1 };
      imageBytes += previousBytes;
      continue;
    }
    const tiling = matmulTiling(geo, shape);
    const sweep = modeField(tiling.mode, "dequant") === 1 ? { gsteps: tiling.gsteps } : undefined;
    const runs: TileRun[] = [];
    const fullBeats = tileBeats(geo, tiling, tiling.groupsPerTile);
    if (tiling.tileCount > 1) pushRun(runs, fullBeats, passCycles(geo, tiling.steps, tiling.groupsPerTile, sweep), tiling.tileCount - 1);
    const lastBeats = tiling.lastGroups === tiling.groupsPerTile ? fullBeats : tileBeats(geo, tiling, tiling.lastGroups);
    pushRun(runs, lastBeats, passCycles(geo, tiling.steps, tiling.lastGroups, sweep), 1);
    pushMatmul(stream, runs);
    // the memory image, tiles on 4 KB boundaries, must stay within a 32-bit address
    previousBytes = (tiling.tileCount - 1) * alignedBytes(geo, fullBeats) + alignedBytes(geo, lastBeats);
    imageBytes += previousBytes;
    previous = shape;
  }
  if (imageBytes > 2 ** 32) throw new UserError(`the weight image needs ${imageBytes} bytes, past the 4 GB a 32-bit AXI address reaches`);
  return stream;
}

function alignedBytes(geo: EngineGeometry, beats: number): number {
  return Math.ceil((beats * geo.beatBytes) / TILE_ALIGN) * TILE_ALIGN;
}

/** The cycles of a descriptor stream, each tile's passes run `tokens` times. */
export function runsCycles(geo: EngineGeometry, stream: TileStream, tokens: number, memory: MemoryTiming, stats?: FastCycleStats): FastCycles {
  checkTokens(tokens);
  const m = new StreamMachine(geo, memory, tokens, stats);
  let beats = 0;
  for (const matmul of stream) {
    m.matmuls(matmul.runs, matmul.repeat);
    let perMatmul = 0;
    for (const run of matmul.runs) perMatmul += run.beats * run.count;
    beats += perMatmul * matmul.repeat;
  }
  return { total: m.total(), memBusy: beats, bytesRead: beats * geo.beatBytes };
}

/**
 * The tile recurrence. Times are cycles as in streamCycles; after a tile: D its descriptor's
 * cycle, C its last pass's end, Cm1 the previous tile's, and in the port E its last beat and R
 * the credit left after it. Before the first tile the values make the recurrence start as the
 * RTL does (descriptors at cycles 0 and 1, credit growing from 0 at cycle 0).
 */
class StreamMachine {
  private readonly port: CreditPort;
  private readonly loader: TileLoader;
  private D = -1;
  private C = -Infinity;
  private Cm1 = -Infinity;

  constructor(
    geo: EngineGeometry,
    memory: MemoryTiming,
    private readonly tokens: number,
    private readonly stats: FastCycleStats | undefined,
  ) {
    this.port = new CreditPort(geo.beatBytes, memory);
    this.loader = new TileLoader(this.port, geo, memory, stats);
  }

  total(): number {
    return this.C === -Infinity ? 0 : this.C + 1;
  }

  /**
   * `repeat` identical matmuls of tile runs `runs`. As within a run of tiles, once the relative
   * state after a matmul equals the one after the matmul before, the remaining matmuls are the
   * last one again, shifted by the same number of cycles each.
   */
  matmuls(runs: readonly TileRun[], repeat: number): void {
    const port = this.port;
    let k0 = NaN;
    let k1 = NaN;
    let k2 = NaN;
    let k3 = NaN;
    let E = NaN;
    for (let left = repeat; left > 0; ) {
      for (const run of runs) this.run(run.beats, run.passCycles, run.count);
      if (--left === 0) break;
      const j0 = this.D - port.E;
      const j1 = this.Cm1 - port.E;
      const j2 = this.C - port.E;
      const j3 = this.creditMatters() ? port.R : -1;
      if (j0 === k0 && j1 === k1 && j2 === k2 && j3 === k3) {
        this.shift((port.E - E) * left);
        if (this.stats) for (const run of runs) this.stats.repeated += run.count * left;
        break;
      }
      k0 = j0;
      k1 = j1;
      k2 = j2;
      k3 = j3;
      E = port.E;
    }
  }

  private shift(cycles: number): void {
    this.D += cycles;
    this.C += cycles;
    this.Cm1 += cycles;
    this.port.shift(cycles);
  }

  /** `count` identical tiles. */
  run(beats: number, pc: number, count: number): void {
    const port = this.port;
    let left = count;
    let kept = 0; // relative states in history
    let unrepeated = 0; // tiles stepped in this run without finding a repeat
    while (left > 0) {
      this.step(beats, pc);
      left--;
      if (this.stats) this.stats.stepped++;
      if (left === 0) break;
      const k0 = this.D - port.E;
      const k1 = this.Cm1 - port.E;
      const k2 = this.C - port.E;
      const k3 = this.creditMatters() ? port.R : -1;
      const h = HISTORY;
      let period = 0;
      for (let p = 1; p <= kept; p++) {
        const at = (p - 1) * 5;
        if (h[at + 1] === k0 && h[at + 2] === k1 && h[at + 3] === k2 && h[at + 4] === k3) {
          period = p;
          break;
        }
      }
      if (period > 0) {
        // the same states recur every `period` tiles, each time `shift` cycles later
        const periods = Math.floor(left / period);
        this.shift((port.E - h[(period - 1) * 5]!) * periods);
        left -= periods * period;
        if (this.stats) this.stats.repeated += periods * period;
        kept = 0;
        continue;
      }
      h.copyWithin(5, 0, (MAX_PERIOD - 1) * 5);
      h[0] = port.E;
      h[1] = k0;
      h[2] = k1;
      h[3] = k2;
      h[4] = k3;
      kept = Math.min(kept + 1, MAX_PERIOD);
      // the credit stream needs the run's pattern set up by a few tiles of its own
      if (++unrepeated >= 3 && left >= 3 && this.creditStream(beats, pc, left)) {
        if (this.stats) this.stats.streamed += left;
        left = 0;
      }
    }
  }

  /** One tile of `beats` beats and passes of `pc` cycles. */
  private step(beats: number, pc: number): void {
    const D = Math.max(this.D + 1, this.Cm1 + 1);
    const S = Math.max(D + 1, this.port.E + 1);
    this.loader.load(beats, S);
    const X = Math.max(this.port.E + LOADED_DELAY, this.C + 1);
    this.D = D;
    this.Cm1 = this.C;
    this.C = X + this.tokens * pc;
  }

  /** Whether the next tile's starting credit depends on R: the bubble before it cannot fill the cap. */
  private creditMatters(): boolean {
    const { port } = this;
    const S = Math.max(Math.max(this.D + 1, this.Cm1 + 1) + 1, port.E + 1);
    return port.bw * (S + 1 + this.loader.latency - port.E) < port.cap;
  }

  /**
   * Skips the remaining `left` tiles of a run when the memory is one credit stream through them:
   * the credit never reaches the cap (so none is lost), the loader starts each tile the cycle after
   * the previous one's last beat (the compute never holds a half or a queue slot that long), and
   * each tile ends on the credit. Then bwNum·E − R grows by beats·cost per tile exactly.
   */
  private creditStream(beats: number, pc: number, left: number): boolean {
    const { port, tokens } = this;
    const { cost, bw, cap } = port;
    if (bw >= cost || port.R >= bw) return false;
    // the credit at a tile's first usable cycle, after a bubble of 2 + latency cycles
    const maxC0 = bw - 1 + bw * (2 + this.loader.latency);
    if (maxC0 > cap) return false;
    if (maxC0 >= cost && ceilDiv(cost * beats - maxC0, bw) < beats - 1) return false;
    if (!this.loader.backlogged(beats, maxC0)) return false;
    const minInterval = Math.floor((cost * beats) / bw);
    const busy = tokens * pc;
    if (minInterval < busy + LOADED_DELAY + 1) return false;
    if (!(this.D < port.E && this.Cm1 < port.E && this.C <= port.E + LOADED_DELAY + busy)) return false;
    if (left * cost * beats > 2 ** 52) return false;
    const E0 = port.E;
    const R0 = port.R;
    const lastBeat = (k: number): number => E0 + ceilDiv(k * cost * beats - R0, bw);
    const E = lastBeat(left);
    port.R = bw * (E - E0) - (left * cost * beats - R0);
    port.E = E;
    this.C = E + LOADED_DELAY + busy;
    this.Cm1 = lastBeat(left - 1) + LOADED_DELAY + busy;
    this.D = lastBeat(left - 2) + LOADED_DELAY + busy + 1;
    return true;
  }
}
