import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeArchitecture, type ModelArchitecture } from "../src/model/architecture.js";
import { modelWorkload, matmulRoleOf } from "../src/model/workload.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { GgufModelReader } from "../src/model/gguf-model.js";
import { inspectGguf } from "../src/model/inspect.js";
import { dimensionsFrom, type ModelReader, type ModelTensorListing } from "../src/model/reader.js";
import { cli, throwsUser } from "./helpers.js";

/** BitNet b1.58 2B-4T (REFERENCE.md §3). */
const B2B4T: ModelArchitecture = {
  name: "bitnet-b1.58",
  source: "given",
  dimensions: { hidden: 2560, ffn: 6912, layers: 30, heads: 20, kvHeads: 5, headDim: 128, vocab: 128256 },
  tiedEmbeddings: true,
  activation: "relu2",
  subNorms: true,
  contextLength: 4096,
};


/** A ModelReader over an in-memory description (HF-style config or GGUF-style metadata). */
function fakeReader(opts: { config?: Record<string, unknown>; metadata?: Map<string, unknown>; tensors: ModelTensorListing[] }): ModelReader {
  return {
    path: "/x/fake",
    formatLabel: "fake",
    fileBytes: 0,
    architecture: undefined,
    readFloat: () => {
      throw new Error("no tensor data in a fake reader");
    },
    ...(opts.config ? { config: opts.config } : {}),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
    dimensions: () => dimensionsFrom(() => undefined),
    listTensors: () => opts.tensors,
    readTernary: () => {
      throw new Error("not needed");
    },
    close: () => undefined,
  };
}

function listing(name: string, n: number, k: number, typeName = "U8-packed"): ModelTensorListing {
  return { name, typeName, shape: [n, k], dims: [n, k], elements: n * k, byteLength: (n * k) / 4, ternary: typeName !== "BF16" };
}

