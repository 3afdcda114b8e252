import { descriptorWidths } from "../codegen/ports.js";
import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";

/**
 * The analytic resource model, one function per hardware module of hw/ (and the two generated
 * ones), each giving the resources of ONE instance of the module's own cells (submodules
 * excluded) in the units of {@link ../estimate/synth.ts SynthCounts}: the same shape `trilut
 * estimate --synth` reports, so the two can be compared module by module.
 *
 * Two kinds of formula appear, and each says which it is:
 * - structural: counted from the module's shape and the capacities of Xilinx primitives (UG574
 *   CLB and UG573 memory resources for UltraScale+, UG474/UG473 for 7-series): LUT6, RAM32M16
 *   (32 × 14 bits in 8 LUTs), RAM64M8 (64 × 7 in 8), RAM32M (32 × 6 in 4) and RAM64M (64 × 3 in 4)
 *   on 7-series, CARRY8 (8 bits) or CARRY4 (4 bits), RAMB36E2 (72 × 512 … 1 × 32768; RAMB18 half),
 *   URAM288 (72 × 4096, FINN-R: ⌈width/72⌉·⌈depth/4096⌉), DSP48E2 (27 × 18 multiplier);
 * - fitted: constants fitted to yosys 0.55 `synth_xilinx -family xcup` on the calibration spread
 *   of scripts/calibration-configs.ts (docs/calibration.md), for logic whose LUT count depends on
 *   how yosys maps it (adder merging, multiplexers, control); where `-family xc7` maps the same
 *   logic differently (CARRY4 counts, the dequant stage, the sequencer) a 7-series variant is
 *   fitted on the 7-series engines of the spread.
 * Memory primitives (BRAM, URAM, LUTRAM) and DSPs are structural throughout.
 */
export interface ModuleResources {
  lut: number;
  lutram: number;
  ff: number;
  carry: number;
  bram36: number;
  uram: number;
  dsp: number;
}

export type Family = "ultrascale+" | "7series";

export interface ModuleEstimate {
  /** Per module of hw/, for ONE instance (own cells only), like SynthResult.modules. */
  modules: Record<string, ModuleResources>;
  /** How many instances of each module the engine has. */
  instances: Record<string, number>;
  total: ModuleResources;
}

function res(part: Partial<ModuleResources>): ModuleResources {
  // field by field rather than a spread over ZERO: sweeps estimate thousands of engines a second
  return {
    lut: part.lut ?? 0,
    lutram: part.lutram ?? 0,
    ff: part.ff ?? 0,
    carry: part.carry ?? 0,
    bram36: part.bram36 ?? 0,
    uram: part.uram ?? 0,
    dsp: part.dsp ?? 0,
  };
}

/** Adds `times` × b into a. */
function addInto(a: ModuleResources, b: ModuleResources, times: number): void {
  a.lut += b.lut * times;
  a.lutram += b.lutram * times;
  a.ff += b.ff * times;
  a.carry += b.carry * times;
  a.bram36 += b.bram36 * times;
  a.uram += b.uram * times;
  a.dsp += b.dsp * times;
}

/** Carry primitives of one adder chain of `bits` bits: CARRY8 (UltraScale+) or CARRY4 (7-series). */
export function carryCells(bits: number, family: Family): number {
  return Math.ceil(bits / (family === "7series" ? 4 : 8));
}

/**
 * A fitted count of CARRY8 (UltraScale+) in the family's primitive: on 7-series yosys's CARRY4
 * chains come to 1.5 times the CARRY8 of the same logic (fitted on the 7-series spread, within
 * about 10% per module: chains of 9 to 16 bits take 3 or 4 CARRY4 where they take 2 CARRY8).
 */
export function familyCarry(carry8: number, family: Family): number {
  return family === "7series" ? Math.round(1.5 * carry8) : carry8;
}

/**
 * LUTs of a W-bit distributed RAM with one write port and one asynchronous read port, `depth`
 * deep. UltraScale+ (UG574): up to 32 deep a RAM32M16 stores 14 bits in 8 LUTs; 64 deep a RAM64M8
 * 7 bits in 8 LUTs; deeper memories are banks of 64 deep (yosys maps them so). 7-series (UG474):
 * RAM32M 6 bits in 4 LUTs, RAM64M 3 bits in 4 LUTs.
 */
export function lutramLuts(width: number, depth: number, family: Family): number {
  const us = family !== "7series";
  if (depth <= 32) return us ? 8 * Math.ceil(width / 14) : 4 * Math.ceil(width / 6);
  return Math.ceil(depth / 64) * (us ? 8 * Math.ceil(width / 7) : 4 * Math.ceil(width / 3));
}

