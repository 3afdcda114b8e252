import { type Budget } from "../budget/budget.js";
import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";
import { descriptorWidths, MEM_ADDRESS_BITS } from "../codegen/ports.js";
import { delayModel, fmaxMHz, pathDelay, type DelayModel, type PathShape, type PathStep } from "./delays.js";
import { modelFamily } from "./resources.js";
import { type SynthTiming } from "./synth.js";

/**
 * The analytic clock estimate: for each module, the register-to-register paths its structure
 * implies (levels of logic, carry chain lengths, multiplexer depths), timed with the rough delay
 * model of ./delays.ts. The paths are written the way yosys maps the RTL (which LUT feeds which
 * carry chain), and compared with the longest paths of yosys's netlist in docs/clock.md.
 */
export interface ClockPath {
  /** The module whose register (or memory) the path ends in. */
  module: string;
  /** What the path does, for reports. */
  what: string;
  shape: PathShape;
}

const add = (bits: number): PathStep[] => ["lut", { carry: bits }];
const repeat = (step: PathStep, n: number): PathStep[] => Array.from({ length: Math.max(0, n) }, () => step);

/** An n:1 multiplexer: a LUT6 selects 1 of 4, MUXF7/F8 (and F9 on UltraScale+) widen it in the slice. */
export function muxSteps(n: number, m: DelayModel): PathStep[] {
  if (n <= 1) return [];
  const perSlice = m.family === "7series" ? 16 : 32; // LUT6 + F7 + F8 (+ F9)
  const first: PathStep[] = ["lut"];
  for (let w = 4; w < Math.min(n, perSlice); w *= 2) first.push("muxf");
  return n <= perSlice ? first : [...first, ...muxSteps(Math.ceil(n / perSlice), m)];
}

/**
 * One adder-tree stage summing k operands of w bits into one (fitted on yosys's $macc mapping): up
 * to three operands are one LUT and a carry chain (a ternary adder); four are first compressed by
 * a LUT and a MUXF; each further halving adds a LUT and a slice's three MUXFs (fitted on 8 and 16
 * operands, within one MUXF on 16).
 */
