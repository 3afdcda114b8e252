import { readFileSync } from "node:fs";
import { compileSchema } from "../util/schema.js";
import { UserError } from "../util/errors.js";

/** A hardware budget: what the part offers and how much of it a design may take. */
export interface Budget {
  device: string;
  family: "ultrascale+" | "versal" | "7series";
  part?: string;
  lut: number;
  ff: number;
  bram36: number;
  uram: number;
  dsp: number;
  clockMHz: number;
  memoryGBps: number;
  /** Off-chip memory read latency, request to first data. */
  memoryLatencyNs: number;
  /** Largest share of any resource a design may use (0..1]. */
  utilizationCap: number;
  /**
   * Off-chip memory the design may fill, in GB (weights, the KV cache, buffers): the planner refuses
   * a context whose KV cache does not fit. Absent in a budget file: not checked, and said so.
   */
  memoryGB?: number;
}

export const BUDGET_SCHEMA = {
  $id: "https://trilut.dev/schema/budget.json",
  type: "object",
  additionalProperties: false,
  required: ["device", "lut", "ff", "bram36", "uram", "dsp", "clockMHz", "memoryGBps"],
  properties: {
    // Both reach generated scripts (run_hls.tcl) and reports: a known shape, checked before anything is written.
    device: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$" },
    family: { enum: ["ultrascale+", "versal", "7series"], default: "ultrascale+" },
    /** An AMD/Xilinx part name such as xck26-sfvc784-2LV-c or xc7z020clg400-1. */
    part: { type: "string", maxLength: 64, pattern: "^[xX][A-Za-z0-9]+(-[A-Za-z0-9]+)+$" },
    // Upper bounds well above any part (the largest have under 10M LUTs and a few TB/s of HBM), so
    // a typo such as 1e308 is refused instead of giving "Infinity tokens/s".
    lut: { type: "integer", minimum: 1, maximum: 1e8 },
    ff: { type: "integer", minimum: 1, maximum: 1e8 },
    bram36: { type: "number", minimum: 0, maximum: 1e6 },
    uram: { type: "integer", minimum: 0, maximum: 1e6 },
    dsp: { type: "integer", minimum: 0, maximum: 1e6 },
    clockMHz: { type: "number", exclusiveMinimum: 0, maximum: 1000 },
    memoryGBps: { type: "number", exclusiveMinimum: 0, maximum: 1e5 },
    memoryLatencyNs: { type: "number", minimum: 0, maximum: 100000, default: 150 },
    utilizationCap: { type: "number", exclusiveMinimum: 0, maximum: 1, default: 0.9 },
    memoryGB: { type: "number", exclusiveMinimum: 0, maximum: 1e5 },
  },
} as const;

const validateBudget = compileSchema<Budget>(BUDGET_SCHEMA);

/**
 * Boards of shared/REFERENCE.md §2 (datasheet figures). Clocks are typical targets for a LUT-heavy
 * datapath on each family; memory bandwidth is the nominal figure of the board's off-chip memory,
 * and memoryGB the memory behind it (the K26 SOM's 4 GB DDR4; the ZCU104's and ZCU102's PS DDR4;
 * the VCK190's DDR4 DIMM; the Alveo cards' HBM2).
 */
export const PRESETS: Readonly<Record<string, Budget>> = {
  kv260: {
    device: "kv260", family: "ultrascale+", part: "xck26-sfvc784-2LV-c",
    lut: 117120, ff: 234240, bram36: 144, uram: 64, dsp: 1248,
    clockMHz: 250, memoryGBps: 19.2, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 4,
  },
  zcu104: {
    device: "zcu104", family: "ultrascale+", part: "xczu7ev-ffvc1156-2-e",
    lut: 230400, ff: 460800, bram36: 312, uram: 96, dsp: 1728,
    clockMHz: 250, memoryGBps: 19.2, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 2,
  },
  zcu102: {
    device: "zcu102", family: "ultrascale+", part: "xczu9eg-ffvb1156-2-e",
    lut: 274080, ff: 548160, bram36: 912, uram: 0, dsp: 2520,
    clockMHz: 250, memoryGBps: 19.2, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 4,
  },
  vck190: {
    device: "vck190", family: "versal", part: "xcvc1902-vsva2197-2MP-e-S",
    lut: 899840, ff: 1799680, bram36: 967, uram: 463, dsp: 1968,
    clockMHz: 300, memoryGBps: 25.6, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 8,
  },
  u55c: {
    device: "u55c", family: "ultrascale+", part: "xcu55c-fsvh2892-2L-e",
    lut: 1303680, ff: 2607360, bram36: 2016, uram: 960, dsp: 9024,
    clockMHz: 300, memoryGBps: 460, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 16,
  },
  u280: {
    device: "u280", family: "ultrascale+", part: "xcu280-fsvh2892-2L-e",
    lut: 1303680, ff: 2607360, bram36: 2016, uram: 960, dsp: 9024,
    clockMHz: 300, memoryGBps: 460, memoryLatencyNs: 150, utilizationCap: 0.9, memoryGB: 8,
  },
};

export function presetBudget(name: string): Budget {
  const preset = PRESETS[name.toLowerCase()];
  if (!preset) throw new UserError(`unknown device "${name}"; presets: ${Object.keys(PRESETS).join(", ")}`);
  return { ...preset };
}

export function parseBudget(value: unknown, where: string): Budget {
  return validateBudget(value, where);
}

export function readBudgetFile(path: string): Budget {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path}: cannot read budget file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseBudget(json, path);
}

/** The budget named on the command line: a preset (--device) or a JSON file (--budget). */
export function resolveBudget(opts: { device?: string | undefined; budget?: string | undefined }): Budget {
  if (opts.device && opts.budget) throw new UserError("give either --device or --budget, not both");
  if (opts.budget) return readBudgetFile(opts.budget);
  if (opts.device) return presetBudget(opts.device);
  throw new UserError("a hardware budget is required: --device NAME (kv260, zcu104, ...) or --budget FILE");
}