/**
 * RAMB36 equivalents of a width × depth memory with one read and one write port: the cheapest
 * aspect ratio of RAMB36E2/RAMB36E1 (72 × 512 simple dual port, 36 × 1K, 18 × 2K, 9 × 4K, 4 × 8K,
 * 2 × 16K, 1 × 32K) or RAMB18 (36 × 512, 18 × 1K, …; half a RAMB36), UG573 / UG473.
 */
const RAMB36_RATIOS: readonly (readonly [number, number])[] = [[72, 512], [36, 1024], [18, 2048], [9, 4096], [4, 8192], [2, 16384], [1, 32768]];

export function bramBlocks(width: number, depth: number): number {
  let best = Infinity;
  for (const [w, d] of RAMB36_RATIOS) {
    best = Math.min(best, Math.ceil(width / w) * Math.ceil(depth / d));
    // the RAMB18 of the same ratio: half the depth, half the cost (none is 72 bits wide)
    if (w < 72) best = Math.min(best, 0.5 * Math.ceil(width / w) * Math.ceil(depth / (d / 2)));
  }
  return best;
}

/** URAM288 blocks of a width × depth memory (FINN-R: ⌈width/72⌉·⌈depth/4096⌉). */
export function uramBlocks(width: number, depth: number): number {
  return Math.ceil(width / 72) * Math.ceil(depth / 4096);
}

// ------------------------------------------------------------------------------------------------
// trilut_uram72 / trilut_weight_bank / trilut_stream_buffer: the weight buffer

/**
 * trilut_uram72: one 72-bit column of the weight buffer. Memory: structural (URAM288 or RAMB36).
 * FF: the 72-bit output register (the array's read register is absorbed into the primitive).
 * A URAM column deeper than 4096 cascades: fitted, 74 LUTs and one FF per extra block (the read
 * multiplexer and its select register).
 */
export function uram72(geo: EngineGeometry, family: Family): ModuleResources {
  const { bufferDepth, weightMemory } = geo.cfg;
  if (weightMemory === "uram" && family !== "7series") {
    const blocks = uramBlocks(72, bufferDepth);
    return res({ uram: blocks, ff: 72 + (blocks - 1), lut: 74 * (blocks - 1) });
  }
  return res({ bram36: bramBlocks(72, bufferDepth), ff: 72 });
}

/**
 * Columns of the weight buffer whose bits the engine reads: ⌈T·indexBits/72⌉ of each bank's c
 * (c may be larger than T's indices need, as the default c = 2 is for T·indexBits ≤ 72). Synthesis
 * removes the other columns with everything that only feeds them, so they cost nothing.
 * (A dequantizing engine's 32-bit scale words lie in the first column: T·indexBits ≥ 32.)
 */
export function liveColumns(geo: EngineGeometry): number {
  return geo.cfg.P * Math.min(geo.cfg.c, Math.ceil((geo.cfg.T * geo.indexBits) / 72));
}

/** trilut_weight_bank (preload engines): wiring of C columns, no cells of its own. */
export function weightBank(): ModuleResources {
  return res({});
}

/**
 * LUTs per column bit of the stream buffer's Q-way slot select (fitted to yosys). Two regimes:
 * - Q = PC (a beat covers every column): the slot index is the low ⌈log2 Q⌉ bits of a
 *   subtraction, and the select is a Q:1 multiplexer of LUT6 and MUXF7/F8 plus the hit gate:
 *   0.9·⌈log2 Q⌉ + 0.1 (fitted on Q = 2, 4, 8);
 * - Q < PC (Q = ⌊memBits/72⌋: 1, 3, 7, 14, 28, 56): the index wraps modulo PC and slots past the
 *   beat's words are masked; fitted per Q on (Q, PC) = (3, 4), (7, 16), (14, 32): 2.55, 2.43,
 *   6.18; Q = 1 is the gate alone (1); Q = 28 and 56 are extrapolated as 0.44·Q (the ratio at
 *   Q = 14), not calibrated.
 */
export function slotSelectLutsPerBit(Q: number, PC: number): number {
  if (Q >= PC) return Q <= 1 ? 1 : 0.9 * ceilLog2(Q) + 0.1;
  return SLOT_SELECT_FITTED[Q] ?? 0.44 * Q;
}
const SLOT_SELECT_FITTED: Readonly<Record<number, number>> = { 1: 1, 3: 2.55, 7: 2.43, 14: 6.18 };

