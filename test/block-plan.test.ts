import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { describeArchitecture, type ModelArchitecture } from "../src/model/architecture.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { withModel } from "../src/model/open.js";
import { type ModelReader } from "../src/model/reader.js";
import { planBlock, type BlockPlanOptions } from "../src/plan/block-plan.js";

// a headDim int8 row and a 4-byte scale per kv head and token, for K and V
const opts: BlockPlanOptions = { context: 128, kvBytesPerTokenLayer: (s) => 2 * s.kvHeads * (s.headDim + 4), weightBytes: 1e6 };

describe("block planner (which models the decoder hardware maps)", () => {
  let dir: string;
  const path = (name: string): string => join(dir, name);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "trilut-block-plan-"));
    makeLlamaModel({ path: path("llama.gguf"), format: "tq2_0", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 1 });
    makeLlamaModel({ path: path("bitnet"), format: "hf-bitnet", architecture: "bitnet-b1.58", hidden: 128, ffn: 256, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 1 });
    // hidden 28 over 4 heads: head dimension 7
    makeLlamaModel({ path: path("odd"), format: "hf-bitnet", architecture: "bitnet-b1.58", hidden: 28, ffn: 64, layers: 1, heads: 4, kvHeads: 4, vocab: 32, seed: 1 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const plan = (file: string, change: (m: ModelReader, a: ModelArchitecture) => [ModelReader, ModelArchitecture] = (m, a) => [m, a], o = opts) =>
    withModel(path(file), (m) => {
      const [model, arch] = change(m, describeArchitecture(m));
      return planBlock(model, arch, presetBudget("kv260"), o);
    });

  it("gives the shape of a llama block and of a BitNet block with its constants", () => {
    const llama = plan("llama.gguf");
    assert.deepEqual(
      { ...llama },
      { hidden: 256, ffn: 512, heads: 4, kvHeads: 2, headDim: 64, activation: "silu", subNorms: false, eps: llama.eps, ropeTheta: llama.ropeTheta, maxContext: 128 },
    );
    assert.ok(llama.eps > 0 && llama.eps < 1e-3 && llama.ropeTheta >= 1e4, `${llama.eps} ${llama.ropeTheta}`);
    const bitnet = plan("bitnet");
    assert.equal(bitnet.activation, "relu2");
    assert.equal(bitnet.subNorms, true);
  });

  it("refuses an odd head dimension, naming it", () => {
    assert.throws(() => plan("odd"), /odd: head dimension 7 \(hidden 28 \/ 4 heads\) is odd; RoPE rotates pairs/);
  });

  it("refuses an activation the gate has no hardware for", () => {
    assert.throws(
      () => plan("llama.gguf", (m, a) => [m, { ...a, activation: "gelu" }]),
      /llama\.gguf: activation "gelu" has no gate unit in hardware; expected one of silu, relu2/,
    );
  });

  it("refuses query heads that do not group over the KV heads", () => {
    assert.throws(
      () => plan("llama.gguf", (m, a) => [m, { ...a, dimensions: { ...a.dimensions, kvHeads: 3 } }]),
      /4 query heads do not group over 3 KV heads/,
    );
  });

  it("names a missing norm weight, and one of the wrong length", () => {
    const without = (name: string) => (m: ModelReader, a: ModelArchitecture): [ModelReader, ModelArchitecture] => {
      const reader = Object.create(m) as ModelReader;
      Object.defineProperty(reader, "listTensors", { value: () => m.listTensors().filter((t) => t.name !== name) });
      return [reader, a];
    };
    assert.throws(() => plan("llama.gguf", without("blk.1.ffn_norm.weight")), /llama\.gguf: norm weight blk\.1\.ffn_norm\.weight is missing; expected a vector of 256 values/);
    assert.throws(
      () => plan("bitnet", without("model.layers.0.mlp.ffn_sub_norm.weight")),
      /norm weight model\.layers\.0\.mlp\.ffn_sub_norm\.weight is missing; expected a vector of 256 values/,
    );
    assert.throws(
      () => plan("llama.gguf", (m, a) => [m, { ...a, dimensions: { ...a.dimensions, hidden: 96, headDim: 24 } }]),
      /norm weight blk\.0\.attn_norm\.weight has 256 values; expected 96/,
    );
  });

  it("refuses a context whose KV cache does not fit the memory, and takes one that does", () => {
    // 2 layers × 2 × 2 kv heads × 68 bytes = 544 bytes a token: 4 GB hold ~7.35M tokens
    assert.equal(plan("llama.gguf", undefined, { ...opts, context: 7_000_000 }).maxContext, 7_000_000);
    assert.throws(
      () => plan("llama.gguf", undefined, { ...opts, context: 7_400_000 }),
      /context 7400000: the KV cache \(4\.03 GB\) and the weights \(0\.00 GB\) exceed kv260's 4 GB of memory; expected a shorter context/,
    );
    assert.throws(() => plan("llama.gguf", undefined, { ...opts, context: 0 }), /context 0: expected a whole number of tokens ≥ 1/);
  });
});
