/**
 * The number spec's whole-model error against float64 (docs/numerics.md): every model below runs
 * through runSpecModel (an 8-token prompt as one prefill, then 4 decode steps over the persisting KV
 * cache) and runHostModel on the same 12 tokens. Run alone: `node dist/bench/spec-accuracy.js`.
 */
import { join } from "node:path";
import { describeArchitecture } from "../src/model/architecture.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { withModel } from "../src/model/open.js";
import { measureSpecModel, type SpecError } from "../src/ref/spec-error.js";
import { PACKAGE_ROOT } from "../src/util/templates.js";

const PROMPT = [1, 5, 9, 3, 14, 15, 9, 2];
const DECODE = [6, 5, 3, 5];

const pct = (v: number): string => `${(100 * v).toFixed(3)} %`;
const cells = (e: SpecError): string[] => [pct(e.maxRel), pct(e.meanRel), pct(e.elemMax), pct(e.elemMean), String(e.saturated)];

/** Prints the table; `work` is a scratch directory for the generated models. */
export function specAccuracySection(work: string): void {
  const dims = { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 3 };
  const llama = join(work, "spec-llama.gguf");
  makeLlamaModel({ path: llama, format: "tq2_0", ...dims });
  const bitnet = join(work, "spec-bitnet");
  makeLlamaModel({ path: bitnet, format: "hf-bitnet", architecture: "bitnet-b1.58", ...dims });
  // sparser trits (90 % zeros) keep every value inside A's range (the test's models)
  const sparse = { ...dims, seed: 5, zeroFraction: 0.9 };
  const llamaSparse = join(work, "spec-llama-sparse.gguf");
  makeLlamaModel({ path: llamaSparse, format: "tq2_0", ...sparse });
  const bitnetSparse = join(work, "spec-bitnet-sparse");
  makeLlamaModel({ path: bitnetSparse, format: "hf-bitnet", architecture: "bitnet-b1.58", ...sparse });
  const fixtures = join(PACKAGE_ROOT, "test", "fixtures", "models");
  const models: [string, string][] = [
    ["make-model llama TQ2_0", llama],
    ["make-model bitnet-b1.58 HF", bitnet],
    ["make-model llama TQ2_0, 90 % zeros", llamaSparse],
    ["make-model bitnet-b1.58 HF, 90 % zeros", bitnetSparse],
    ["fixture tiny-llama-tq2_0.gguf", join(fixtures, "tiny-llama-tq2_0.gguf")],
    ["fixture tiny-llama-tq1_0.gguf", join(fixtures, "tiny-llama-tq1_0.gguf")],
    ["fixture tiny-bitnet-hf", join(fixtures, "tiny-bitnet-hf")],
  ];
  console.log(`\nnumber spec vs float64, whole model: ${PROMPT.length}-token prefill + ${DECODE.length} decode steps; final hidden state`);
  console.log("(per-token: |spec − f64| / max|f64| of the token; elementwise: / |f64| where |f64| ≥ 1 % of the token's max; sat: A values saturated)");
  const header = ["model", "max per-token", "mean per-token", "max elementwise", "mean elementwise", "sat", "logits"];
  const rows: string[][] = [];
  for (const [name, path] of models) {
    withModel(path, (m) => {
      const e = measureSpecModel(m, describeArchitecture(m), { tokens: PROMPT, decode: DECODE });
      rows.push([name, ...cells(e.hidden), e.logits ? `max ${pct(e.logits.maxRel)}, mean ${pct(e.logits.meanRel)}` : "float head"]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
}

if (process.argv[1]?.endsWith(join("bench", "spec-accuracy.js"))) {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const work = mkdtempSync(join(tmpdir(), "trilut-spec-"));
  try {
    specAccuracySection(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
