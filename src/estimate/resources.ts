import { type Budget } from "../budget/budget.js";
import { engineGeometry, type EngineGeometry } from "../engine/config.js";
import { UserError } from "../util/errors.js";

/**
 * First-order resource figures of an engine. Memories are counted exactly from their shapes:
 * a URAM288 is 72 bits × 4096, a RAMB36 is 72 bits × 512 at its widest, and every bank column is
 * its own primitive (FINN-R: ⌈width/72⌉·⌈depth/4096⌉ per URAM memory). LUTs follow the TeLLMe cost
 * model T·(E·tree + P·E·entry + P·lookup) with per-bit constants, and are meant as a screen for
 * the budget check until a synthesis-calibrated model replaces them.
 */
export interface ResourceEstimate {
  lut: number;
  ff: number;
  bram36: number;
  uram: number;
  dsp: number;
}

export function estimateResources(geo: EngineGeometry): ResourceEstimate {
  const { cfg } = geo;
  const { P, T, c, bufferDepth } = cfg;
  const bankColumns = P * c;
  const uram = cfg.weightMemory === "uram" ? bankColumns * Math.ceil(bufferDepth / 4096) : 0;
  const weightBram = cfg.weightMemory === "bram" ? bankColumns * Math.ceil(bufferDepth / 512) : 0;
  // partial sums: P·32 bits wide, maxGroups deep
  const psumBram = Math.ceil((P * 32) / 72) * Math.ceil(geo.maxGroups / 512);
  // a LUT6 as RAM64X1D holds 64 one-bit entries per read port: one LUT per bit per 64 entries
  const tableDepth = 2 ** (geo.entryAddressBits + 1);
  const lutPerTableCopy = geo.entryBits * Math.ceil(tableDepth / 64);
  const tableLuts = T * P * lutPerTableCopy;
  // adder tree: T-1 adders per lane, about entryBits + level bits each
  const treeLuts = P * (T - 1) * (geo.entryBits + Math.ceil(geo.treeLevels / 2));
  const accLuts = P * 32;
  const signLuts = cfg.encoding === "mirrored" ? P * T * geo.entryBits : 0;
  const precomputeLuts = T * (cfg.G - 1) * geo.entryBits + T * cfg.G * 2;
  const controlLuts = 400;
  const lut = tableLuts + treeLuts + accLuts + signLuts + precomputeLuts + controlLuts;
  const ff = P * T * geo.entryBits + P * (T - 1) * geo.entryBits + T * cfg.G * 8 + P * 2 * 72 * c + P * 32 + 600;
  return { lut, ff, bram36: weightBram + psumBram, uram, dsp: 0 };
}

const RESOURCE_NAMES: Record<keyof ResourceEstimate, string> = {
  lut: "LUT",
  ff: "FF",
  bram36: "BRAM36",
  uram: "URAM",
  dsp: "DSP",
};

/** The first resource an engine takes more of than the budget's cap allows, if any. */
function overrun(need: ResourceEstimate, budget: Budget): { key: keyof ResourceEstimate; limit: number } | undefined {
  for (const key of Object.keys(RESOURCE_NAMES) as (keyof ResourceEstimate)[]) {
    const limit = Math.floor(budget[key] * budget.utilizationCap);
    if (need[key] > limit) return { key, limit };
  }
  return undefined;
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
      if (!overrun(estimateResources(candidate), budget)) best = candidate;
    }
  }
  return best;
}

/** Refuses an engine that takes more of any resource than the budget's cap allows. */
export function checkFits(geo: EngineGeometry, budget: Budget): ResourceEstimate {
  const need = estimateResources(geo);
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
      `engine does not fit ${budget.device}: ${RESOURCE_NAMES[over.key]} needs ${need[over.key]}, limit ${over.limit} ` +
        `(${Math.round(budget.utilizationCap * 100)}% of ${budget[over.key]}); ${suggestion}`,
    );
  }
  return need;
}
