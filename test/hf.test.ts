import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/util/random.js";
import { countTrits } from "../src/model/types.js";
import { bf16ToF32, roundToFp16 } from "../src/model/half.js";
import { openSafetensors } from "../src/model/safetensors.js";
import { encodeSafetensors, writeSafetensors, type SafetensorsWriteTensor } from "../src/model/safetensors-writer.js";
import { HfBitnetReader } from "../src/model/hf-bitnet.js";
import { f32ToBf16, packHfTrits, writeHfBitnet, type HfWriteTensor } from "../src/model/hf-writer.js";
import { openModel, withModel } from "../src/model/open.js";
import { FIXTURES, randomTrits, loadManifest, throwsUser, plainMatmul } from "./helpers.js";


const MANIFEST = loadManifest();
const HF = MANIFEST.models.find((m) => m.file === "tiny-bitnet-hf")!;
const HF_DIR = join(FIXTURES, "tiny-bitnet-hf");



const TINY_CONFIG = {
  architectures: ["BitNetForCausalLM"],
  model_type: "bitnet",
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 8,
  quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" },
};

/** A raw safetensors file from a header (object or literal text) and data bytes. */
function rawSafetensors(path: string, header: unknown, data: Uint8Array, lengthOverride?: bigint): void {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, data]));
}