describe("model architecture and per-token workload", () => {
  let tmp = "";
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "trilut-workload-"));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("counts BitNet b1.58 2B-4T: 210 ternary matmuls + LM head, 2.084 B ternary weights per token", () => {
    const w = modelWorkload(B2B4T, [], { contextLength: 4096, assumeType: "TQ2_0" });
    assert.equal(w.totals.matmulsPerToken, 30 * 7 + 1);
    assert.equal(w.totals.ternaryMatmulsPerToken, 210);
    const perLayer = 2 * 2560 * 2560 + 2 * 2560 * 640 + 3 * 2560 * 6912;
    assert.equal(w.totals.weightsPerToken, 30 * perLayer);
    assert.equal(w.totals.weightsPerToken, 2_084_044_800); // REFERENCE.md §3: 2.084 B
    assert.equal(w.totals.lmHeadWeights, 128256 * 2560);
    assert.equal(w.lmHead.name, "token_embd.weight");
    assert.equal(w.lmHead.type, "F16");
    assert.equal(w.totals.ternaryBytesPerToken, (30 * perLayer * 66) / 256);
    assert.equal(w.totals.bytesPerToken, (30 * perLayer * 66) / 256 + 128256 * 2560 * 2);
    assert.deepEqual(
      w.block.map((m) => [m.role, m.n, m.k, m.scale]),
      [["q", 2560, 2560, "per-block"], ["k", 640, 2560, "per-block"], ["v", 640, 2560, "per-block"], ["o", 2560, 2560, "per-block"],
       ["gate", 6912, 2560, "per-block"], ["up", 6912, 2560, "per-block"], ["down", 2560, 6912, "per-block"]],
    );
    // KV cache: 30 layers x (K + V) x 640 x 4096 tokens x 2 bytes; Q.K and P.V: 2 x 2560 x 4096 per layer.
    assert.equal(w.attention.kvBytesRead, 30 * 2 * 640 * 4096 * 2);
    assert.equal(w.attention.multiplyAdds, 30 * 2 * 2560 * 4096);
    assert.deepEqual(w.norms, { count: 30 * 4 + 1, elements: 30 * (2 * 2560 + 2560 + 6912) + 2560 });
    // At TQ1_0's 1.6875 bits/weight the ternary stream is ~440 MB/token (REFERENCE: ~434 MB at 1.67).
    const tq1 = modelWorkload(B2B4T, [], { contextLength: 0, assumeType: "TQ1_0" });
    assert.ok(Math.abs(tq1.totals.ternaryBytesPerToken / 1e6 - 439.6) < 0.1);
    const i2s = modelWorkload(B2B4T, [], { contextLength: 0, assumeType: "I2_S" });
    assert.equal(i2s.totals.ternaryBytesPerToken, (30 * perLayer) / 4 + 210 * 32);
    assert.equal(i2s.block[0]!.scale, "per-tensor");
  });

  it("a missing matmul tensor is a UserError without assumeType", () => {
    throwsUser(() => modelWorkload(B2B4T, [], { contextLength: 1 }), /no tensor "blk\.0\.attn_q\.weight" \(q of block 0, 2560 x 2560\)/);
  });

  it("maps GGUF and Hugging Face tensor names to matmul roles", () => {
    assert.deepEqual(matmulRoleOf("blk.12.ffn_down.weight"), { role: "down", layer: 12 });
    assert.deepEqual(matmulRoleOf("model.layers.3.self_attn.k_proj.weight"), { role: "k", layer: 3 });
    assert.deepEqual(matmulRoleOf("model.layers.0.mlp.gate_proj.weight"), { role: "gate", layer: 0 });
    assert.deepEqual(matmulRoleOf("lm_head.weight"), { role: "lm_head", layer: undefined });
    assert.equal(matmulRoleOf("blk.0.attn_norm.weight"), undefined);
  });

  it("describes a Hugging Face BitNet config and sizes its workload from HF tensor names", () => {
    const [h, f, kv] = [256, 512, 128];
    const tensors: ModelTensorListing[] = [listing("model.embed_tokens.weight", 300, h, "BF16")];
    for (let l = 0; l < 2; l++) {
      const p = `model.layers.${l}.`;
      tensors.push(
        listing(`${p}self_attn.q_proj.weight`, h, h), listing(`${p}self_attn.k_proj.weight`, kv, h), listing(`${p}self_attn.v_proj.weight`, kv, h),
        listing(`${p}self_attn.o_proj.weight`, h, h), listing(`${p}mlp.gate_proj.weight`, f, h), listing(`${p}mlp.up_proj.weight`, f, h),
        listing(`${p}mlp.down_proj.weight`, h, f), listing(`${p}self_attn.attn_sub_norm.weight`, 1, h, "BF16"), listing(`${p}mlp.ffn_sub_norm.weight`, 1, f, "BF16"),
      );
    }
    const config = { model_type: "bitnet", hidden_size: h, intermediate_size: f, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 300, hidden_act: "relu2", tie_word_embeddings: true, max_position_embeddings: 2048 };
    const arch = describeArchitecture(fakeReader({ config, tensors }));
    assert.deepEqual(arch, {
      name: "bitnet", source: "hf", dimensions: { hidden: h, ffn: f, layers: 2, heads: 4, kvHeads: 2, headDim: 64, vocab: 300 },
      tiedEmbeddings: true, activation: "relu2", subNorms: true, contextLength: 2048,
    });
    const w = modelWorkload(arch, tensors, { contextLength: 16 });
    assert.equal(w.matmuls.length, 15);
    assert.equal(w.block[1]!.name, "model.layers.0.self_attn.k_proj.weight");
    assert.equal(w.lmHead.name, "model.embed_tokens.weight");
    assert.equal(w.totals.weightsPerToken, 2 * (2 * h * h + 2 * kv * h + 3 * f * h));
    assert.equal(w.block[0]!.scale, "per-tensor");
    throwsUser(() => describeArchitecture(fakeReader({ config: { ...config, intermediate_size: undefined }, tensors })), /ffn \(config\.json "intermediate_size"\) is missing/);
  });

  it("names the GGUF key of a missing dimension, and reads bitnet.* prefixes", () => {
    const md = new Map<string, unknown>([["general.architecture", "bitnet-25"], ["bitnet-25.embedding_length", 256], ["bitnet-25.block_count", 1], ["bitnet-25.attention.head_count", 4], ["bitnet-25.vocab_size", 10]]);
    throwsUser(() => describeArchitecture(fakeReader({ metadata: md, tensors: [] })), /ffn \("bitnet-25\.feed_forward_length"\) is missing/);
    md.set("bitnet.feed_forward_length", 512);
    const a = describeArchitecture(fakeReader({ metadata: md, tensors: [] }));
    assert.deepEqual([a.dimensions.ffn, a.dimensions.kvHeads, a.activation, a.tiedEmbeddings, a.subNorms], [512, 4, "relu2", true, false]);
  });

  for (const [arch, format] of [["llama", "tq1_0"], ["bitnet-b1.58", "tq2_0"], ["bitnet-b1.58", "i2_s"]] as const) {
    it(`make-model ${arch} ${format}: architecture, workload and inspect agree with the request`, () => {
      const path = join(tmp, `${arch}-${format}.gguf`);
      const dims = { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 96 };
      makeLlamaModel({ path, format, architecture: arch, ...dims, seed: 3 });
      const reader = new GgufModelReader(path);
      try {
        const a = describeArchitecture(reader);
        const bitnet = arch !== "llama";
        assert.deepEqual(a.dimensions, { ...dims, headDim: 64 });
        assert.deepEqual([a.name, a.activation, a.subNorms, a.tiedEmbeddings], [arch, bitnet ? "relu2" : "silu", bitnet, bitnet]);
        if (bitnet) assert.ok(reader.metadata.has("bitnet-b1.58.embedding_length"));
      } finally {
        reader.close();
      }
      const report = inspectGguf(path, { contextLength: 8 });
      const w = report.workload!;
      assert.equal(w.matmulsPerToken, 15);
      const perLayer = 2 * 256 * 256 + 2 * 128 * 256 + 3 * 512 * 256;
      assert.equal(w.weightsPerToken, 2 * perLayer);
      assert.equal(w.lmHeadWeights, 96 * 256);
      const type = format.toUpperCase();
      const perTensor = format === "i2_s" ? 32 : 0;
      const density = format === "tq1_0" ? 54 / 256 : format === "tq2_0" ? 66 / 256 : 1 / 4;
      assert.equal(w.bytesPerToken, 2 * perLayer * density + 14 * perTensor + 96 * 256 * 2);
      assert.ok(w.block.every((m) => m.type === type && m.scale === "per-tensor"));
      const q = report.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
      assert.equal((q.minus ?? 0) + (q.zero ?? 0) + (q.plus ?? 0), 256 * 256);
      assert.equal(q.scale?.uniform, true);
      assert.equal(q.bitsPerWeight, format === "i2_s" ? ((65536 / 4 + 32) * 8) / 65536 : density * 8);
    });
  }

  it("make-model rejects i2_s without a bitnet architecture", () => {
    throwsUser(
      () => makeLlamaModel({ path: join(tmp, "x.gguf"), format: "i2_s", hidden: 256, ffn: 512, layers: 1, heads: 4, kvHeads: 4, vocab: 8 }),
      /format i2_s is bitnet\.cpp's and needs a bitnet architecture/,
    );
    const r = cli(["make-model", "-o", join(tmp, "y.gguf"), "--format", "i2_s", "--hidden", "256", "--ffn", "512", "--layers", "1", "--heads", "4", "--kv-heads", "4", "--vocab", "8"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs a bitnet architecture/);
  });

  it("inspect --json and text report architecture, tensors and workload", () => {
    const path = join(tmp, "cli-bitnet.gguf");
    const mk = cli(["make-model", "-o", path, "--arch", "bitnet-b1.58", "--format", "i2_s", "--hidden", "256", "--ffn", "512", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--vocab", "64"]);
    assert.equal(mk.status, 0, mk.stderr);
    const r = cli(["inspect", path, "--json", "--context", "32"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.architecture, "bitnet-b1.58");
    assert.deepEqual(j.dimensions, { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, headDim: 64, vocab: 64 });
    const q = j.tensors.find((t: { name: string }) => t.name === "blk.1.ffn_down.weight");
    assert.deepEqual(q.shape, [256, 512]);
    assert.equal(q.type, "I2_S");
    assert.equal(q.minus + q.zero + q.plus, 256 * 512);
    assert.equal(q.scale.uniform, true);
    assert.equal(j.workload.matmulsPerToken, 15);
    assert.equal(j.workload.weightsPerToken, 2 * (2 * 256 * 256 + 2 * 128 * 256 + 3 * 512 * 256));
    assert.equal(j.workload.lmHeadWeights, 64 * 256);
    assert.equal(j.workload.attention.contextLength, 32);
    assert.equal(j.architectureDetails.activation, "relu2");
    const text = cli(["inspect", path]).stdout;
    assert.match(text, /architecture\s+bitnet-b1\.58 \(ReLU²-gated FFN, tied embeddings, sub-norms, context 4096\)/);
    assert.match(text, /per token\s+15 matmuls \(14 ternary\)/);
    assert.match(text, /down\s+256\s+512\s+131,072\s+I2_S\s+per-tensor/);
  });
});
