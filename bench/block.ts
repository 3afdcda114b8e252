/**
 * Issue 14's figures for one decoder block in hardware, on a bitnet_b1_58-large-shaped model
 * (hidden 1536, FFN 4096, 16 heads, REFERENCE.md §3) and the kv260 budget: cycles by unit in decode
 * at contexts 128 and 1024 and in a 128-token prefill (the exact cycle model the block's Verilator
 * runs are checked against), the share of block time outside the ternary matmuls, the block
 * accelerator's resources against TeLLMe v2's, its clock paths, and the Verilator build and run
 * time of a small block. Run alone: `node dist/bench/block.js`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { blockCapacity } from "../src/codegen/block-rtl.js";
import { DEFAULT_ENGINE, engineGeometry } from "../src/engine/config.js";
import { blockPaths, estimateBlockResources } from "../src/estimate/block-resources.js";
import { delayModel } from "../src/fabric/delays.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { blockEngine, estimateBlock, type BlockRunEstimate } from "../src/plan/block-estimate.js";

const TELLME_V2 = { lut: 98_303, ff: 136_721, dsp: 610, bram36: 98.5, uram: 60 };

function line(name: string, value: string, note?: string): void {
  console.log(`${name.padEnd(44)} ${value.padStart(16)}${note ? `   (${note})` : ""}`);
}

function byUnit(run: BlockRunEstimate): string {
  return Object.entries(run.units)
    .sort((a, b) => b[1] - a[1])
    .map(([unit, cycles]) => `${unit} ${cycles.toLocaleString("en-US")}`)
    .join(", ");
}

/** Prints the section; `work` is a scratch directory for the one-layer model. */
export function blockSection(work: string): void {
  console.log("\nOne decoder block in hardware: bitnet_b1_58-large shape on kv260 (issue 14)");
  const model = join(work, "block-large.gguf");
  // one layer is enough: the figures are one block's, and the file stays small
  makeLlamaModel({ path: model, format: "tq2_0", hidden: 1536, ffn: 4096, layers: 1, heads: 16, kvHeads: 16, vocab: 256, seed: 1 });
  const budget = presetBudget("kv260");
  const geo = blockEngine(engineGeometry(DEFAULT_ENGINE)).geo;
  for (const context of [128, 1024]) {
    const e = estimateBlock(model, geo, budget, { contextLength: context, promptLengths: context === 128 ? [128] : [] });
    const d = e.decode;
    line(`decode at context ${context}: cycles`, d.cycles.toLocaleString("en-US"), `${d.milliseconds.toFixed(3)} ms at ${e.clockMHz} MHz; ×24 layers ${(24 * d.milliseconds).toFixed(2)} ms`);
    line("  not the ternary matmuls", `${(100 * d.nonMatmulShare).toFixed(1)} %`);
    console.log(`    by unit: ${byUnit(d)}`);
    const p = e.prefill["128"];
    if (p) {
      line("prefill of 128 tokens: cycles", p.cycles.toLocaleString("en-US"), `${p.milliseconds.toFixed(2)} ms; ×24 layers ${(24 * p.milliseconds / 1e3).toFixed(2)} s`);
      line("  not the ternary matmuls", `${(100 * p.nonMatmulShare).toFixed(1)} %`);
      console.log(`    by unit: ${byUnit(p)}`);
    }
  }
  const shape = { hidden: 1536, ffn: 4096, heads: 16, kvHeads: 16, headDim: 96, activation: "silu" as const, subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext: 1024 };
  for (const tokens of [1, 16]) {
    const r = estimateBlockResources(geo, shape, blockCapacity(shape, tokens)).total;
    const share = (k: keyof typeof TELLME_V2): string => `${k} ${Math.round(r[k]).toLocaleString("en-US")} / ${TELLME_V2[k].toLocaleString("en-US")}`;
    line(`block accelerator, buffers for ${tokens} token${tokens > 1 ? "s" : ""}`, "", `TeLLMe v2: ${(["lut", "ff", "dsp", "bram36", "uram"] as const).map(share).join(", ")}`);
  }
  const paths = blockPaths(geo, shape, delayModel("ultrascale+"));
  const worst = paths[0]!;
  const engineWorst = paths.find((p) => p.unit === "engine")!;
  line("longest path of the block (analytic)", `${worst.ns.toFixed(2)} ns`, `${worst.unit}: ${worst.what}; ${(1000 / worst.ns).toFixed(0)} MHz nominal`);
  line("  the engine's longest", `${engineWorst.ns.toFixed(2)} ns`, `${engineWorst.what}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const work = mkdtempSync(join(tmpdir(), "trilut-bench-block-"));
  try {
    blockSection(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