export function treeStageSteps(k: number, w: number): PathStep[] {
  if (k <= 1) return [];
  const L = ceilLog2(k);
  const compress: PathStep[] = [];
  if (k > 3) {
    for (let l = 3; l <= L; l++) compress.push("lut", "muxf", "muxf", "muxf");
    compress.push("lut", "muxf");
  }
  return [...compress, ...add(w + L)];
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

/**
 * The dequantization stage, combinational between the partial sum's block RAM read and its write
 * (fitted on yosys's mapping at P = 4): the forwarding select, the 32 × 16 product in DSPs and its
 * two halves' sum, the 64-bit total of four terms (a compressor and a long chain), the rounding
 * shift (64-way: LUT and MUXF levels), the saturation compare and select.
 */
const DEQUANT_STEPS: Record<"ultrascale+" | "7series", PathStep[]> = {
  "ultrascale+": [
    "lut", "dsp", "lut", { carry: 4 }, "lut", "lut", "lut", "lut", { carry: 4 }, "lut", { carry: 48 },
    "lut", "muxf", "muxf", "muxf", "lut", "lut", "lut", "muxf", { carry: 12 }, "lut", "lut",
  ],
  // DSP48E1 (25 × 18): the product takes two DSPs, the second on the first's cascade
  "7series": [
    "lut", "dsp", "dsp-cascade", "lut", "lut", "lut", "lut", { carry: 4 }, "lut", { carry: 48 },
    "lut", "lut", "lut", "muxf", "muxf", "lut", "lut", "muxf", { carry: 8 }, "lut", "lut",
  ],
};

/**
 * The control paths around the descriptor queue (its head is a distributed RAM read, then the
 * pass-start handshake fans out): fitted constants per family, independent of the engine's size.
 */
const QUEUE_HEAD: Record<"ultrascale+" | "7series", PathStep[]> = {
  "ultrascale+": ["lutram", "lut", "muxf"],
  "7series": ["lutram", "lut", "muxf", "muxf", "muxf", "muxf"],
};
const QUEUE_TAIL: Record<"ultrascale+" | "7series", Record<"compute" | "fifo" | "core", PathStep[]>> = {
  "ultrascale+": { compute: ["lut", "lut", "lut", "lut"], fifo: ["lut", "lut", "lut"], core: ["lut", "muxf", "muxf", "muxf", "lut"] },
  "7series": { compute: ["lut", "lut", "muxf-select"], fifo: ["lut", "lut"], core: ["lut"] },
};

/**
 * The stream buffer's write of a memory beat's slot words into its columns: when a beat covers
 * every column (Q = PC) the slot is fixed and only the hit and write select remain; otherwise the
 * column's slot is a subtraction (a short carry) and a Q-way select follows (fitted on Q = 2, 4, 8
 * columns, and Q = 3, 7, 14 of 4, 16, 32).
 */
function bufferWriteSteps(Q: number, PC: number): PathStep[] {
  if (Q >= PC) return Q <= 2 ? ["lut", "lut"] : ["lut", ...repeat("muxf", Q <= 4 ? 1 : 3), "lut"];
  if (Q <= 4) return ["lut", { carry: 4 }, "lut", "muxf", "muxf", "muxf"];
  const select: PathStep[] = Q <= 8 ? ["muxf", "muxf", "muxf", "lut"] : ["muxf", "muxf", "lut", "muxf", "muxf"];
  return ["lut", "lut", { carry: 4 }, "lut", ...select];
}

/**
 * The paths of every module of the engine, as the analytic model sees them: the datapath and
 * control (set by the table, tree, buffer depth and loader), then the paths set by the memory beat
 * and the buffer's width P·c (apart, so engineClockMHz caches each by its own few fields).
 */
export function analyticPaths(geo: EngineGeometry, family: Budget["family"]): ClockPath[] {
  return [...corePaths(geo, family), ...beatPaths(geo, family)];
}

const bufferMemoryOf = (geo: EngineGeometry, m: DelayModel): "uram" | "bram" =>
  geo.cfg.weightMemory === "uram" && m.family !== "7series" ? "uram" : "bram";

/** The paths that do not depend on the memory beat or the buffer's width (P·c). */
function corePaths(geo: EngineGeometry, family: Budget["family"]): ClockPath[] {
  const m = delayModel(modelFamily(family));
  const fam = m.family;
  const { cfg } = geo;
  const EW = geo.entryBits;
  const CW = ceilLog2(cfg.bufferDepth + 1);
  const baseline = cfg.kind === "baseline";
  const paths: ClockPath[] = [];
  const path = (module: string, what: string, start: PathShape["start"], steps: PathStep[], end: PathShape["end"]): void => {
    paths.push({ module, what, shape: { start, steps, end } });
  };
  const bufferMemory = bufferMemoryOf(geo, m);
  const uram = bufferMemory === "uram";

  // weight buffer read: the memory's clock to out into the column's output register (a column
  // deeper than one URAM288 cascades, and a LUT picks the block)
  const blocks = uram ? Math.ceil(cfg.bufferDepth / 4096) : 1;
  path("trilut_uram72", "weight buffer read", bufferMemory, muxSteps(blocks, m), "ff");

  // lookup: the bank word addresses a table copy (distributed RAM; banks of 64 entries past 64)
  if (baseline) {
    path("trilut_compute", "±activation select", "ff", ["lutram", ...add(EW)], "ff");
  } else {
    const depth = 2 ** (geo.entryAddressBits + 1);
    const sign: PathStep[] = cfg.encoding === "mirrored" ? add(EW) : [];
    path("trilut_compute", "table lookup", "ff", ["lutram", ...(depth > 64 ? muxSteps(depth / 64, m) : []), ...sign], "ff");
  }

  // adder tree: each stage sums up to 2^L operands; the widest stage is the slowest
  {
    let n = baseline ? cfg.T * cfg.G : cfg.T;
    let w = EW;
    let worst: PathStep[] = [];
    let worstNs = -1;
    for (let l = 0; l < geo.treeLevels; ) {
      const L = Math.min(cfg.treeLevelsPerStage, geo.treeLevels - l);
      const steps = treeStageSteps(Math.min(2 ** L, n), w);
      const ns = pathDelay({ start: "ff", steps, end: "ff" }, m).ns;
      if (ns > worstNs) [worst, worstNs] = [steps, ns];
      n = Math.ceil(n / 2 ** L);
      w += L;
      l += L;
    }
    const L = cfg.treeLevelsPerStage;
    path("trilut_adder_tree", `adder tree stage (${L} level${L === 1 ? "" : "s"})`, "ff", worst, "ff");
  }

  // accumulate: the partial sum out of block RAM, the forwarding select, the 32-bit add, back into
  // the RAM and into the forwarding register
  path("trilut_psum_mem", "accumulate", "bram", ["lut", ...add(32)], "bram");
  path("trilut_compute", "accumulate (forwarded)", "bram", ["lut", ...add(32)], "ff");
  if (cfg.dequant) {
    path("trilut_psum_mem", "dequantize (product, sum, round, saturate)", "bram", DEQUANT_STEPS[fam], "bram");
    path("trilut_compute", "dequantize (forwarded)", "bram", DEQUANT_STEPS[fam], "ff");
  }

  // a build starts when a table half is free: the step counter plus one (a CW-bit chain) compared
  // with the next (entering that chain's top), then the handshake fans out to the step's registers
  const buildStart: PathStep[] = [...add(CW + 1), "lut", { carry: 4 }, "lut", "lut"];
  path("trilut_compute", "build start", "ff", buildStart, "ff");
  if (!baseline) {
    path("trilut_precompute", "build start", "ff", [...buildStart, "lut"], "ff");
    // the entry counter addresses the pattern ROM; the G selected terms are summed into the table
    const rom = BUILD_STEPS[cfg.G] ?? ["lut", ...muxSteps(2 ** geo.entryAddressBits / 16, m), "lut", "lut"];
    path("trilut_lutram", "table entry build", "ff", [...add(4), ...rom, { carry: EW }], "lutram");
  }

  if (cfg.loader === "axi") {
    const head = QUEUE_HEAD[fam];
    const tail = QUEUE_TAIL[fam];
    path("trilut_compute", "pass start from the descriptor queue", "ff", [...head, ...tail.compute], "ff");
    path("trilut_fifo", "descriptor queue pointers", "ff", [...head, ...tail.fifo], "ff");
    path("trilut_stream_core", "tile sequencing", "ff", [...head, ...tail.core], "ff");
    path("trilut_axi_loader", "request handshake", "ff", ["lut", "lut", "lut", "lut"], "ff");
  } else {
    path("trilut_engine_core", "fill counter", "ff", [...add(ceilLog2(cfg.bufferDepth)), "lut", "muxf", "muxf", "lut", "muxf"], "ff");
  }
  return paths;
}

/**
 * The paths set by the memory beat and the buffer's width (axi loader): the buffer write of a
 * beat's slots into its columns, and the loader's next burst address (the burst length, a
 * comparison of the beats left with maxBurst, added above the beat's byte offset; past 6 + 6 bits
 * of beats yosys compares on a carry chain).
 */
function beatPaths(geo: EngineGeometry, family: Budget["family"]): ClockPath[] {
  if (geo.cfg.loader !== "axi") return [];
  const m = delayModel(modelFamily(family));
  const addrBits = MEM_ADDRESS_BITS - ceilLog2(geo.beatBytes);
  const beatBits = descriptorWidths(geo).beatBits;
  const compare: PathStep[] = beatBits > 12 ? ["lut", "lut", { carry: 4 }, "lut"] : ["lut"];
  return [
    {
      module: "trilut_uram72",
      what: `buffer write (${geo.slotsPerBeat} slots, ${geo.columns} columns)`,
      shape: { start: "ff", steps: bufferWriteSteps(geo.slotsPerBeat, geo.columns), end: bufferMemoryOf(geo, m) },
    },
    { module: "trilut_axi_loader", what: "next burst address", shape: { start: "ff", steps: [...compare, ...add(addrBits), "lut"], end: "ff" } },
  ];
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

/** The slowest of some paths, chosen and rounded as estimateClock chooses and rounds. */
interface Worst {
  /** Rounded as estimateClock compares (the first of equal paths wins). */
  readonly ns: number;
  readonly mhz: number;
  readonly criticalPath: string;
}

function worstOf(paths: readonly ClockPath[], family: Budget["family"]): Worst | undefined {
  const m = delayModel(modelFamily(family));
  let worst: Worst | undefined;
  for (const p of paths) {
    const exact = pathDelay(p.shape, m).ns;
    const ns = round(exact, 3);
    if (!worst || ns > worst.ns) worst = { ns, mhz: round(fmaxMHz(exact), 1), criticalPath: `${p.what} in ${p.module}` };
  }
  return worst;
}

/**
 * The analytic fmax of an engine, cached: a sweep meets each engine's clock-relevant fields many
 * times, and the path walk (~15 µs) costs several times the point's cycle model. The core paths
 * and the beat paths (analyticPaths) are cached apart, each under two integers packing the engine
 * fields it reads, directly or through the geometry: the core paths kind, G, encoding, T, actBits
 * (entryBits, entryAddressBits, treeLevels), treeLevelsPerStage, bufferDepth, weightMemory,
 * loader and dequant; the beat paths P·c, memBits, bufferDepth, weightMemory and loader. Split
 * so, a sweep over T × P walks each T's core paths and each P·c's beat paths once. Numbers, not
 * strings, because building a string key cost as much as the rest of the point.
 * test/clock.test.ts checks the cached figure against estimateClock on random engines and on
 * variants of each with one field changed.
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
    const memory = (c.weightMemory === "uram" ? 1 : 0) + (c.loader === "axi" ? 2 : 0);
    const flags = memory + (c.kind === "baseline" ? 4 : 0) + (c.encoding === "mirrored" ? 8 : 0) + (c.dequant ? 16 : 0);
    const a = flags + 32 * (c.G + 16 * (c.treeLevelsPerStage + 16 * (c.actBits + 32 * c.T)));
    core = lookup(coreCache, family, a, c.bufferDepth, () => worstOf(corePaths(geo, family), family));
    beat = lookup(beatCache, family, memory + 4 * (geo.columns + 2 ** 16 * c.memBits), c.bufferDepth, () => worstOf(beatPaths(geo, family), family));
  } else {
    core = worstOf(corePaths(geo, family), family);
    beat = worstOf(beatPaths(geo, family), family);
  }
  // analyticPaths lists the core paths first: a beat path wins only when strictly slower
  const worst = beat && beat.ns > core!.ns ? beat : core!;
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
