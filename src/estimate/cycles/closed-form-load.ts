import { type MemoryTiming } from "../../budget/memory.js";
import { type EngineGeometry } from "../../engine/config.js";
import { ceilDiv, type CreditPort } from "./credit.js";

/** How the fast model got its answer (for benchmarks and tests). */
export interface FastCycleStats {
  /** Tiles evaluated one by one. */
  stepped: number;
  /** Tiles skipped over because the relative state repeated, or the memory was one credit stream. */
  repeated: number;
  streamed: number;
  /** Tiles whose loads were followed burst by burst (bursts in flight not shown to cover latency). */
  burstLoads: number;
  /** Bursts of those loads served one by one, and skipped because the state after a burst repeated. */
  bursts: number;
  burstsSkipped: number;
}

/**
 * The AXI loader (hw/trilut_axi_loader.v) reading one tile through the credit port, as
 * streamCycles follows it but in closed form: requests of up to maxBurst beats, one a cycle from
 * the cycle after the loader starts, at most `window` bursts in flight (the loader's outstanding
 * limit and the memory's queue), a burst's data usable `latency` cycles after its request.
 *
 * Usually the bursts in flight cover the latency and the beats follow the credit alone: the whole
 * tile is one CreditPort.serve. Otherwise the tile is followed burst by burst (each burst one
 * serve), and once the state after a burst repeats, the identical bursts left are skipped.
 */
export class TileLoader {
  /** Cycles from a request to its first usable beat: at least 1 (never in the request's cycle). */
  readonly latency: number;
  readonly window: number;
  readonly burst: number;

  constructor(
    private readonly port: CreditPort,
    geo: EngineGeometry,
    memory: MemoryTiming,
    private readonly stats: FastCycleStats | undefined,
  ) {
    this.latency = Math.max(memory.latency, 1);
    this.window = Math.min(geo.cfg.maxOutstanding, memory.maxQueued);
    this.burst = geo.cfg.maxBurst;
  }

  /** A tile of `beats` beats the loader starts in cycle S; leaves the port at its last beat. */
  load(beats: number, S: number): void {
    // the first request goes out at S + 1, its data is usable at t0
    const t0 = S + 1 + this.latency;
    const C0 = this.port.creditAt(t0);
    if (this.backlogged(beats, C0)) this.port.serve(beats, t0, C0);
    else this.byBursts(beats, S);
  }

  /**
   * Whether every burst of a tile starting at credit C0 is usable before the credit would let its
   * first beat go, so the beats follow the credit alone. Burst b < window is requested in cycle
   * S + 1 + b, in time since beats go at most one a cycle. Burst b ≥ window is requested the cycle
   * after burst b − window's last beat; the Δ = (window − 1) · burst + 1 beats between that beat and
   * its own first take at least Δ cycles, and at a bandwidth below a beat per cycle, once the credit
   * is what holds beats back (from beat burst − 1 on, since the lead the starting credit gives only
   * shrinks), at least ⌊Δ · cost / bwNum⌋; either covering 1 + latency suffices. Holding at some
   * C0, it holds at every lower one.
   */
  backlogged(beats: number, C0: number): boolean {
    const { burst, window, latency } = this;
    const { cost, bw } = this.port;
    if (Math.ceil(beats / burst) <= window) return true;
    const delta = (window - 1) * burst + 1;
    if (delta >= 1 + latency) return true;
    if (bw > cost || Math.floor((delta * cost) / bw) < 1 + latency) return false;
    const lead = Math.max(0, ceilDiv(cost - C0, bw));
    return ceilDiv(cost * burst - C0, bw) >= burst - 1 + lead;
  }

  /**
   * Burst by burst: burst b is requested once burst b − window has ended, usable `latency` later,
   * and its beats then follow the credit. From burst window − 1 on, the state after a burst (its
   * request, the port's last beat and credit, the ends of the bursts in flight) determines the
   * bursts after it; relative to the last beat it is kept as the burst's duration d_b = end_b −
   * end_{b−1}, request − E and the credit (or −1 where the next burst starts with a full cap
   * whatever the credit). The state after b equals the one after b − p when those agree and the
   * last window − 1 durations equal the p-earlier ones; the bursts then repeat every p, each
   * period the same cycles later, and the full bursts before the last are skipped. Only p = 1 and
   * p = window are looked for: on a broad random grid every repeat found among all p ≤ window had
   * one of these periods, and a period missed costs time, never exactness.
   */
  private byBursts(beats: number, S: number): void {
    const { burst, window: W, latency, port, stats } = this;
    if (stats) stats.burstLoads++;
    const H = W + 1; // states kept: periods up to W
    if (ends.length < W) {
      ends = new Float64Array(W);
      endsBefore = new Float64Array(W);
    }
    if (history.length < 4 * H) history = new Float64Array(4 * H);
    if (runs.length < H) runs = new Int32Array(H);
    runs.fill(0, 0, H);
    const bursts = Math.ceil(beats / burst);
    let stored = 0;
    let request = S;
    let skipped = false;
    for (let b = 0; b < bursts; b++) {
      request = b < W ? request + 1 : Math.max(request + 1, ends[b % W]! + 1);
      const start = Math.max(request + latency, port.E + 1);
      const before = port.E;
      port.serve(b < bursts - 1 ? burst : beats - (bursts - 1) * burst, start, port.creditAt(start));
      ends[b % W] = port.E;
      if (stats) stats.bursts++;
      if (skipped || b < W - 1 || b >= bursts - 2) continue;
      const d = port.E - before;
      const relRequest = request - port.E;
      const nextStart = Math.max(Math.max(request + 1, ends[(b + 1) % W]! + 1) + latency, port.E + 1);
      const credit = port.bw * (nextStart - port.E) >= port.cap ? -1 : port.R;
      // the periods bursts settle into are the window (a wave of requests per latency) and 1
      let period = 0;
      for (let p = 1; p <= stored; p = p < W ? W : Infinity) {
        const q = 4 * ((b - p) % H);
        runs[p] = d === history[q] ? runs[p]! + 1 : 0;
        if (period === 0 && runs[p]! >= W - 1 && history[q + 1] === relRequest && history[q + 2] === credit) period = p;
      }
      const periods = period > 0 ? Math.floor((bursts - 2 - b) / period) : 0;
      if (periods > 0) {
        const shift = (port.E - history[4 * ((b - period) % H) + 3]!) * periods;
        const to = b + periods * period;
        // the ends of the bursts in flight, periods later
        endsBefore.set(ends.subarray(0, W));
        for (let j = 0; j < W; j++) ends[(to - j) % W] = endsBefore[(b - j) % W]! + shift;
        request += shift;
        port.shift(shift);
        if (stats) stats.burstsSkipped += to - b;
        b = to;
        skipped = true;
        continue;
      }
      const at = 4 * (b % H);
      history[at] = d;
      history[at + 1] = relRequest;
      history[at + 2] = credit;
      history[at + 3] = port.E;
      stored = Math.min(stored + 1, W);
    }
  }
}

/**
 * Scratch memory of byBursts, shared by every loader (synchronous, never reentered), grown to the
 * largest window seen: the ends of the bursts in flight (and a copy), per kept state its duration,
 * relative request, credit and last beat, and per period the durations matched in a row.
 */
let ends = new Float64Array(64);
let endsBefore = new Float64Array(64);
let history = new Float64Array(4 * 65);
let runs = new Int32Array(65);
