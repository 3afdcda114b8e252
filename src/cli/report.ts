import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { engineBudget } from "../estimate/clock.js";
import { engineGeometry, type EngineConfig } from "../engine/config.js";
import { simulateMatmul } from "../sim/simulate.js";
import { type ReportData } from "../report/collect.js";
import { writeReport } from "../report/write.js";
import { activations, readTensor } from "../sim/inputs.js";
import { firstCycles } from "../report/waveform.js";
import { printJson } from "./output.js";

/**
 * `trilut report DIR`, and the report `compile` writes: for a compile directory, the first compiled
 * tensor also runs one decode token in Verilator, so the report shows measured against predicted
 * cycles (a sweep's report takes its measurements from --verify-top).
 */
export async function reportCommand(args: { dir: string; sim: boolean; json?: boolean }): Promise<void> {
  const { files, data } = await writeReport(args.dir, args.sim ? (d) => withSimulation(args.dir, d) : undefined);
  if (args.json) {
    printJson({ dir: args.dir, kind: data.kind, title: data.title, files: files.map((f) => join(args.dir, f)), simulation: data.simulation });
    return;
  }
  console.log(`wrote ${files.map((f) => join(args.dir, f)).join(", ")}${data.simulation.length ? ` (${data.simulation.length} simulated run${data.simulation.length > 1 ? "s" : ""})` : ""}`);
}

/** Adds a Verilator run of the directory's first compiled tensor (compile directories only). */
export async function withSimulation(dir: string, d: ReportData): Promise<ReportData> {
  if (d.kind !== "compile") return d;
  const engine = JSON.parse(readFileSync(join(dir, "engine.json"), "utf8")) as { model: string; engine: EngineConfig; budget: Budget };
  const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as { tensors: Record<string, unknown> };
  const first = Object.keys(schedule.tensors)[0];
  if (first === undefined) return d;
  const tensor = readTensor(engine.model, first);
  const { x } = activations(tensor, undefined, 1, 1);
  const geo = engineGeometry(d.engine);
  const atClock = engineBudget(geo, engine.budget);
  const r = await simulateMatmul(geo, tensor, x, { tokens: 1, memory: memoryTiming(atClock), seed: 1 });
  return {
    ...d,
    simulation: [...d.simulation, { what: first, mode: "decode", tokens: 1, predictedCycles: r.predictedCycles, measuredCycles: r.cycles, bitExact: r.match }],
    waveform: await firstCycles(geo, tensor, x, atClock),
  };
}
