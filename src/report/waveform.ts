import { type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { type EngineGeometry } from "../engine/config.js";
import { type TernaryTensor } from "../model/types.js";
import { engineWaveform } from "../sim/wave.js";
import { type ReportData } from "./collect.js";

/**
 * The report's waveform: one decode token of a tensor, drawn by wavedrom from a VCD of the
 * simulation over the engine's first work (table build, first lookups, first result).
 */
export async function firstCycles(geo: EngineGeometry, tensor: TernaryTensor, x: Int8Array, budget: Budget): Promise<NonNullable<ReportData["waveform"]>> {
  const w = await engineWaveform(geo, [tensor], [x], { memory: memoryTiming(budget), seed: 1 });
  return { svg: w.svg, what: `${tensor.name}, one decode token`, from: w.window[0], to: w.window[1] };
}
