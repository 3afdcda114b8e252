import { type Budget } from "../budget/budget.js";
import { type EngineGeometry } from "../engine/config.js";
import { delayModel, fmaxMHz, pathDelay } from "../fabric/delays.js";
import { type ClockPath } from "../fabric/paths.js";
import { modelFamily } from "../fabric/resources.js";
import { axiLoaderUnit } from "../units/axi-loader.js";
import { ENGINE_UNITS, enginePaths } from "../units/engine.js";
import { type HardwareUnit } from "../units/unit.js";
import { weightBuffer } from "../units/weight-buffer.js";
import { type SynthTiming } from "./synth/synth.js";

/**
 * The analytic clock estimate: the register-to-register paths every hardware unit declares
 * (src/units/: levels of logic, carry chain lengths, multiplexer depths, written the way yosys maps
 * the RTL), timed with the rough delay model of src/fabric/delays.ts and compared with the longest
 * paths of yosys's netlist in docs/clock.md.
 */
export type { ClockPath };

/** The paths of every unit of the engine, as the analytic model sees them. */
export function analyticPaths(geo: EngineGeometry, family: Budget["family"]): ClockPath[] {
  return enginePaths(geo, modelFamily(family));
}

export interface TimedPath {
  module: string;
  what: string;
  periodNs: number;
  fmaxMHz: number;
  levels: number;
  luts: number;
  carries: number;
}

export interface ClockSide {
  fmaxMHz: number;
  periodNs: number;
  /** Logic levels of the critical path (LUTs, carry primitives, MUXFs, LUTRAM reads, DSPs). */
  levels: number;
  luts: number;
  carries: number;
  /** The module the critical path ends in. */
  criticalModule: string;
  /** What the critical path is (analytic), or where it starts and ends (netlist). */
  path: string;
  meetsTarget: boolean;
  /** The slowest path ending in each module. */
  modules: Record<string, TimedPath>;
}

export interface ClockEstimate {
  targetMHz: number;
  analytic: ClockSide;
  synth?: ClockSide;
  model: { family: string; source: string };
  note: string;
}

