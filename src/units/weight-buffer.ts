import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";
import { type PathStep } from "../fabric/delays.js";
import { muxSteps, PathList, repeatStep } from "../fabric/paths.js";
import { bramBlocks, familyCarry, res, uramBlocks, type Family, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";

/**
 * The weight buffer: P·c columns of 72-bit words (trilut_uram72: URAM288, or block RAM on parts
 * without UltraRAM), P banks of c columns, in two ping-pong halves; the stream buffer
 * (trilut_stream_buffer) writes each memory beat's column words into the half being loaded while
 * the other half computes.
 */

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
 * Columns of the weight buffer whose bits the engine reads: ⌈T·indexBits/72⌉ of each bank's c
 * (c may be larger than T's indices need, as the default c = 2 is for T·indexBits ≤ 72). Synthesis
 * removes the other columns with everything that only feeds them, so they cost nothing.
 * (A dequantizing engine's 32-bit scale words lie in the first column: T·indexBits ≥ 32.)
 */
export function liveColumns(geo: EngineGeometry): number {
  return geo.cfg.P * Math.min(geo.cfg.c, Math.ceil((geo.cfg.T * geo.indexBits) / 72));
}

/**
 * trilut_stream_buffer: per column, a Q-way select of the beat's 72-bit slot words, gated by the
 * slot's hit ({@link slotSelectLutsPerBit}, fitted), and the wrap logic of its address; carry
 * fitted 3·PC − 2 (the per-column slot subtraction and address increment).
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

/**
 * The stream buffer's write of a memory beat's slot words into its columns: when a beat covers
 * every column (Q = PC) the slot is fixed and only the hit and write select remain; otherwise the
 * column's slot is a subtraction (a short carry) and a Q-way select follows (fitted on Q = 2, 4, 8
 * columns, and Q = 3, 7, 14 of 4, 16, 32).
 */
function bufferWriteSteps(Q: number, PC: number): PathStep[] {
  if (Q >= PC) return Q <= 2 ? ["lut", "lut"] : ["lut", ...repeatStep("muxf", Q <= 4 ? 1 : 3), "lut"];
  if (Q <= 4) return ["lut", { carry: 4 }, "lut", "muxf", "muxf", "muxf"];
  const select: PathStep[] = Q <= 8 ? ["muxf", "muxf", "muxf", "lut"] : ["muxf", "muxf", "lut", "muxf", "muxf"];
  return ["lut", "lut", { carry: 4 }, "lut", ...select];
}

/** Cycles from a read address to its word: trilut_uram72's array register and output register. */
export const BUFFER_LATENCY = 2;
/** Cycles from a tile's last beat to its half reading full: the buffer write, the announce, the flag register. */
export const LOADED_DELAY = 3;

/** Whether the columns are UltraRAM (on a family that has it). */
const inUram = (geo: EngineGeometry, family: "ultrascale+" | "7series"): boolean => geo.cfg.weightMemory === "uram" && family !== "7series";

export const weightBuffer: HardwareUnit = {
  name: "weight buffer",
  summary:
    "P banks of c cascaded 72-bit columns (URAM288, or block RAM), in two ping-pong halves: memory beats are " +
    "written into one half while the engine reads the other.",
  has: () => true,
  rtl: () => hw("trilut_uram72.v", "trilut_stream_buffer.v"),
  unregistered: {
    trilut_stream_buffer: "combinational: its slot select is in trilut_uram72's buffer write path",
  },
  resources: (geo, family) => [
    { module: "trilut_uram72", instances: liveColumns(geo), resources: uram72(geo, family) },
    { module: "trilut_stream_buffer", instances: 1, resources: streamBuffer(geo, family) },
  ],
  paths: (geo, m) => {
    const p = new PathList();
    const uram = inUram(geo, m.family);
    const memory = uram ? "uram" : "bram";
    // the memory's clock to out into the column's output register (a column deeper than one
    // URAM288 cascades, and a LUT picks the block)
    const blocks = uram ? Math.ceil(geo.cfg.bufferDepth / 4096) : 1;
    p.add("trilut_uram72", "weight buffer read", memory, muxSteps(blocks, m), "ff");
    p.add("trilut_uram72", `buffer write (${geo.slotsPerBeat} slots, ${geo.columns} columns)`, "ff", bufferWriteSteps(geo.slotsPerBeat, geo.columns), memory);
    return p.paths;
  },
  cycles:
    `a ${BUFFER_LATENCY}-cycle read latency (array and output register) in the lookup pipeline; a loaded half announces ` +
    `itself ${LOADED_DELAY} cycles after its last beat`,
  cycleFigures: () => ({ readLatency: BUFFER_LATENCY, loadedDelay: LOADED_DELAY }),
  hls: {
    summary: "the ping-pong buffer buf[PC][DEPTH] and its filling (fill_t, fill_beat, pump, finish_fill): one beat a cycle into the half not being read",
    parts: [
      { partial: "weight-buffer", slot: "weight_buffer" },
      { partial: "weight-buffer-storage", slot: "tile_storage" },
    ],
  },
};