/**
 * trilut_stream_buffer (axi engines): per column, a Q-way select of the beat's 72-bit slot words,
 * gated by the slot's hit ({@link slotSelectLutsPerBit}, fitted), and the wrap logic of its
 * address; carry fitted 3·PC − 2 (the per-column slot subtraction and address increment).
 * Only live columns ({@link liveColumns}) keep their select; the select's width stays that of
 * all PC columns (slots wrap modulo PC). On T=4 P=4 c=2 (4 of 8 columns live): LUT 806 against
 * yosys's 897, carry 10 against 12.
 */
export function streamBuffer(geo: EngineGeometry, family: Family): ModuleResources {
  const Q = geo.slotsPerBeat;
  const PC = geo.columns;
  const live = liveColumns(geo);
  const carry8 = Math.max(0, 3 * live - 2);
  return res({ lut: Math.round(live * 72 * slotSelectLutsPerBit(Q, PC)), carry: familyCarry(carry8, family) });
}

// ------------------------------------------------------------------------------------------------
// trilut_axi_loader / trilut_fifo / trilut_stream_core / trilut_engine_core: loader and control

/**
 * trilut_axi_loader: FF structural — the registered beat (Q·72 bits) plus its counters and
 * addresses (fitted: 105 bits at a 12-bit buffer address, 5 per further address bit); LUT fitted:
 * 146 at a 12-bit buffer address, 6.5 per address bit more or less, min(35, 5·Q) more when Q is
 * not a power of two (the words-left clamp); carry fitted 15.
 */
export function axiLoader(geo: EngineGeometry, family: Family): ModuleResources {
  const AW = ceilLog2(geo.cfg.bufferDepth);
  return res({
    ff: 72 * geo.slotsPerBeat + 105 + 5 * (AW - 12),
    lut: Math.round(146 + 6.5 * (AW - 12) + ((geo.slotsPerBeat & (geo.slotsPerBeat - 1)) !== 0 ? Math.min(35, 5 * geo.slotsPerBeat) : 0)),
    carry: familyCarry(15, family),
  });
}

/** Widths of the two descriptor queues of trilut_stream_core (loader, compute). */
export function descriptorQueueWidths(geo: EngineGeometry): [number, number] {
  const d = descriptorWidths(geo);
  const cw = ceilLog2(geo.cfg.bufferDepth + 1);
  const rgw = ceilLog2(geo.maxGroups + 1);
  return [d.addrBits + d.beatBits + d.wordBits, cw + cw + rgw + d.tokenBits + 9];
}

/**
 * trilut_fifo (two-deep descriptor queues): storage structural — yosys maps the two entries to
 * distributed RAM, RAM32M16 (14 bits in 8 LUTs); pointers and count fitted: 8 LUTs, 5 FFs.
 */
export function fifo(width: number, family: Family): ModuleResources {
  return res({ lutram: lutramLuts(width, 2, family), lut: 8, ff: 5 });
}

/** trilut_stream_core: the pass sequencer (half flags, token counter). Fitted constants per family. */
export function streamCore(family: Family): ModuleResources {
  return res({ lut: family === "7series" ? 21 : 38, ff: 20, carry: familyCarry(2, family) });
}

/** trilut_engine_core (preload engines): the fill counter and handshakes. Fitted constants. */
export function engineCore(family: Family): ModuleResources {
  return res({ lut: 15, ff: 27, carry: familyCarry(2, family) });
}

// ------------------------------------------------------------------------------------------------
// trilut_pattern_rom / trilut_precompute / trilut_lutram / trilut_table: the tables

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

/** trilut_table: P copies of one table, wiring only. */
export function table(): ModuleResources {
  return res({});
}

// ------------------------------------------------------------------------------------------------
// trilut_adder_tree: one lane's tree

/**
 * LUTs yosys spends on a k-operand sum of w-bit operands, merged into one $macc between pipeline
 * registers (fitted): 2 operands w (one LUT per bit of a carry-chain adder), 3 operands 2w (a
 * ternary adder), 4 operands 4.5w + 1 (a compressor and an adder), 8 operands 22.1w and 16
 * operands 69.7w (yosys compresses wide sums in LUTs: fitted at w = 10 on trees of 3 and 4 levels
 * per stage); between those linear in k, beyond 16 extrapolated at 5.95w per operand.
 */
