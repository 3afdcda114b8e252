import { type Budget } from "../budget/budget.js";
import { engineGeometry, type EngineGeometry } from "../engine/config.js";
import { UserError } from "../util/errors.js";
import { modelFamily, type ModuleResources } from "../fabric/resources.js";
import { engineModules, engineTotal, type ModuleEstimate } from "../units/engine.js";

/**
 * The resources of an engine: the sum of what its hardware units (src/units/) count per Verilog
 * module, each formula with its source; calibrated against yosys in docs/calibration.md. `lut` counts LUTs as logic and `lutram` LUTs as memory; a part's LUT count
 * covers both, so the budget check compares `lut + lutram` with it. `carry` is CARRY8 on
 * UltraScale+ and CARRY4 on 7-series (not budgeted).
 */
export type ResourceEstimate = ModuleResources;

export function estimateResources(geo: EngineGeometry, family: Budget["family"] = "ultrascale+"): ResourceEstimate {
  return engineTotal(geo, modelFamily(family));
}

/** Every module of the engine (src/units/): its resources per instance, its instance count, and the total. */
export function estimateModules(geo: EngineGeometry, family: Budget["family"] = "ultrascale+"): ModuleEstimate {
  return engineModules(geo, modelFamily(family));
}

export { modelFamily };
export type { ModuleEstimate, ModuleResources };

/** Budgeted resources and what of the estimate each one takes. */
export type Budgeted = "lut" | "ff" | "bram36" | "uram" | "dsp";
export const RESOURCE_NAMES: Record<Budgeted, string> = {
  lut: "LUT",
  ff: "FF",
  bram36: "BRAM36",
  uram: "URAM",
  dsp: "DSP",
};

/**
 * The share of the part each budgeted resource takes (of the part, not of the cap). LUTs as logic
 * and as memory share the part's LUTs, as the budget check counts them; a resource the part lacks
 * is an infinite share when used.
 */
export function budgetShares(need: ResourceEstimate, budget: Budget): Record<Budgeted, number> {
  const share = (used: number, of: number): number => (of > 0 ? used / of : used > 0 ? Infinity : 0);
  return {
    lut: share(need.lut + need.lutram, budget.lut),
    ff: share(need.ff, budget.ff),
    bram36: share(need.bram36, budget.bram36),
    uram: share(need.uram, budget.uram),
    dsp: share(need.dsp, budget.dsp),
  };
}

/**
 * The resource an engine most overruns (the largest need / limit) of those it takes more of than
 * the budget's cap allows, if any: the one that binds.
 */
export function overrun(need: ResourceEstimate, budget: Budget): { key: Budgeted; need: number; limit: number } | undefined {
  let worst: { key: Budgeted; need: number; limit: number } | undefined;
  for (const key of Object.keys(RESOURCE_NAMES) as Budgeted[]) {
    const limit = Math.floor(budget[key] * budget.utilizationCap);
    // LUTs as logic and as memory (tables, queues) share the part's LUTs
    const n = key === "lut" ? need.lut + need.lutram : need[key];
    if (n > limit && (!worst || n * Math.max(worst.limit, 1) > worst.need * Math.max(limit, 1))) worst = { key, need: n, limit };
  }
  return worst;
}

/**
 * The engine with the most weights per cycle (P·T·G) that fits the budget, changing only P and
 * T (every other choice kept), or undefined when not even P = T = 1 fits.
 */
export function largestFitting(geo: EngineGeometry, budget: Budget): EngineGeometry | undefined {
  let best: EngineGeometry | undefined;
  for (let P = geo.cfg.P; P >= 1; P--) {
    for (let T = geo.cfg.T; T >= 1; T--) {
      if (best && P * T <= best.cfg.P * best.cfg.T) break; // smaller T only does worse
      const candidate = engineGeometry({ ...geo.cfg, P, T });
      if (!overrun(estimateResources(candidate, budget.family), budget)) best = candidate;
    }
  }
  return best;
}

/**
 * Whether an engine whose resources are `need` fits the budget: exactly what checkFits accepts,
 * without the search for a suggestion, for sweeps that test thousands of engines.
 */
export function fitsBudget(geo: EngineGeometry, need: ResourceEstimate, budget: Budget): boolean {
  return !(geo.cfg.weightMemory === "uram" && budget.uram === 0) && overrun(need, budget) === undefined;
}

/** Refuses an engine that takes more of any resource than the budget's cap allows. */
export function checkFits(geo: EngineGeometry, budget: Budget): ResourceEstimate {
  const need = estimateResources(geo, budget.family);
  if (geo.cfg.weightMemory === "uram" && budget.uram === 0) {
    throw new UserError(
      `engine does not fit ${budget.device}: the part has no URAM; use --set weightMemory=bram`,
    );
  }
  const over = overrun(need, budget);
  if (over) {
    const fits = largestFitting(geo, budget);
    const suggestion = fits
      ? `the largest engine that fits has P=${fits.cfg.P} T=${fits.cfg.T} (${fits.weightsPerCycle} weights/cycle): --set P=${fits.cfg.P} --set T=${fits.cfg.T}`
      : "no P and T make it fit; lower bufferDepth or maxRows";
    throw new UserError(
      `engine does not fit ${budget.device}: ${RESOURCE_NAMES[over.key]} needs ${over.need}, limit ${over.limit} ` +
        `(${Math.round(budget.utilizationCap * 100)}% of ${budget[over.key]}); ${suggestion}`,
    );
  }
  return need;
}
