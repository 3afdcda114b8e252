import { type Budget } from "../budget/budget.js";
import { type EngineGeometry } from "../engine/config.js";
import { delayModel, fmaxMHz, pathDelay } from "../fabric/delays.js";
import { type ClockPath } from "../fabric/paths.js";
import { modelFamily } from "../fabric/resources.js";
import { enginePaths } from "../units/engine.js";
import { type SynthTiming } from "./synth.js";

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