describe("Hugging Face BitNet checkpoints (safetensors)", () => {
  let tmp = "";
  let counter = 0;
  const fresh = (label: string): string => join(tmp, `${label}-${++counter}`);
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "trilut-hf-"));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("the tiny-bitnet-hf fixture (written by Hugging Face's safetensors)", () => {
    it("has the manifest's architecture, dimensions and config", () => {
      withModel(HF_DIR, (m) => {
        assert.ok(m instanceof HfBitnetReader);
        assert.equal(m.architecture, HF.architecture);
        assert.equal(m.formatLabel, "Hugging Face safetensors (1 shard)");
        const d = m.dimensions();
        assert.deepEqual(
          [d.hidden, d.ffn, d.layers, d.heads, d.kvHeads, d.vocab, d.headDim],
          [HF.hidden, HF.ffn, HF.layers, HF.heads, HF.kv_heads, HF.vocab, HF.hidden / HF.heads],
        );
        assert.equal(m.config?.["model_type"], "bitnet");
        assert.equal(m.fileBytes, readFileSync(join(HF_DIR, "model.safetensors")).length);
      });
    });

    it("every ternary tensor has the manifest's n, k, trit counts and scale", () => {
      withModel(HF_DIR, (m) => {
        const ternary = m.listTensors().filter((t) => t.ternary);
        assert.deepEqual(ternary.map((t) => t.name).sort(), HF.tensors.map((t) => t.tensor).sort());
        for (const e of HF.tensors) {
          const listed = ternary.find((t) => t.name === e.tensor)!;
          assert.equal(listed.typeName, e.type);
          assert.deepEqual(listed.shape, [e.n, e.k]);
          assert.equal(listed.byteLength, (e.n * e.k) / 4);
          const t = m.readTernary(e.tensor);
          assert.deepEqual([t.n, t.k], [e.n, e.k]);
          assert.deepEqual(countTrits(t.trits), { minus: e.minus, zero: e.zero, plus: e.plus }, e.tensor);
          assert.equal(t.scale.tensorScale, e.scale, e.tensor);
          assert.equal(t.scale.uniform, true);
          assert.deepEqual([...t.scale.blockScales], [e.scale]);
        }
      });
    });

    it("lists scales and float tensors with their dtype and reads floats", () => {
      const m = new HfBitnetReader(HF_DIR);
      try {
        const all = m.listTensors();
        const scale = all.find((t) => t.name === "model.layers.0.self_attn.q_proj.weight_scale")!;
        assert.deepEqual([scale.typeName, scale.ternary, scale.elements], ["F32", false, 1]);
        const embd = all.find((t) => t.name === "model.embed_tokens.weight")!;
        assert.deepEqual([embd.typeName, embd.shape, embd.dims], ["F16", [320, 256], [320, 256]]);
        const norm = m.readFloat("model.norm.weight");
        assert.equal(norm.length, 256);
        assert.ok(norm.every((v) => Number.isFinite(v)));
        assert.equal(m.readFloat("model.embed_tokens.weight").length, 320 * 256);
        throwsUser(() => m.readFloat("model.layers.0.self_attn.q_proj.weight"), /U8/, /expected F32, F16 or BF16/);
        throwsUser(() => m.readTernary("model.norm.weight"), /model\.norm\.weight/, /not a packed ternary/);
        throwsUser(() => m.readTernary("model.nope.weight"), /unknown tensor "model\.nope\.weight"/);
      } finally {
        m.close();
      }
    });

    for (const check of HF.matmul) {
      it(`${check.tensor}: y = x · Tᵀ reproduces the fixture exactly`, () => {
        const x = new Int8Array(readFileSync(join(FIXTURES, check.input)));
        const expected = readFileSync(join(FIXTURES, check.expected));
        withModel(HF_DIR, (m) => {
          const t = m.readTernary(check.tensor);
          assert.deepEqual([t.n, t.k], [check.n, check.k]);
          const y = plainMatmul(x, t.trits, check.tokens, t.n, t.k);
          assert.ok(Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(expected));
        });
      });
    }

    it("the safetensors writer reproduces the fixture's file byte for byte", () => {
      const src = openSafetensors(join(HF_DIR, "model.safetensors"));
      try {
        const tensors: SafetensorsWriteTensor[] = src.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: src.readBytes(t.name) }));
        const out = join(fresh("rewrite"), "model.safetensors");
        writeSafetensors(out, tensors.reverse(), src.metadata);
        assert.ok(readFileSync(out).equals(readFileSync(join(HF_DIR, "model.safetensors"))));
      } finally {
        src.close();
      }
    });
  });

  describe("scales and their direction", () => {
    /** The fixture rewritten through writeHfBitnet, with the scales in scaleDtype and config changes. */
    function variant(scaleDtype: "BF16" | "F32", config: Record<string, unknown> = {}): string {
      const dir = fresh(`variant-${scaleDtype}`);
      withModel(HF_DIR, (m) => {
        const r = m as HfBitnetReader;
        const tensors: HfWriteTensor[] = HF.tensors.map((e) => {
          const t = r.readTernary(e.tensor);
          return { name: e.tensor, kind: "ternary", trits: t.trits, n: t.n, k: t.k, scale: r.readStoredScale(e.tensor), scaleDtype };
        });
        tensors.push({ name: "model.norm.weight", kind: "float", dtype: "F32", shape: [256], data: r.readFloat("model.norm.weight") });
        writeHfBitnet(dir, { config: { ...r.config, ...config }, tensors });
      });
      return dir;
    }

    it("accepts BF16 scales (as the real checkpoint stores them) and F32 scales", () => {
      const f32Dir = variant("F32");
      const bf16Dir = variant("BF16");
      withModel(HF_DIR, (orig) => {
        withModel(f32Dir, (a) => {
          withModel(bf16Dir, (b) => {
            const st = openSafetensors(join(bf16Dir, "model.safetensors"));
            assert.equal(st.tensor(`${HF.tensors[0]!.tensor}_scale`).dtype, "BF16");
            st.close();
            for (const e of HF.tensors) {
              const want = orig.readTernary(e.tensor).trits;
              const ta = a.readTernary(e.tensor);
              const tb = b.readTernary(e.tensor);
              assert.deepEqual(ta.trits, want);
              assert.deepEqual(tb.trits, want);
              assert.equal(ta.scale.tensorScale, e.scale);
              assert.equal(tb.scale.tensorScale, bf16ToF32(f32ToBf16(e.scale)));
              assert.ok(Math.abs(tb.scale.tensorScale - e.scale) <= e.scale / 128);
            }
          });
        });
      });
    });

    it("linear_class bitlinear divides, autobitlinear multiplies, and the option overrides both", () => {
      const divideDir = variant("F32", { quantization_config: { quant_method: "bitnet", linear_class: "bitlinear" } });
      const name = HF.tensors[0]!.tensor;
      const s = HF.tensors[0]!.scale;
      const scaleOf = (dir: string, opts?: { scaleDirection: "multiply" | "divide" }): number => {
        const r = new HfBitnetReader(dir, opts);
        try {
          return r.readTernary(name).scale.tensorScale;
        } finally {
          r.close();
        }
      };
      assert.equal(scaleOf(HF_DIR), s);
      assert.equal(scaleOf(divideDir), Math.fround(1 / s));
      assert.equal(scaleOf(divideDir, { scaleDirection: "multiply" }), s);
      assert.equal(scaleOf(HF_DIR, { scaleDirection: "divide" }), Math.fround(1 / s));
      const r = new HfBitnetReader(divideDir);
      assert.equal(r.scaleDirection, "divide");
      assert.deepEqual([...r.readTernary(name).scale.blockScales], [Math.fround(1 / s)]);
      r.close();
    });
  });

  describe("writeHfBitnet round trip", () => {
    const rng = new Rng(7);
    const q = randomTrits(rng, 16, 16);
    const down = randomTrits(rng, 16, 32);
    const norm = Float32Array.from({ length: 16 }, (_, i) => 1 + i / 7);
    const embd = Float32Array.from({ length: 8 * 16 }, (_, i) => Math.sin(i) * 3.3);
    const tensors: HfWriteTensor[] = [
      { name: "model.layers.0.self_attn.q_proj.weight", kind: "ternary", ...q, scale: 0.75 },
      { name: "model.layers.0.mlp.down_proj.weight", kind: "ternary", ...down, scale: 1.3, scaleDtype: "BF16" },
      { name: "model.norm.weight", kind: "float", dtype: "F32", shape: [16], data: norm },
      { name: "model.embed_tokens.weight", kind: "float", dtype: "F16", shape: [8, 16], data: embd },
      { name: "lm_head.weight", kind: "float", dtype: "BF16", shape: [8, 16], data: embd },
    ];

    function check(dir: string, shards: number): void {
      const m = openModel(dir);
      try {
        assert.ok(m instanceof HfBitnetReader);
        assert.equal(m.shards.length, shards);
        assert.equal(m.formatLabel, `Hugging Face safetensors (${shards} shard${shards === 1 ? "" : "s"})`);
        assert.equal(m.dimensions().hidden, 16);
        const tq = m.readTernary("model.layers.0.self_attn.q_proj.weight");
        assert.deepEqual([tq.n, tq.k], [16, 16]);
        assert.deepEqual(tq.trits, q.trits);
        assert.equal(tq.scale.tensorScale, 0.75);
        const td = m.readTernary("model.layers.0.mlp.down_proj.weight");
        assert.deepEqual(td.trits, down.trits);
        assert.equal(td.scale.tensorScale, bf16ToF32(f32ToBf16(1.3)));
        assert.deepEqual(m.readFloat("model.norm.weight"), norm);
        assert.deepEqual(m.readFloat("model.embed_tokens.weight"), embd.map(roundToFp16));
        assert.deepEqual(m.readFloat("lm_head.weight"), embd.map((v) => bf16ToF32(f32ToBf16(v))));
        assert.equal(m.listTensors().filter((t) => t.ternary).length, 2);
      } finally {
        m.close();
      }
    }

    it("single file", () => {
      const dir = fresh("rt");
      writeHfBitnet(dir, { config: TINY_CONFIG, tensors });
      assert.deepEqual(readdirSync(dir).sort(), ["config.json", "model.safetensors"]);
      const bytes = readFileSync(join(dir, "model.safetensors"));
      assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0, "header padded to 8 bytes");
      check(dir, 1);
    });

    it("sharded, with an index, replacing an existing directory atomically", () => {
      const dir = fresh("rt-sharded");
      mkdirSync(dir);
      writeFileSync(join(dir, "stale"), "x");
      writeHfBitnet(dir, { config: TINY_CONFIG, tensors, shardBytes: 200 });
      const files = readdirSync(dir).sort();
      assert.ok(files.includes("model.safetensors.index.json"));
      assert.ok(!files.includes("stale") && !files.includes("model.safetensors"));
      const shardFiles = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
      assert.ok(shardFiles.length >= 3, files.join(", "));
      assert.equal(readdirSync(tmp).filter((f) => f.includes("partial")).length, 0);
      check(dir, shardFiles.length);
    });

    it("refuses n not a multiple of 4, non-trits and mismatched float shapes, writing nothing", () => {
      const dir = fresh("rt-bad");
      throwsUser(() => writeHfBitnet(dir, { config: TINY_CONFIG, tensors: [{ name: "w.weight", kind: "ternary", trits: new Int8Array(6 * 2), n: 6, k: 2, scale: 1 }] }), /multiple of 4/);
      throwsUser(() => packHfTrits("w.weight", Int8Array.of(0, 2, 0, 0), 4, 1), /not a trit/);
      throwsUser(
        () => writeHfBitnet(dir, { config: TINY_CONFIG, tensors: [{ name: "x", kind: "float", dtype: "F32", shape: [3], data: new Float32Array(2) }] }),
        /holds 3 values, got 2/,
      );
      assert.ok(!existsSync(dir));
    });
  });

  describe("bad input is one UserError line", () => {
    const good = (): { header: Record<string, unknown>; data: Uint8Array } => ({
      header: {
        __metadata__: { format: "pt" },
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "U8", shape: [2, 4], data_offsets: [8, 16] },
      },
      data: new Uint8Array(16),
    });

    it("a well-formed hand-made file opens", () => {
      const p = fresh("ok") + ".safetensors";
      const { header, data } = good();
      rawSafetensors(p, header, data);
      const f = openSafetensors(p);
      assert.deepEqual(f.metadata, { format: "pt" });
      assert.deepEqual(f.tensors.map((t) => [t.name, t.fileOffset - f.dataStart, t.byteLength]), [["a", 0, 8], ["b", 8, 8]]);
      f.close();
    });

    it("a huge header length", () => {
      const p = fresh("huge") + ".safetensors";
      const { header, data } = good();
      rawSafetensors(p, header, data, 1n << 40n);
      throwsUser(() => openSafetensors(p), /huge-\d+\.safetensors/, /header length/, /limit/);
    });

    it("a header length past the end of the file", () => {
      const p = fresh("past") + ".safetensors";
      rawSafetensors(p, "{}", new Uint8Array(0), 5000n);
      throwsUser(() => openSafetensors(p), /truncated/);
    });

    it("a header that is not JSON, or not an object", () => {
      const p = fresh("notjson") + ".safetensors";
      rawSafetensors(p, "{not json", new Uint8Array(0));
      throwsUser(() => openSafetensors(p), /not valid JSON/);
      rawSafetensors(p, "[1,2]", new Uint8Array(0));
      throwsUser(() => openSafetensors(p), /JSON object/);
    });

    it("a file shorter than 8 bytes, and a truncated data buffer", () => {
      const p = fresh("trunc") + ".safetensors";
      writeFileSync(p, Buffer.alloc(5));
      throwsUser(() => openSafetensors(p), /truncated/);
      const { header, data } = good();
      rawSafetensors(p, header, data);
      truncateSync(p, readFileSync(p).length - 3);
      throwsUser(() => openSafetensors(p), /tensor "b"/, /past the end of the file/);
    });

    it("offsets out of range, negative or not integers", () => {
      const p = fresh("range") + ".safetensors";
      const { header, data } = good();
      rawSafetensors(p, { ...header, b: { dtype: "U8", shape: [2, 4], data_offsets: [100, 108] } }, data);
      throwsUser(() => openSafetensors(p), /tensor "b"/, /past the end/);
      rawSafetensors(p, { ...header, b: { dtype: "U8", shape: [2, 4], data_offsets: [-8, 0] } }, data);
      throwsUser(() => openSafetensors(p), /tensor "b"/, /non-negative integers/);
      rawSafetensors(p, { ...header, b: { dtype: "U8", shape: [2.5, 4], data_offsets: [8, 16] } }, data);
      throwsUser(() => openSafetensors(p), /tensor "b"/, /shape/);
    });

    it("overlapping offsets", () => {
      const p = fresh("overlap") + ".safetensors";
      const { header, data } = good();
      rawSafetensors(p, { ...header, b: { dtype: "U8", shape: [2, 4], data_offsets: [4, 12] } }, data);
      throwsUser(() => openSafetensors(p), /overlap/, /"a"/, /"b"/);
    });

    it("dtype × shape disagreeing with the byte range, and an unknown dtype", () => {
      const p = fresh("mismatch") + ".safetensors";
      const { header, data } = good();
      rawSafetensors(p, { ...header, a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, data);
      throwsUser(() => openSafetensors(p), /tensor "a"/, /needs 12 bytes/, /hold 8/);
      rawSafetensors(p, { ...header, a: { dtype: "Q4", shape: [2], data_offsets: [0, 8] } }, data);
      throwsUser(() => openSafetensors(p), /tensor "a"/, /unknown dtype "Q4"/);
    });

    it("the safetensors writer refuses data that disagrees with dtype and shape", () => {
      throwsUser(() => encodeSafetensors([{ name: "x", dtype: "F32", shape: [2], data: new Uint8Array(7) }]), /"x"/, /needs 8 bytes/);
      throwsUser(() => encodeSafetensors([{ name: "x", dtype: "F99", shape: [2], data: new Uint8Array(8) }]), /unknown dtype/);
    });

    /** A tiny valid checkpoint to break. */
    function checkpoint(shardBytes?: number): string {
      const dir = fresh("ckpt");
      const t = randomTrits(new Rng(3), 8, 4);
      const tensors: HfWriteTensor[] = [
        { name: "l.0.weight", kind: "ternary", ...t, scale: 2 },
        { name: "l.1.weight", kind: "ternary", ...t, scale: 3 },
      ];
      writeHfBitnet(dir, { config: TINY_CONFIG, tensors, ...(shardBytes === undefined ? {} : { shardBytes }) });
      return dir;
    }

    it("code 3 in a packed weight names the tensor and the byte", () => {
      const dir = checkpoint();
      const path = join(dir, "model.safetensors");
      const f = openSafetensors(path);
      const at = f.tensor("l.1.weight").fileOffset + 5;
      f.close();
      const bytes = readFileSync(path);
      bytes[at] = 0b00110100; // codes 0, 1, 3, 0
      writeFileSync(path, bytes);
      const m = new HfBitnetReader(dir);
      try {
        m.readTernary("l.0.weight");
        throwsUser(() => m.readTernary("l.1.weight"), /tensor "l\.1\.weight"/, /code 3/, /byte 5 /, new RegExp(`file byte ${at}`));
      } finally {
        m.close();
      }
    });

    it("a missing shard", () => {
      const dir = checkpoint(20);
      const shard = readdirSync(dir).filter((f) => f.endsWith(".safetensors")).sort()[1]!;
      rmSync(join(dir, shard));
      throwsUser(() => new HfBitnetReader(dir), new RegExp(`shard "${shard}"`), /missing/);
    });

    it("config.json missing hidden_size, or not JSON", () => {
      const dir = checkpoint();
      const { hidden_size: _omit, ...rest } = TINY_CONFIG;
      writeFileSync(join(dir, "config.json"), JSON.stringify(rest));
      throwsUser(() => new HfBitnetReader(dir), /config\.json/, /"hidden_size"/);
      writeFileSync(join(dir, "config.json"), "{");
      throwsUser(() => new HfBitnetReader(dir), /config\.json/, /not valid JSON/);
    });

    it("a directory without config.json, or without weights", () => {
      const dir = fresh("empty");
      mkdirSync(dir);
      throwsUser(() => openModel(dir), /expected config\.json/);
      writeFileSync(join(dir, "config.json"), JSON.stringify(TINY_CONFIG));
      throwsUser(() => openModel(dir), /expected model\.safetensors or model\.safetensors\.index\.json/);
      const copy = fresh("copy");
      cpSync(HF_DIR, copy, { recursive: true });
      withModel(copy, (m) => assert.equal(m.architecture, "bitnet"));
      // the weights file itself stands for its directory
      withModel(join(copy, "model.safetensors"), (m) => assert.equal(m.path, copy));
    });
  });
});
