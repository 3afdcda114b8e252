import { type EngineGeometry } from "../../engine/config.js";
import { type TilePlan } from "../../engine/tiles.js";
import { modeField } from "../../engine/descriptor.js";
import { type MemoryTiming } from "../../budget/memory.js";
import { LOADED_DELAY } from "../../units/weight-buffer.js";
import { QUEUE_DEPTH } from "../../units/stream-core.js";
import { CreditRule } from "./credit.js";
import { runCycles } from "./step.js";

/**
 * The cycle model of the streaming engine (hw/trilut_stream_core.v) reading the memory model of
 * sim/trilut_memory.h; exact when the host's streams never stall (tests compare it with Verilator).
 *
 * The compute side is one runCycles per pass (./step.ts). The loader and the memory are followed
 * event by event, because a beat's cycle depends on bandwidth credit, request latency and the
 * bursts in flight together; stretches where nothing can happen are skipped, so the cost is about
 * one step per memory beat or pass. Variables hold what the RTL's registers hold in cycle t, and
 * each iteration decides cycle t's handshakes from them before updating them for t + 1.
 */
export interface StreamCycles {
  readonly total: number;
  /** Cycles in which the memory port moved a beat, and the bytes it moved. */
  readonly memBusy: number;
  readonly bytesRead: number;
  /** Cycle each tile's weights were usable, and cycle each tile's last pass finished. */
  readonly tileLoaded: number[];
  readonly tileDone: number[];
}

interface Burst {
  readyAt: number;
  beats: number;
}

export function streamCycles(geo: EngineGeometry, plan: TilePlan, memory: MemoryTiming): StreamCycles {
  const { maxBurst, maxOutstanding } = geo.cfg;
  const rule = new CreditRule(geo.beatBytes, memory);
  const tiles = plan.tiles;
  const passCycles = tiles.map((tile) =>
    runCycles(geo, tile.steps, tile.groups, modeField(tile.mode, "dequant") === 1 ? { gsteps: tile.gsteps } : undefined),
  );

  let accepted = 0; // descriptors taken
  let loadQueue = 0; // entries in the loader's and the compute side's descriptor queues
  let runQueue = 0;
  const halfFullFrom = [Infinity, Infinity]; // cycle from which each half reads full
  const tileLoaded: number[] = [];
  const tileDone: number[] = [];

  let active = false; // loader
  let loadTile = 0;
  let reqLeft = 0;
  let dataLeft = 0;
  let outstanding = 0;
  let credit = 0; // memory
  const queue: Burst[] = [];
  let memBusy = 0;
  let runTile = 0; // compute
  let token = 0;
  let running = false;
  let idleFrom = 0;

  let t = 0;
  for (;;) {
    const halfFull = (h: number): boolean => halfFullFrom[h]! <= t;
    const computeIdle = t >= idleFrom;
    if (accepted === tiles.length && runQueue === 0 && loadQueue === 0 && !active && computeIdle && !halfFull(0) && !halfFull(1)) {
      break;
    }

    // ---- cycle t's handshakes
    credit = rule.accrue(credit, 1);
    const descFire = accepted < tiles.length && loadQueue < QUEUE_DEPTH && runQueue < QUEUE_DEPTH;
    const loaderStart = !active && loadQueue > 0 && !halfFull(loadTile % 2);
    const arFire = active && reqLeft > 0 && outstanding < maxOutstanding && queue.length < memory.maxQueued;
    const rFire = active && queue.length > 0 && t >= queue[0]!.readyAt && rule.covers(credit);
    const runHalf = runTile % 2;
    const passStart = computeIdle && runQueue > 0 && halfFull(runHalf) && (!running || token !== plan.tokens);
    const tileComplete = running && computeIdle && token === plan.tokens;

    // ---- registers for t + 1
    if (descFire) {
      accepted++;
      loadQueue++;
      runQueue++;
    }
    let lastBeat = false;
    if (rFire) {
      credit -= rule.cost;
      memBusy++;
      const front = queue[0]!;
      if (--front.beats === 0) {
        queue.shift();
        outstanding--;
      }
      lastBeat = --dataLeft === 0;
    }
    if (arFire) {
      const burst = Math.min(reqLeft, maxBurst);
      queue.push({ readyAt: t + memory.latency, beats: burst });
      reqLeft -= burst;
      outstanding++;
    }
    if (loaderStart) {
      loadQueue--;
      active = true;
      reqLeft = dataLeft = tiles[tileLoaded.length]!.beats;
    } else if (lastBeat) {
      active = false;
      halfFullFrom[loadTile % 2] = t + LOADED_DELAY;
      tileLoaded.push(t + LOADED_DELAY);
      loadTile++;
    }
    if (tileComplete) {
      runQueue--;
      halfFullFrom[runHalf] = Infinity;
      tileDone.push(t);
      running = false;
      token = 0;
      runTile++;
    } else if (passStart) {
      running = true;
      token++;
      idleFrom = t + passCycles[runTile]!;
    }

    // ---- skip cycles in which nothing can happen: only time and credit move in them
    const fired = descFire || loaderStart || arFire || rFire || passStart || tileComplete;
    let next = t + 1;
    if (!fired) {
      const wake = [idleFrom, ...halfFullFrom].filter((c) => c > t);
      if (active && queue.length > 0) {
        const ready = Math.max(queue[0]!.readyAt, t + 1);
        wake.push(Math.max(ready, t + rule.cyclesToCover(credit)));
      }
      next = Math.max(t + 1, Math.min(...wake));
      if (!Number.isFinite(next)) throw new Error("stream cycle model: no event can happen (a bug)");
      credit = rule.accrue(credit, next - t - 1);
    }
    t = next;
  }
  return { total: t, memBusy, bytesRead: memBusy * geo.beatBytes, tileLoaded, tileDone };
}