export function maccLuts(k: number, w: number): number {
  if (k <= 1) return 0;
  if (k === 2) return w;
  if (k === 3) return 2 * w;
  const points: [number, number][] = [[4, 4.5], [8, 22.1], [16, 69.7]];
  const extra = k === 4 ? 1 : 0;
  for (let i = 1; i < points.length; i++) {
    const [k0, a0] = points[i - 1]!;
    const [k1, a1] = points[i]!;
    if (k <= k1) return (a0 + ((a1 - a0) * (k - k0)) / (k1 - k0)) * w + extra;
  }
  return (69.7 + 5.95 * (k - 16)) * w;
}

/**
 * trilut_adder_tree: N inputs of IW bits, widening by a bit per level, a register every
 * LEVELS_PER_STAGE levels and after the last. Walked stage by stage: each stage sums groups of up
 * to 2^L operands into one (LUT fitted, {@link maccLuts}; carry structural: one chain of the
 * group's output width); FF structural: the registered nodes.
 */
export function adderTree(N: number, IW: number, levelsPerStage: number, family: Family): ModuleResources {
  const levels = ceilLog2(N);
  let lut = 0;
  let ff = 0;
  let carry = 0;
  let n = N;
  let w = IW;
  for (let l = 0; l < levels; ) {
    const L = Math.min(levelsPerStage, levels - l);
    const span = 2 ** L;
    const groups = Math.ceil(n / span);
    for (let g = 0; g < groups; g++) {
      const k = Math.min(span, n - g * span);
      lut += maccLuts(k, w);
      if (k > 1) carry += carryCells(w + L, family);
    }
    n = groups;
    w += L;
    l += L;
    ff += n * w; // the register after the stage
  }
  return res({ lut: Math.round(lut), ff, carry });
}

// ------------------------------------------------------------------------------------------------
// trilut_compute: lookup, sign, accumulate, dequant and the pass control

/**
 * trilut_compute's own cells (tables, trees and the partial-sum memory are submodules):
 * - FF structural: the looked-up register (P·N·EW, N = T or T·G), plus fitted control:
 *   33.5·P − 7 + 6·(CW + RGW) (per lane the accumulator bypass; counters of CW and RGW bits);
 * - LUT fitted: 140 + 62.5·P (per lane the 32-bit accumulate, its clear and bypass multiplexers;
 *   the control); mirrored encodings add the sign, 2·EW per looked-up entry (structural-fitted:
 *   a conditional negation); a baseline adds the ±activation select, 8.85 per weight per lane
 *   plus 8.9 per activation (fitted);
 * - LUTRAM: the row-group pipeline as SRL16E, one per RGW bit; a baseline's two activation
 *   halves as RAM32M16 ({@link lutramLuts}, T·G·8 bits);
 * - carry: 4·P + 22 (the 32-bit accumulators, 4 CARRY8 each, and counters); the sign adds one
 *   chain of EW bits per entry; a baseline 2 per activation (fitted);
 * - dequant: see {@link dequantStage}.
 */
export function compute(geo: EngineGeometry, family: Family): ModuleResources {
  const { P, T, G, encoding, kind } = geo.cfg;
  const EW = geo.entryBits;
  const baseline = kind === "baseline";
  const laneN = baseline ? T * G : T;
  const CW = ceilLog2(geo.cfg.bufferDepth + 1);
  const RGW = ceilLog2(geo.maxGroups + 1);
  let lut = 140 + 62.5 * P;
  let carry8 = 4 * P + 22;
  let lutramCells = RGW;
  if (!baseline && encoding === "mirrored") {
    lut += 2 * EW * P * T;
    carry8 += P * T * Math.ceil(EW / 8);
  }
  if (baseline) {
    lut += 8.85 * P * T * G + 8.9 * T * G;
    carry8 += 2 * T * G;
    lutramCells += lutramLuts(T * G * 8, 2, family);
  }
  const ff = P * laneN * EW + Math.round(33.5 * P - 7 + 6 * (CW + RGW));
  const base = res({
    lut: Math.round(lut),
    ff,
    lutram: lutramCells,
    carry: familyCarry(carry8, family),
  });
  if (geo.cfg.dequant) addInto(base, dequantStage(geo, family), 1);
  return base;
}

