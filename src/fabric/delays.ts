/**
 * A rough per-primitive delay model of Xilinx fabric, for the clock estimate (docs/clock.md).
 *
 * Why so rough: without placement and routing no tool can know the net delays, which on modern
 * parts are most of a path. We take one average delay per routed net hop, and for the cells the
 * class of figures the data sheets publish for a mid speed grade: DS925 / DS923 (Zynq and Kintex
 * UltraScale+, -2) and DS181 / DS182 (Artix-7 and Kintex-7, -1/-2). UltraScale+ data sheets no
 * longer tabulate CLB delays; for those the figures are what Vivado's timing reports show for
 * these primitives on such parts. Treat any result as ±25%: it ranks engines and flags a stage that
 * is clearly too deep, it does not replace Vivado's timing closure.
 */
export interface DelayModel {
  family: "ultrascale+" | "7series";
  /** Where the figures come from, for reports. */
  source: string;
  /** Bits one carry primitive covers: 8 (CARRY8) or 4 (CARRY4). */
  carryBits: number;
  /** Delays in ns. */
  ffClockToOut: number;
  ffSetup: number;
  /** A LUT's logic delay (any input to output). */
  lut: number;
  /** One routed net between two sites: the assumption that dominates the estimate. */
  net: number;
  /** Entering a carry chain at an S/DI input (or CYINIT) to its outputs. */
  carryEntry: number;
  /** Each further carry primitive of a chain, CI to CO. */
  carryPropagate: number;
  /** MUXF7/F8/F9 (in-slice, no routing before them). */
  muxf: number;
  /** Distributed RAM asynchronous read, address to data. */
  lutramRead: number;
  /** Block RAM / UltraRAM without their optional output registers, clock to data out. */
  bramClockToOut: number;
  bramSetup: number;
  uramClockToOut: number;
  uramSetup: number;
  /** A DSP48 with no internal registers, A/B to P through the multiplier; PCIN to P. */
  dsp: number;
  dspCascade: number;
}

export const ULTRASCALE_PLUS: DelayModel = {
  family: "ultrascale+",
  source: "DS925/DS923-class figures, UltraScale+ -2 (rough; -1 and -2LV at 0.72 V are about 20% slower)",
  carryBits: 8,
  ffClockToOut: 0.1,
  ffSetup: 0.05,
  lut: 0.1,
  net: 0.35,
  carryEntry: 0.2,
  carryPropagate: 0.05,
  muxf: 0.08,
  lutramRead: 0.25,
  bramClockToOut: 0.9,
  bramSetup: 0.4,
  uramClockToOut: 1.5,
  uramSetup: 0.5,
  dsp: 2.0,
  dspCascade: 0.6,
};

export const SERIES7: DelayModel = {
  family: "7series",
  source: "DS181/DS182-class figures, Artix-7/Kintex-7 -1/-2 (rough)",
  carryBits: 4,
  ffClockToOut: 0.4,
  ffSetup: 0.1,
  lut: 0.12,
  net: 0.5,
  carryEntry: 0.45,
  carryPropagate: 0.11,
  muxf: 0.3,
  lutramRead: 0.35,
  bramClockToOut: 1.85,
  bramSetup: 0.45,
  uramClockToOut: 1.85,
  uramSetup: 0.45,
  dsp: 3.5,
  dspCascade: 1.2,
};

export function delayModel(family: "ultrascale+" | "7series"): DelayModel {
  return family === "7series" ? SERIES7 : ULTRASCALE_PLUS;
}

/** Where a register-to-register path starts or ends. */
export type PathEnd = "ff" | "bram" | "uram" | "lutram" | "dsp" | "port";

/**
 * One element of a path, in order: a LUT; a carry chain of `carry` bits (entered from the LUT
 * before it, in the same slice); a MUXF on its data inputs (in the slice's mux tree after a LUT or
 * the previous MUXF) or entered on its select (routed); a distributed-RAM read; a DSP, or a DSP fed
 * by its neighbour's cascade (no routing, only the post-adder).
 */
export type PathStep = "lut" | { carry: number } | "muxf" | "muxf-select" | "lutram" | "dsp" | "dsp-cascade";

/** The logic of one path, as counted by the analytic model and by the netlist walk alike. */
export interface PathShape {
  start: PathEnd;
  steps: PathStep[];
  end: PathEnd;
}

export interface PathDelay {
  ns: number;
  /** Logic levels as Vivado counts them: LUTs, carry primitives, MUXFs, LUTRAM reads and DSPs. */
  levels: number;
  luts: number;
  carries: number;
}

function clockToOut(start: PathEnd, m: DelayModel): number {
  switch (start) {
    case "bram":
      return m.bramClockToOut;
    case "uram":
      return m.uramClockToOut;
    // a distributed RAM read starts at its address register; a DSP's P register like a FF
    default:
      return m.ffClockToOut;
  }
}

function setup(end: PathEnd, m: DelayModel): number {
  return end === "bram" ? m.bramSetup : end === "uram" ? m.uramSetup : m.ffSetup;
}

/**
 * The delay of a path shape: clock to out, then per step its cell delay plus one routed net before
 * every LUT, LUTRAM and DSP (a carry chain after a LUT is fed inside the slice, and so is a MUXF
 * after a LUT or after the slice's previous MUXF: F7 → F8, and → F9 on UltraScale+; a longer run
 * of MUXFs leaves the slice), one routed net into the endpoint, and its setup time.
 */
export function pathDelay(shape: PathShape, m: DelayModel): PathDelay {
  let ns = clockToOut(shape.start, m) + m.net + setup(shape.end, m);
  let levels = 0;
  let luts = 0;
  let carries = 0;
  let muxfRun = 0; // MUXFs since the last LUT, in this slice's mux tree
  const muxfPerSlice = m.family === "7series" ? 2 : 3;
  let prev: PathStep | undefined;
  for (const s of shape.steps) {
    const after = prev;
    prev = s;
    if (typeof s === "object") {
      const cells = Math.max(1, Math.ceil(s.carry / m.carryBits));
      // fed by its slice's LUT, or routed from elsewhere (a MUXF, another chain, a register)
      ns += (after === "lut" ? 0 : m.net) + m.carryEntry + (cells - 1) * m.carryPropagate;
      levels += cells;
      carries += cells;
      continue;
    }
    levels += 1;
    if (s === "lut") {
      ns += m.net + m.lut;
      luts += 1;
    } else if (s === "lutram") ns += m.net + m.lutramRead;
    else if (s === "dsp") ns += m.net + m.dsp;
    else if (s === "dsp-cascade") ns += m.dspCascade;
    else if (s === "muxf-select") ns += m.net + m.muxf;
    else {
      const inSlice = (after === "lut" || after === "muxf") && muxfRun < muxfPerSlice;
      muxfRun = inSlice ? muxfRun + 1 : 1;
      ns += m.muxf + (inSlice ? 0 : m.net);
      continue;
    }
    muxfRun = s === "muxf-select" ? 1 : 0;
  }
  return { ns, levels, luts, carries };
}

/** The clock a path allows, in MHz. */
export function fmaxMHz(ns: number): number {
  return 1000 / ns;
}
