/**
 * What a sweep reports of every point: each figure with the direction that makes it better, so an
 * objective can be named without saying whether to maximize or minimize it.
 */
export interface FigureInfo {
  readonly goal: "maximize" | "minimize";
  readonly label: string;
}

export const FIGURES = {
  /** The point's mode: decode tokens/s, or prompt tokens/s in prefill. */
  tokensPerSecond: { goal: "maximize", label: "tokens/s in the point's mode" },
  decodeTokensPerSecond: { goal: "maximize", label: "decode tokens/s" },
  decodeCycles: { goal: "minimize", label: "decode cycles per token" },
  ttftSeconds: { goal: "minimize", label: "time to first token (s)" },
  prefillTokensPerSecond: { goal: "maximize", label: "prefill tokens/s" },
  prefillCycles: { goal: "minimize", label: "prefill cycles" },
  rooflineFraction: { goal: "maximize", label: "share of the bandwidth roofline" },
  weightsPerCycle: { goal: "maximize", label: "weights per cycle" },
  /**
   * The clock every time above is taken at: the budget's (or the point's clock axis), unless the
   * engine's own clock estimate is lower (engineClockMHz); then the estimate.
   */
  clockMHz: { goal: "maximize", label: "clock used (MHz)" },
  /** The engine's analytic clock estimate: at or above clockMHz; equal when it limits the clock. */
  clockEstimateMHz: { goal: "maximize", label: "clock estimate (MHz)" },
  // LUTs as logic, as memory, and both: what a part's LUT count (and the budget check) covers
  lut: { goal: "minimize", label: "LUTs (logic)" },
  lutram: { goal: "minimize", label: "LUTs as memory" },
  lutTotal: { goal: "minimize", label: "LUTs (logic + memory)" },
  ff: { goal: "minimize", label: "flip-flops" },
  carry: { goal: "minimize", label: "carry chains" },
  bram36: { goal: "minimize", label: "BRAM36" },
  uram: { goal: "minimize", label: "URAM" },
  dsp: { goal: "minimize", label: "DSP" },
  /** The largest share of any budgeted resource the engine takes (of the part, not of the cap). */
  utilization: { goal: "minimize", label: "largest share of a resource" },
} as const satisfies Record<string, FigureInfo>;

export type FigureName = keyof typeof FIGURES;
export const FIGURE_NAMES = Object.keys(FIGURES) as FigureName[];
export type Figures = Record<FigureName, number>;
