import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { type EngineGeometry } from "../engine/config.js";
import { wordsForBits } from "../engine/pack.js";
import { fixScales, scaledMatmul, tensorScales } from "../engine/scales.js";
import { planMatmuls, type TilePlan } from "../engine/tiles.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { type TernaryTensor } from "../model/types.js";
import { ternaryMatmul } from "../ref/kernel.js";
import { axiStreams } from "../engine/streams.js";
import { UserError } from "../util/errors.js";
import { Rng } from "../util/random.js";
import { checkHlsSupport, generateHls } from "./hls.js";

/**
 * Refuses, before anything is written, a compile whose HLS project cannot be generated: an
 * engine the template cannot express, or a budget without the part the Tcl script targets.
 */
export function checkHlsProject(geo: EngineGeometry, budget: Budget): void {
  checkHlsSupport(geo, "--hls");
  if (!budget.part) {
    throw new UserError(`--hls: budget "${budget.device}" names no part for run_hls.tcl; add "part" (for example "xck26-sfvc784-2LV-c") to the budget`);
  }
}

/** Result beats of a plan (tile, token, row group; P lanes) from each matmul's y; padding lanes hold 0. */
function packTileResults(geo: EngineGeometry, plan: TilePlan, ys: readonly Int32Array[]): Uint32Array {
  const { P } = geo.cfg;
  const words = wordsForBits(geo.resultBeatBits);
  const beats = plan.tiles.reduce((n, t) => n + plan.tokens * t.groups, 0);
  const out = new Uint32Array(beats * words);
  let beat = 0;
  for (const tile of plan.tiles) {
    const n = plan.matmuls[tile.matmul]!.n;
    const y = ys[tile.matmul]!;
    for (let t = 0; t < plan.tokens; t++) {
      for (let g = 0; g < tile.groups; g++, beat++) {
        for (let p = 0; p < P; p++) {
          const local = g * P + p;
          if (local < tile.rows) out[beat * words + p] = y[t * n + tile.firstRow + local]! >>> 0;
        }
      }
    }
  }
  return out;
}

function bytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** The testbench's run: one decode token of the tensor, seeded activations, the reference's results. */
function testVectors(geo: EngineGeometry, tensor: TernaryTensor): { descriptors: Uint32Array; acts: Uint32Array; expected: Uint32Array; imageBytes: number } {
  const rng = new Rng(1);
  const x = Int8Array.from({ length: tensor.k }, () => rng.int(-128, 127));
  // as compile writes the image: a dequantizing engine applies the tensor's stored scales
  const scaled = geo.cfg.dequant ? tensorScales(tensor) : undefined;
  const scales = scaled ? fixScales(scaled) : undefined;
  const plan = planMatmuls(geo, [{ n: tensor.n, k: tensor.k, scales }], 1);
  const streams = axiStreams(geo, plan, [tensor], [x]);
  const y = scaled && scales ? scaledMatmul(scaled, scales, x, 1) : ternaryMatmul(tensor, x, 1);
  return { descriptors: streams.descriptors, acts: streams.acts, expected: packTileResults(geo, plan, [y]), imageBytes: plan.imageBytes };
}

/**
 * Writes DIR (a compile's hls/): the engine's HLS sources and testbench, tb/ with the vectors of
 * one decode token of `tensor` (whose weight image the compile wrote at `image`, relative to the
 * compile's output directory), and run_hls.tcl for Vitis HLS with the budget's part and clock.
 * Returns the files written, relative to the compile's output directory.
 */
export function writeHlsProject(dir: string, geo: EngineGeometry, budget: Budget, tensor: TernaryTensor, image: string): string[] {
  checkHlsProject(geo, budget);
  const written: string[] = [];
  const put = (rel: string, data: string | Uint8Array): void => {
    writeFileSync(join(dir, rel), data);
    written.push(`hls/${rel}`);
  };
  mkdirSync(join(dir, "tb"), { recursive: true });
  for (const f of generateHls(geo)) put(f.name, f.content);
  const v = testVectors(geo, tensor);
  put("tb/descriptors.bin", bytes(v.descriptors));
  put("tb/acts.bin", bytes(v.acts));
  put("tb/expected.bin", bytes(v.expected));
  put(
    "run_hls.tcl",
    renderTemplate("hls/run_hls.tcl.hbs", {
      version: packageVersion(),
      budget,
      part: budget.part,
      periodNs: Number((1000 / budget.clockMHz).toFixed(3)),
      latencyCycles: memoryTiming(budget).latency,
      memDepth: Math.max(1, Math.ceil(v.imageBytes / geo.beatBytes)),
      vectors: { tensor: tensor.name, n: tensor.n, k: tensor.k, image },
    }),
  );
  return written;
}
