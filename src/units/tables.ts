import { type EngineGeometry } from "../engine/config.js";
import { entryPattern } from "../engine/encoding.js";
import { type PathStep } from "../fabric/delays.js";
import { adderSteps, muxSteps, PathList } from "../fabric/paths.js";
import { familyCarry, lutramLuts, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { buildStartSteps } from "./lookup.js";
import { hw, type HardwareUnit, type SourceFile } from "./unit.js";

/**
 * The tables (table-lookup engines only): per step the precompute unit (trilut_precompute) takes
 * T·G activations and writes T tables, one entry per cycle, each entry the sum of a pattern of
 * ±activations read from the pattern ROM (generated, trilut_pattern_rom); every table is
 * replicated for the P readers (trilut_table of P trilut_lutram copies), and double-buffered so
 * step s+1's build overlaps step s's lookups.
 */

/** trilut_pattern_rom: E entries of 2G bits, the trits of each entry with t0 in the low bits. */
function patternRomFile(geo: EngineGeometry): SourceFile {
  const { cfg } = geo;
  const rows = [];
  for (let e = 0; e < geo.entries; e++) {
    const trits = entryPattern(e, cfg.G, cfg.encoding);
    // t0 in the low bits: concatenate from t(G-1) down to t0
    const bits = trits
      .map((t) => (t > 0 ? "01" : t < 0 ? "10" : "00"))
      .reverse()
      .join("");
    rows.push({ entry: e, bits, comment: trits.map((t) => (t > 0 ? "+" : t < 0 ? "-" : "0")).join("") });
  }
  const content = renderTemplate("rtl/trilut_pattern_rom.v.hbs", {
    version: packageVersion(),
    G: cfg.G,
    encoding: cfg.encoding,
    entryBits: geo.entryAddressBits,
    patternBits: 2 * cfg.G,
    rows,
  });
  return { name: "trilut_pattern_rom.v", content };
}

/** trilut_pattern_rom: E entries of 2G bits as logic. Fitted per G and encoding (LUTs). */
const PATTERN_ROM_FITTED: Readonly<Record<number, readonly [number, number]>> = { 2: [4, 3], 3: [6, 5], 4: [15, 7], 5: [38, 18] };
export function patternRom(geo: EngineGeometry): ModuleResources {
  const [full, mirrored] = PATTERN_ROM_FITTED[geo.cfg.G] ?? [geo.entries, geo.entries];
  return res({ lut: geo.cfg.encoding === "mirrored" ? mirrored : full });
}

/**
 * trilut_precompute: per table, G conditionally negated activations summed into one EW-bit entry.
 * FF structural: the latched step (T·G·8 bits), the entry counter (EB) and busy/half. LUT fitted
 * per G (one table's select-negate-sum, as yosys merges it into one adder): 66, 73, 125.5, 168
 * for G = 2..5, plus 6; carry structural-fitted: 2G + 2 CARRY8 per table (the G-operand sum) + 1.
 */
const PRECOMPUTE_PER_TABLE: Readonly<Record<number, number>> = { 2: 66, 3: 73, 4: 125.5, 5: 168 };
export function precompute(geo: EngineGeometry, family: Family): ModuleResources {
  const { G, T } = geo.cfg;
  const carry8 = T * (2 * G + 2) + 1;
  return res({
    lut: Math.round(T * (PRECOMPUTE_PER_TABLE[G] ?? 42 * G - 42) + 6),
    ff: T * G * 8 + geo.entryAddressBits + 2,
    carry: familyCarry(carry8, family),
  });
}

/**
 * trilut_lutram: one table copy, 2^(EB+1) entries (two halves) of EW bits. LUTRAM structural
 * ({@link lutramLuts}); beyond 64 entries the banks' read multiplexer is fitted.
 */
export function lutram(geo: EngineGeometry, family: Family): ModuleResources {
  const depth = 2 ** (geo.entryAddressBits + 1);
  const W = geo.entryBits;
  const banks = Math.ceil(depth / 64);
  // fitted read multiplexer of the banks: W + banks LUTs up to 4 banks (MUXF7/F8 do most of
  // the work), W·banks/2 + 3 beyond (512 entries, G = 5 full: 47 LUTs at EW = 11)
  const mux = banks <= 1 ? 0 : banks <= 4 ? W + banks : W * Math.ceil(banks / 2) + 3;
  return res({ lutram: lutramLuts(W, depth, family), lut: mux });
}

/**
 * The pattern ROM, term select and sign of one table entry, between the entry counter's carry and
 * the G-term sum's chain (fitted per G on yosys's mapping: it grows with the ROM's address bits).
 */
const BUILD_STEPS: Record<number, PathStep[]> = {
  2: ["lut", "muxf", "muxf"],
  3: ["lut", "lut"],
  4: ["lut", "lut", "muxf", "lut"],
  5: ["lut", "lut", "muxf", "muxf", "muxf", "lut"],
};

/** Cycles of one table build: one entry a cycle, E entries. */
export function buildCycles(geo: EngineGeometry): number {
  return geo.entries;
}

export const tables: HardwareUnit = {
  name: "tables",
  summary:
    "Per step, T tables of every ±sum of G activations (E entries, one per cycle), from the pattern ROM; " +
    "P copies of each for the P readers, double-buffered so the next build overlaps the lookups.",
  has: (geo) => geo.cfg.kind === "tlmm",
  rtl: (geo) => [patternRomFile(geo), ...hw("trilut_lutram.v", "trilut_table.v", "trilut_precompute.v")],
  unregistered: {
    trilut_table: "wiring: P copies of one table",
    trilut_pattern_rom: "combinational: its delay is in the table entry build path",
  },
  resources: (geo, family) => [
    { module: "trilut_pattern_rom", instances: 1, resources: patternRom(geo) },
    { module: "trilut_precompute", instances: 1, resources: precompute(geo, family) },
    { module: "trilut_table", instances: geo.cfg.T, resources: res({}) },
    { module: "trilut_lutram", instances: geo.cfg.T * geo.cfg.P, resources: lutram(geo, family) },
  ],
  paths: (geo, m) => {
    const p = new PathList();
    p.add("trilut_precompute", "build start", "ff", [...buildStartSteps(geo), "lut"], "ff");
    // the entry counter addresses the pattern ROM; the G selected terms are summed into the table
    const rom = BUILD_STEPS[geo.cfg.G] ?? ["lut", ...muxSteps(2 ** geo.entryAddressBits / 16, m), "lut", "lut"];
    p.add("trilut_lutram", "table entry build", "ff", [...adderSteps(4), ...rom, { carry: geo.entryBits }], "lutram");
    return p.paths;
  },
  cycles: "a build takes E cycles (one entry each) after its step is accepted; see lookup's pass recurrence",
  cycleFigures: (geo) => ({ build: buildCycles(geo) }),
  hls: {
    summary: "the T tables of a step in precompute(): entry e = Σ PATTERN[e][i]·x[i]",
    parts: [{ partial: "tables", slot: "step_build" }],
  },
};