function side(paths: TimedPath[], targetMHz: number, describe: (p: TimedPath) => string): ClockSide {
  const modules: Record<string, TimedPath> = {};
  for (const p of paths) if (!modules[p.module] || modules[p.module]!.periodNs < p.periodNs) modules[p.module] = p;
  const worst = paths.reduce((a, b) => (b.periodNs > a.periodNs ? b : a));
  return {
    fmaxMHz: worst.fmaxMHz,
    periodNs: worst.periodNs,
    levels: worst.levels,
    luts: worst.luts,
    carries: worst.carries,
    criticalModule: worst.module,
    path: describe(worst),
    meetsTarget: worst.fmaxMHz >= targetMHz,
    modules,
  };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The analytic estimate, and beside it the synthesized netlist's when `synth` is given. */
export function estimateClock(geo: EngineGeometry, budget: Budget, synth?: SynthTiming): ClockEstimate {
  const m = delayModel(modelFamily(budget.family));
  const timed = analyticPaths(geo, budget.family).map((p): TimedPath => {
    const d = pathDelay(p.shape, m);
    return { module: p.module, what: p.what, periodNs: round(d.ns, 3), fmaxMHz: round(fmaxMHz(d.ns), 1), levels: d.levels, luts: d.luts, carries: d.carries };
  });
  const estimate: ClockEstimate = {
    targetMHz: budget.clockMHz,
    analytic: side(timed, budget.clockMHz, (p) => p.what),
    model: { family: m.family, source: m.source },
    note:
      "estimate from logic depth (no placement or routing): one average routed-net delay per level and " +
      "data-sheet-class cell delays; treat as ±25% (docs/clock.md)",
  };
  const paths = Object.values(synth?.byModule ?? {});
  if (synth && paths.length > 0) {
    estimate.synth = side(
      paths.map((p) => ({
        module: p.toModule,
        what: `${p.from} → ${p.to}`,
        periodNs: round(p.ns, 3),
        fmaxMHz: round(fmaxMHz(p.ns), 1),
        levels: p.levels,
        luts: p.luts,
        carries: p.carries,
      })),
      budget.clockMHz,
      (p) => p.what,
    );
  }
  return estimate;
}

/**
 * The clock an engine's cycles are turned into seconds at: the budget's clock, unless the engine's
 * own analytic estimate says it cannot reach it; then the estimate. Latency, sweeps, `compile
 * --auto`, simulation's microseconds and reports all take it from here, so no figure assumes a
 * clock trilut itself predicts the engine misses.
 */
export interface EngineClock {
  /** The clock the figures use: min(budget, estimate). */
  readonly mhz: number;
  /** Which of the two set it. */
  readonly limitedBy: "budget" | "estimate";
  /** The analytic estimate's fmax (estimateClock(...).analytic.fmaxMHz). */
  readonly estimateMHz: number;
  /** The budget's clock (after a sweep's clock axis, when it has one). */
  readonly budgetMHz: number;
  /** The estimate's critical path: what it does, in which module. */
  readonly criticalPath: string;
}

interface AnalyticFmax {
  readonly mhz: number;
  readonly criticalPath: string;
}

/** The slowest path of some units, chosen and rounded as estimateClock chooses and rounds. */
interface Worst {
  /** Rounded as estimateClock compares (the first of equal paths wins). */
  readonly ns: number;
  readonly mhz: number;
  readonly criticalPath: string;
  /** The unit's place in ENGINE_UNITS: between groups, the earlier of equal paths wins. */
  readonly unit: number;
}

/** The units whose paths the memory beat and the buffer's width (P·c) set. */
const beatUnit = (u: HardwareUnit): boolean => u === weightBuffer || u === axiLoaderUnit;

function worstOf(geo: EngineGeometry, family: Budget["family"], beat: boolean): Worst | undefined {
  const m = delayModel(modelFamily(family));
  let worst: Worst | undefined;
  ENGINE_UNITS.forEach((u, unit) => {
    if (beatUnit(u) !== beat || !u.has(geo)) return;
    for (const p of u.paths(geo, m)) {
      const exact = pathDelay(p.shape, m).ns;
      const ns = round(exact, 3);
      if (!worst || ns > worst.ns) worst = { ns, mhz: round(fmaxMHz(exact), 1), criticalPath: `${p.what} in ${p.module}`, unit };
    }
  });
  return worst;
}

/**
 * The analytic fmax of an engine, cached: a sweep meets each engine's clock-relevant fields many
 * times, and the path walk (~15 µs) costs several times the point's cycle model. The units the
 * memory beat and P·c set (weight buffer, AXI loader) and the other units are cached apart, each
 * group under two integers packing the engine fields it reads, directly or through the geometry:
 * the others kind, G, encoding, T, actBits (entryBits, entryAddressBits, treeLevels),
 * treeLevelsPerStage, bufferDepth, weightMemory and dequant; the beat units P·c, memBits,
 * bufferDepth and weightMemory. Split so, a sweep over T × P walks each T's paths and each
 * P·c's once. Numbers, not strings, because building a string key cost as much as the rest of the
 * point. test/clock.test.ts checks the cached figure against estimateClock on random engines and
 * on variants of each with one field changed.
 */
type Cache = Map<Budget["family"], Map<number, Map<number, Worst | null>>>;
const coreCache: Cache = new Map();
const beatCache: Cache = new Map();
const CACHE_LIMIT = 100_000;
let cached = 0;

function lookup(cache: Cache, family: Budget["family"], a: number, b: number, walk: () => Worst | undefined): Worst | undefined {
  let byA = cache.get(family);
  if (!byA) cache.set(family, (byA = new Map()));
  let byB = byA.get(a);
  if (!byB) byA.set(a, (byB = new Map()));
  let hit = byB.get(b);
  if (hit === undefined) {
    if (cached >= CACHE_LIMIT) {
      coreCache.clear();
      beatCache.clear();
      cached = 0;
      return walk();
    }
    hit = walk() ?? null;
    byB.set(b, hit);
    cached++;
  }
  return hit ?? undefined;
}

function analyticFmax(geo: EngineGeometry, family: Budget["family"]): AnalyticFmax {
  const c = geo.cfg;
  const fits = c.G < 16 && c.treeLevelsPerStage < 16 && c.actBits < 32 && c.T < 2 ** 20 && geo.columns < 2 ** 16 && c.memBits < 2 ** 16 && c.bufferDepth < 2 ** 30;
  let core: Worst | undefined;
  let beat: Worst | undefined;
  if (fits) {
    const memory = c.weightMemory === "uram" ? 1 : 0;
    const flags = memory + (c.kind === "baseline" ? 4 : 0) + (c.encoding === "mirrored" ? 8 : 0) + (c.dequant ? 16 : 0);
    const a = flags + 32 * (c.G + 16 * (c.treeLevelsPerStage + 16 * (c.actBits + 32 * c.T)));
    core = lookup(coreCache, family, a, c.bufferDepth, () => worstOf(geo, family, false));
    beat = lookup(beatCache, family, memory + 4 * (geo.columns + 2 ** 16 * c.memBits), c.bufferDepth, () => worstOf(geo, family, true));
  } else {
    core = worstOf(geo, family, false);
    beat = worstOf(geo, family, true);
  }
  // as estimateClock over the units in order: the slower wins, and of equal ones the earlier unit
  const worst = !core || (beat && (beat.ns > core.ns || (beat.ns === core.ns && beat.unit < core.unit))) ? beat! : core;
  return { mhz: worst.mhz, criticalPath: worst.criticalPath };
}

export function engineClockMHz(geo: EngineGeometry, budget: Budget): EngineClock {
  const { mhz: estimateMHz, criticalPath } = analyticFmax(geo, budget.family);
  const budgetMHz = budget.clockMHz;
  const limitedBy = budgetMHz <= estimateMHz ? "budget" : "estimate";
  return { mhz: limitedBy === "budget" ? budgetMHz : estimateMHz, limitedBy, estimateMHz, budgetMHz, criticalPath };
}

/**
 * Which clock the figures use and why, in one line; said out loud when the estimate limits it,
 * since every time then differs from what the budget alone would give.
 */
export function describeEngineClock(c: EngineClock): string {
  return c.limitedBy === "budget"
    ? `at the budget's ${c.budgetMHz} MHz (the clock estimate, ${c.estimateMHz} MHz, reaches it)`
    : `at ${c.estimateMHz} MHz: the clock estimate is below the budget's ${c.budgetMHz} MHz (critical path: ${c.criticalPath}; docs/clock.md)`;
}

/** The budget as the engine runs it: its clock replaced by the engine's (memory timing in engine cycles follows). */
export function atEngineClock(budget: Budget, clock: EngineClock): Budget {
  return clock.mhz === budget.clockMHz ? budget : { ...budget, clockMHz: clock.mhz };
}

/** The budget at the engine's clock (engineClockMHz), for what counts cycles against memory. */
export function engineBudget(geo: EngineGeometry, budget: Budget): Budget {
  return atEngineClock(budget, engineClockMHz(geo, budget));
}