/**
 * The dequantization stage inside trilut_compute (engines with `dequant`): per lane the 64-bit
 * total y·m + y'·m' + Σx·mu, rounding shift and saturation; once, the Σx adder over T·G
 * activations and the step sums. DSP structural: a 32 × 16 signed product needs two DSP48E2
 * (27 × 18: the 32-bit operand splits in two), and each lane has two, y·m and Σx·mu (the partner
 * product y'·m' of an even lane is the odd lane's y·m, which yosys shares): 4 per lane. LUT,
 * LUTRAM, FF and carry fitted on P = 2 and 4 at T·G = 24: 1297 + 781.5·P LUTs (the 64-bit
 * adders, shifter and comparators per lane, partial products outside the DSPs, the Σx adder),
 * 59 + 32·P LUTRAM (the scale-word pipeline), 70 FF, 11 + 28·P carry. On 7-series (DSP48E1,
 * 25 × 18: still two per product) fitted separately: 599 + 695.5·P LUTs, 59 LUTRAM, 67 + 31.5·P
 * FF (the scale words in flip-flops), 22 + 39·P CARRY4.
 */
export function dequantStage(geo: EngineGeometry, family: Family): ModuleResources {
  const { P } = geo.cfg;
  if (family === "7series") {
    // fitted on P = 2 and 4 with yosys -family xc7: fewer LUTs, and the scale-word pipeline in
    // flip-flops rather than shift registers
    return res({ lut: Math.round(599 + 695.5 * P), lutram: 59, ff: Math.round(67 + 31.5 * P), carry: 22 + 39 * P, dsp: 4 * P });
  }
  return res({
    lut: Math.round(1297 + 781.5 * P),
    lutram: 59 + 32 * P,
    ff: 70,
    carry: 11 + 28 * P,
    dsp: 4 * P,
  });
}

/**
 * trilut_psum_mem: P·32-bit partial sums (and, with dequant, a second of P·64-bit totals),
 * maxGroups deep, in block RAM: structural ({@link bramBlocks}).
 */
export function psumMem(width: number, depth: number): ModuleResources {
  return res({ bram36: bramBlocks(width, depth) });
}

// ------------------------------------------------------------------------------------------------
// the engine

/**
 * Every module of the engine, one call of `add` per module with its instance count and the
 * resources of one instance, named like the modules of `trilut estimate --synth` (a second
 * parameter set of a module is `name#2`). The per-module report and the total both walk this one
 * list, so they cannot disagree.
 */
function engineModules(geo: EngineGeometry, family: Family, add: (name: string, n: number, r: ModuleResources) => void): void {
  const { cfg } = geo;
  add("trilut_engine", 1, res({}));
  if (cfg.kind === "tlmm") {
    add("trilut_pattern_rom", 1, patternRom(geo));
    add("trilut_precompute", 1, precompute(geo, family));
    add("trilut_table", cfg.T, table());
    add("trilut_lutram", cfg.T * cfg.P, lutram(geo, family));
  }
  add("trilut_compute", 1, compute(geo, family));
  add("trilut_adder_tree", cfg.P, adderTree(geo.cfg.kind === "baseline" ? cfg.T * cfg.G : cfg.T, geo.entryBits, cfg.treeLevelsPerStage, family));
  add("trilut_psum_mem", 1, psumMem(cfg.P * 32, geo.maxGroups));
  if (cfg.dequant) add("trilut_psum_mem#2", 1, psumMem(cfg.P * 64, geo.maxGroups));
  add("trilut_uram72", liveColumns(geo), uram72(geo, family));
  if (cfg.loader === "axi") {
    const [lw, rw] = descriptorQueueWidths(geo);
    add("trilut_stream_core", 1, streamCore(family));
    // two queues of one width are one module with two instances (yosys derives it once)
    if (lw === rw) add("trilut_fifo", 2, fifo(lw, family));
    else {
      add("trilut_fifo", 1, fifo(lw, family));
      add("trilut_fifo#2", 1, fifo(rw, family));
    }
    add("trilut_axi_loader", 1, axiLoader(geo, family));
    add("trilut_stream_buffer", 1, streamBuffer(geo, family));
  } else {
    add("trilut_engine_core", 1, engineCore(family));
    add("trilut_weight_bank", cfg.P, weightBank());
  }
}

/** Every module of the engine: its resources per instance, its instance count, and the total. */
export function estimateModules(geo: EngineGeometry, family: Family = "ultrascale+"): ModuleEstimate {
  const modules: Record<string, ModuleResources> = {};
  const instances: Record<string, number> = {};
  const total = res({});
  engineModules(geo, family, (name, n, r) => {
    modules[name] = r;
    instances[name] = n;
    addInto(total, r, n);
  });
  return { modules, instances, total };
}

/** The engine's total alone (estimateModules(...).total without the per-module records). */
export function estimateTotal(geo: EngineGeometry, family: Family = "ultrascale+"): ModuleResources {
  const total = res({});
  engineModules(geo, family, (_name, n, r) => addInto(total, r, n));
  return total;
}
