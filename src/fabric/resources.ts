import { type Budget } from "../budget/budget.js";

/**
 * What the FPGA fabric offers, as the resource model counts it: the seven resource kinds of a
 * module (the shape yosys's `stat` reports, so analytic and synthesized figures compare module by
 * module) and the capacities of Xilinx primitives (UG574 CLB and UG573 memory resources for
 * UltraScale+, UG474/UG473 for 7-series): LUT6, RAM32M16 (32 × 14 bits in 8 LUTs), RAM64M8
 * (64 × 7 in 8), RAM32M (32 × 6 in 4) and RAM64M (64 × 3 in 4) on 7-series, CARRY8 (8 bits) or
 * CARRY4 (4 bits), RAMB36E2 (72 × 512 … 1 × 32768; RAMB18 half), URAM288 (72 × 4096, FINN-R:
 * ⌈width/72⌉·⌈depth/4096⌉), DSP48E2 (27 × 18 multiplier). The hardware units (src/units/) count
 * their modules with these.
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

/** The model's family for a budget family: Versal is modelled as UltraScale+ (like --synth). */
export function modelFamily(family: Budget["family"] | undefined): Family {
  return family === "7series" ? "7series" : "ultrascale+";
}


export function res(part: Partial<ModuleResources>): ModuleResources {
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
export function addInto(a: ModuleResources, b: ModuleResources, times: number): void {
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
