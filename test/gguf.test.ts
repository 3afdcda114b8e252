import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/util/random.js";
import { countTrits } from "../src/model/types.js";
import { openGguf, withGguf } from "../src/model/gguf.js";
import { writeGguf, type GgufWriteTensor } from "../src/model/gguf-writer.js";
import { gv, type GgufTypedValue } from "../src/model/gguf-value.js";
import { ByteSink } from "../src/model/byte-sink.js";
import { bf16ToF32, f32ToFp16, fp16ToF32, roundToFp16 } from "../src/model/half.js";
import { encodeTqBlocks, packTq1Byte, unpackTq1Trit, type TqTypeName } from "../src/model/tq-codec.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { formatInspect, inspectGguf } from "../src/model/inspect.js";
import { FIXTURES, loadManifest, throwsUser, plainMatmul, slowSuite } from "./helpers.js";

const modelsDir = FIXTURES;

const manifest = loadManifest();
const ggufModels = manifest.models.filter((m) => m.format === "gguf");

describe("GGUF model files", () => {
  let tmp = "";
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "trilut-gguf-"));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });



  // ---- fixtures written by llama.cpp's gguf package ----------------------------------------------

  describe("GGUF reader on third-party fixtures", () => {
    it("finds both GGUF fixtures in the manifest", () => {
      assert.equal(ggufModels.length, 2);
    });

    for (const model of ggufModels) {
      const path = join(modelsDir, model.file);

      describe(model.file, () => {
        it("has the manifest's architecture and dimensions", () => {
          const report = inspectGguf(path);
          assert.equal(report.architecture, model.architecture);
          assert.deepEqual(
            { ...report.dimensions },
            {
              hidden: model.hidden,
              ffn: model.ffn,
              layers: model.layers,
              heads: model.heads,
              kvHeads: model.kv_heads,
              headDim: model.hidden / model.heads,
              vocab: model.vocab,
            },
          );
        });

        it("decodes every ternary tensor to the manifest's type, shape, scale and trit counts", () => {
          withGguf(path, (f) => {
            assert.equal(f.version, 3);
            for (const e of model.tensors) {
              const info = f.tensor(e.tensor);
              assert.equal(info.typeName, e.type, e.tensor);
              assert.deepEqual(info.shape, [e.n, e.k], e.tensor);
              const t = f.readTernary(e.tensor);
              assert.equal(t.n, e.n);
              assert.equal(t.k, e.k);
              assert.equal(t.scale.uniform, true, `${e.tensor} scale uniform`);
              assert.equal(t.scale.tensorScale, e.scale, `${e.tensor} scale`);
              assert.deepEqual({ ...countTrits(t.trits) }, { minus: e.minus, zero: e.zero, plus: e.plus }, e.tensor);
            }
          });
        });

        for (const mm of model.matmul ?? []) {
          it(`reproduces the matmul check for ${mm.tensor}`, () => {
            const xBytes = readFileSync(join(modelsDir, mm.input));
            const yBytes = readFileSync(join(modelsDir, mm.expected));
            const x = new Int8Array(xBytes.buffer, xBytes.byteOffset, xBytes.length);
            const m = mm.tokens ?? x.length / mm.k;
            assert.equal(x.length, m * mm.k);
            assert.equal(yBytes.length, m * mm.n * 4);
            const expected = Int32Array.from({ length: m * mm.n }, (_, i) => yBytes.readInt32LE(i * 4));
            const t = withGguf(path, (f) => f.readTernary(mm.tensor));
            assert.equal(t.n, mm.n);
            assert.equal(t.k, mm.k);
            assert.deepEqual(plainMatmul(x, t.trits, m, mm.n, mm.k), expected);
          });
        }

        it("re-encodes every ternary tensor to exactly the bytes llama.cpp's writer stored", () => {
          withGguf(path, (f) => {
            for (const e of model.tensors) {
              const t = f.readTernary(e.tensor);
              const raw = f.readRaw(e.tensor);
              const type = e.type as TqTypeName;
              const perBlock = Buffer.alloc(raw.length);
              encodeTqBlocks(type, t.trits, 0, t.scale.blockScales.length, t.scale.blockScales, 0, perBlock, e.tensor);
              assert.ok(perBlock.equals(raw), `${e.tensor} per-block scales`);
              const single = Buffer.alloc(raw.length);
              encodeTqBlocks(type, t.trits, 0, t.scale.blockScales.length, t.scale.tensorScale, 0, single, e.tensor);
              assert.ok(single.equals(raw), `${e.tensor} one scale`);
            }
          });
        });

        it("reads the float tensors", () => {
          withGguf(path, (f) => {
            const emb = f.readFloat("token_embd.weight");
            assert.equal(f.tensor("token_embd.weight").typeName, "F16");
            assert.equal(emb.length, model.vocab * model.hidden);
            assert.ok(emb.every((v) => Number.isFinite(v)));
            assert.equal(f.readFloat("output_norm.weight").length, model.hidden);
          });
        });
      });
    }
  });

  // ---- number formats ---------------------------------------------------------------------------

  describe("fp16 conversion", () => {
    it("round-trips every finite fp16 value", () => {
      for (let h = 0; h < 65536; h++) {
        const v = fp16ToF32(h);
        if (Number.isNaN(v)) continue;
        assert.equal(f32ToFp16(v), h, `h=${h.toString(16)}`);
      }
    });

    it("rounds to nearest, ties to even, with overflow and subnormals", () => {
      assert.equal(fp16ToF32(f32ToFp16(1 + 2 ** -11)), 1); // tie between 1 and 1+2^-10: even is 1
      assert.equal(fp16ToF32(f32ToFp16(1 + 3 * 2 ** -11)), 1 + 2 ** -9); // tie: even is 1+2^-9
      assert.equal(fp16ToF32(f32ToFp16(1 + 2 ** -11 + 2 ** -20)), 1 + 2 ** -10);
      assert.equal(fp16ToF32(f32ToFp16(65519)), 65504);
      assert.equal(fp16ToF32(f32ToFp16(65520)), Infinity);
      assert.equal(fp16ToF32(f32ToFp16(-1e9)), -Infinity);
      assert.equal(f32ToFp16(2 ** -24), 1);
      assert.equal(f32ToFp16(2 ** -25), 0); // tie with 0: even
      assert.equal(f32ToFp16(2 ** -25 * 1.5), 1);
      assert.equal(f32ToFp16(3 * 2 ** -25), 2); // tie between 1 and 2 subnormal units: even
      assert.equal(f32ToFp16(2 ** -14 - 2 ** -26), 0x400); // rounds up into the smallest normal
      assert.equal(f32ToFp16(-0), 0x8000);
      assert.ok(Number.isNaN(fp16ToF32(f32ToFp16(NaN))));
      assert.equal(roundToFp16(2.958984375), 2.958984375);
    });

    it("converts bf16", () => {
      assert.equal(bf16ToF32(0x3f80), 1);
      assert.equal(bf16ToF32(0xc040), -3);
    });
  });

  describe("TQ codecs", () => {
    it("TQ1_0 packs all 243 five-trit groups to ceil(v*256/243) and unpacks them back", () => {
      const seen = new Set<number>();
      for (let v = 0; v < 243; v++) {
        const digits = [4, 3, 2, 1, 0].map((p) => Math.floor(v / 3 ** p) % 3);
        const trits = digits.map((d) => d - 1) as [number, number, number, number, number];
        const byte = packTq1Byte(...trits);
        assert.equal(byte, Math.ceil((v * 256) / 243));
        for (let n = 0; n < 5; n++) assert.equal(unpackTq1Trit(byte, n), trits[n], `v=${v} n=${n}`);
        seen.add(byte);
      }
      assert.equal(seen.size, 243);
    });

    it("TQ2_0 and TQ1_0 blocks place weight i where REFERENCE.md §4 says", () => {
      const trits = new Int8Array(256);
      const rng = new Rng(3);
      for (let i = 0; i < 256; i++) trits[i] = rng.int(-1, 1);
      const q2 = Buffer.alloc(66);
      encodeTqBlocks("TQ2_0", trits, 0, 1, 1, 0, q2, "t");
      for (let i = 0; i < 256; i++) {
        const code = (q2[Math.floor(i / 128) * 32 + (i % 32)]! >> (2 * Math.floor((i % 128) / 32))) & 3;
        assert.equal(code - 1, trits[i]);
      }
      const q1 = Buffer.alloc(54);
      encodeTqBlocks("TQ1_0", trits, 0, 1, 1, 0, q1, "t");
      for (let i = 0; i < 256; i++) {
        const [byte, n] =
          i < 160 ? [q1[i % 32]!, Math.floor(i / 32)] : i < 240 ? [q1[32 + ((i - 160) % 16)]!, Math.floor((i - 160) / 16)] : [q1[48 + ((i - 240) % 4)]!, Math.floor((i - 240) / 4)];
        const t = ((((byte * 3 ** n) & 0xff) * 3) >> 8) - 1;
        assert.equal(t, trits[i], `i=${i}`);
      }
      assert.equal(q1.readUInt16LE(52), f32ToFp16(1));
    });
  });

  // ---- writer -----------------------------------------------------------------------------------

  /** Random trits of n x k with per-block scales; some blocks all zero (their scale 0). */
  function randomTernary(rng: Rng, n: number, k: number): { trits: Int8Array; scales: Float32Array } {
    const trits = new Int8Array(n * k);
    const blocks = (n * k) / 256;
    const scales = new Float32Array(blocks);
    for (let b = 0; b < blocks; b++) {
      const zeroBlock = b % 5 === 2;
      scales[b] = zeroBlock ? 0 : roundToFp16(0.1 + rng.float() * 3);
      if (!zeroBlock) for (let i = 0; i < 256; i++) trits[b * 256 + i] = rng.int(-1, 1);
    }
    return { trits, scales };
  }

  describe("GGUF writer", () => {
    for (const type of ["TQ1_0", "TQ2_0"] as const) {
      it(`round-trips ${type} with non-uniform block scales and all-zero blocks`, () => {
        const rng = new Rng(7);
        const a = randomTernary(rng, 6, 768);
        const path = join(tmp, `rt-${type}.gguf`);
        writeGguf(path, {
          metadata: [["general.architecture", gv.str("llama")]],
          tensors: [{ name: "w", type, shape: [6, 768], data: a }],
        });
        withGguf(path, (f) => {
          assert.equal(f.alignment, 32);
          assert.equal(f.getNumber("general.alignment"), 32);
          const t = f.readTernary("w");
          assert.deepEqual([t.n, t.k], [6, 768]);
          assert.deepEqual(t.trits, a.trits);
          assert.deepEqual(t.scale.blockScales, a.scales);
          assert.equal(t.scale.uniform, false);
          assert.equal(t.scale.tensorScale, Math.max(...a.scales));
        });
      });

      it(`writes ${type} with one scale like llama.cpp (all-zero blocks store 0), whole or row by row`, () => {
        const rng = new Rng(11);
        const n = 10;
        const k = 512;
        const { trits } = randomTernary(rng, n, k);
        const whole = join(tmp, `one-${type}.gguf`);
        const rows = join(tmp, `rows-${type}.gguf`);
        const meta: Array<readonly [string, GgufTypedValue]> = [["general.name", gv.str("x")]];
        writeGguf(whole, { metadata: meta, tensors: [{ name: "w", type, shape: [n, k], data: { trits, scales: 1.5 } }] });
        const calls: Array<[number, number]> = [];
        writeGguf(rows, {
          metadata: meta,
          tensors: [
            {
              name: "w",
              type,
              ne: [k, n],
              data: (first, count) => {
                calls.push([first, count]);
                return { trits: trits.slice(first * k, (first + count) * k), scales: 1.5 };
              },
            },
          ],
        });
        assert.ok(readFileSync(whole).equals(readFileSync(rows)));
        assert.deepEqual(calls, [[0, n]]);
        withGguf(whole, (f) => {
          const t = f.readTernary("w");
          assert.deepEqual(t.trits, trits);
          assert.equal(t.scale.uniform, true);
          assert.equal(t.scale.tensorScale, 1.5);
          for (let b = 0; b < t.scale.blockScales.length; b++) {
            const zero = trits.subarray(b * 256, (b + 1) * 256).every((v) => v === 0);
            assert.equal(t.scale.blockScales[b], zero ? 0 : 1.5);
          }
        });
      });
    }

    describe("I2_S (bitnet.cpp)", () => {
      const bitnetMeta: Array<readonly [string, GgufTypedValue]> = [["general.architecture", gv.str("bitnet-b1.58")]];

      it("places weight j of a 128-weight block in byte j%32 at shift 6-2(j/32), then the f32 scale", () => {
        const trits = new Int8Array(256);
        trits[0] = 1; // code 2 << 6
        trits[32] = -1; // code 0 << 4
        trits[64] = 0; // code 1 << 2
        trits[96] = 1; // code 2 << 0
        trits[128 + 5] = -1; // block 1, byte 5, shift 6: code 0 (the rest of that byte is 0 -> code 1)
        const p = join(tmp, "i2s-layout.gguf");
        writeGguf(p, { metadata: bitnetMeta, tensors: [{ name: "w", type: "I2_S", shape: [2, 128], data: { trits, scales: 0.75 } }] });
        const bytes = readFileSync(p);
        withGguf(p, (f) => {
          const t = f.tensor("w");
          assert.equal(t.typeName, "I2_S");
          assert.equal(t.typeId, 36);
          assert.equal(t.byteLength, 256 / 4 + 32);
          const d = t.dataOffset;
          assert.equal(bytes[d], 0x86);
          for (let j = 1; j < 32; j++) assert.equal(bytes[d + j], 0x55, `byte ${j}`);
          assert.equal(bytes[d + 32 + 5], 0x15);
          assert.equal(bytes.readFloatLE(d + 64), 0.75);
          assert.ok(bytes.subarray(d + 68, d + 96).every((b) => b === 0));
          const r = f.readTernary("w");
          assert.deepEqual(r.trits, trits);
          assert.deepEqual([r.scale.uniform, r.scale.tensorScale, r.scale.blockScales.length], [true, 0.75, 1]);
        });
      });

      it("round-trips whole and row by row (blocks may span rows) and inspects with the on-disk bits/weight", () => {
        const rng = new Rng(21);
        for (const [n, k] of [[6, 64], [5, 384], [300, 4096]] as const) {
          const trits = Int8Array.from({ length: n * k }, () => rng.int(-1, 1));
          const whole = join(tmp, `i2s-whole-${n}x${k}.gguf`);
          const rows = join(tmp, `i2s-rows-${n}x${k}.gguf`);
          writeGguf(whole, { metadata: bitnetMeta, tensors: [{ name: "w", type: "I2_S", shape: [n, k], data: { trits, scales: 2.5 } }] });
          writeGguf(rows, {
            metadata: bitnetMeta,
            tensors: [{ name: "w", type: "I2_S", shape: [n, k], data: (first, count) => ({ trits: trits.slice(first * k, (first + count) * k), scales: new Float32Array([2.5]) }) }],
          });
          assert.ok(readFileSync(whole).equals(readFileSync(rows)), `${n}x${k}`);
          withGguf(whole, (f) => {
            const r = f.readTernary("w");
            assert.deepEqual([r.n, r.k], [n, k]);
            assert.deepEqual(r.trits, trits);
            assert.equal(r.scale.tensorScale, 2.5);
            assert.equal(f.tensor("w").byteLength, (n * k) / 4 + 32);
          });
          const report = inspectGguf(whole);
          const t = report.tensors[0]!;
          assert.equal(t.bitsPerWeight, (((n * k) / 4 + 32) * 8) / (n * k));
          assert.deepEqual(t.ternary && [t.ternary.minus + t.ternary.zero + t.ternary.plus, t.ternary.scale.uniform], [n * k, true]);
        }
      });

      it("rejects code 3 naming tensor and byte, non-bitnet files, odd sizes and per-block scales", () => {
        const p = join(tmp, "i2s-code3.gguf");
        writeGguf(p, { metadata: bitnetMeta, tensors: [{ name: "w", type: "I2_S", shape: [2, 128], data: { trits: new Int8Array(256), scales: 1 } }] });
        const bytes = readFileSync(p);
        const d = withGguf(p, (f) => f.tensor("w").dataOffset);
        bytes[d + 40] = 0x5d; // 01 01 11 01: code 3 at shift 2
        writeFileSync(p, bytes);
        withGguf(p, (f) => throwsUser(() => f.readTernary("w"), new RegExp(`I2_S tensor "w" holds the 2-bit code 3, which is not a trit \\(at byte ${d + 40}\\)`)));
        const w = (name: string, meta: Array<readonly [string, GgufTypedValue]>, shape: number[], scales: number | Float32Array) => (): void =>
          writeGguf(join(tmp, name), { metadata: meta, tensors: [{ name: "w", type: "I2_S", shape, data: { trits: new Int8Array(shape[0]! * shape[1]!), scales } }] });
        throwsUser(w("i2s-llama.gguf", [["general.architecture", gv.str("llama")]], [2, 128], 1), /I2_S is a bitnet\.cpp type, written only when general\.architecture is a bitnet one \(this file's is "llama"\)/);
        throwsUser(w("i2s-none.gguf", [], [2, 128], 1), /this file's is "unset"/);
        throwsUser(w("i2s-odd.gguf", bitnetMeta, [3, 64], 1), /192 elements are not a whole number of 128-weight I2_S blocks/);
        throwsUser(w("i2s-blocks.gguf", bitnetMeta, [2, 128], new Float32Array(2)), /I2_S stores one per-tensor scale/);
        for (const name of ["i2s-llama.gguf", "i2s-none.gguf", "i2s-odd.gguf", "i2s-blocks.gguf"]) assert.ok(!existsSync(join(tmp, name)));
      });
    });

    it("round-trips F32 and F16 tensors of several dimensions", () => {
      const rng = new Rng(5);
      const f32 = Float32Array.from({ length: 2 * 3 * 40 }, () => (rng.float() - 0.5) * 100);
      const f16 = Float32Array.from({ length: 70 * 33 }, () => (rng.float() - 0.5) * 10);
      const path = join(tmp, "floats.gguf");
      writeGguf(path, {
        metadata: [],
        tensors: [
          { name: "a", type: "F32", shape: [2, 3, 40], data: f32 },
          { name: "b", type: "F16", shape: [70, 33], data: f16 },
          { name: "c", type: "F32", ne: [5], data: new Float32Array([1, 2, 3, 4, 5]) },
        ],
      });
      withGguf(path, (f) => {
        assert.deepEqual(f.tensor("a").ne, [40, 3, 2]);
        assert.deepEqual(f.tensor("a").shape, [6, 40]);
        assert.deepEqual(f.readFloat("a"), f32);
        assert.deepEqual(f.readFloat("b"), f16.map(roundToFp16));
        assert.deepEqual(f.readFloat("c"), new Float32Array([1, 2, 3, 4, 5]));
        for (const t of f.tensors) assert.equal((t.dataOffset - f.dataStart) % 32, 0);
      });
    });

    it("round-trips metadata of every value type", () => {
      const path = join(tmp, "meta.gguf");
      const metadata: Array<readonly [string, GgufTypedValue]> = [
        ["u8", gv.u8(255)],
        ["i8", gv.i8(-128)],
        ["u16", gv.u16(65535)],
        ["i16", gv.i16(-32768)],
        ["u32", gv.u32(4294967295)],
        ["i32", gv.i32(-2147483648)],
        ["f32", gv.f32(0.5)],
        ["f64", gv.f64(Math.PI)],
        ["u64", gv.u64(2n ** 64n - 1n)],
        ["i64", gv.i64(-(2n ** 63n))],
        ["bool", gv.bool(true)],
        ["str", gv.str("héllo wörld")],
        ["tokens", gv.array("string", ["<s>", "</s>", "ünï"])],
        ["scores", gv.array("f32", [0, -1.5, 2])],
        ["empty", gv.array("i32", [])],
      ];
      writeGguf(path, { metadata, tensors: [] });
      withGguf(path, (f) => {
        for (const [key, value] of metadata) assert.deepEqual(f.typedMetadata.get(key), value, key);
        assert.equal(f.metadata.get("u64"), 2n ** 64n - 1n);
        assert.deepEqual(f.metadata.get("tokens"), ["<s>", "</s>", "ünï"]);
        assert.equal(f.tensors.length, 0);
        assert.deepEqual([...f.metadata.keys()].slice(-1), ["general.alignment"]);
      });
    });

    it("rejects bad tensors and metadata with a UserError and leaves no file behind", () => {
      const path = join(tmp, "bad-write.gguf");
      const write = (tensors: GgufWriteTensor[], metadata: Array<readonly [string, GgufTypedValue]> = []): void =>
        writeGguf(path, { metadata, tensors });
      const trits = new Int8Array(512);
      throwsUser(() => write([{ name: "w", type: "TQ2_0", shape: [2, 200], data: { trits: new Int8Array(400), scales: 1 } }]), /not a whole number of TQ2_0 blocks/);
      throwsUser(() => write([{ name: "w", type: "TQ2_0", shape: [2, 256], data: { trits: new Int8Array(500), scales: 1 } }]), /500 values, expected 512/);
      throwsUser(() => write([{ name: "w", type: "TQ1_0", shape: [2, 256], data: { trits: new Int8Array(512).fill(2), scales: 1 } }]), /not a trit/);
      throwsUser(() => write([{ name: "w", type: "TQ1_0", shape: [2, 256], data: { trits, scales: new Float32Array(1) } }]), /1 block scales given, expected 2/);
      throwsUser(
        () => write([{ name: "w", type: "F32", ne: [2], data: new Float32Array(2) }, { name: "w", type: "F32", ne: [2], data: new Float32Array(2) }]),
        /duplicate tensor name "w"/,
      );
      throwsUser(() => write([{ name: "x".repeat(64), type: "F32", ne: [1], data: new Float32Array(1) }]), /name must be 1 to 63 bytes/);
      throwsUser(() => write([], [["k", gv.u8(256)]]), /"k".*not an integer in \[0, 255\]/);
      throwsUser(() => write([], [["general.alignment", gv.u32(48)]]), /power of two/);
      throwsUser(() => write([], [["k", gv.u32(1)], ["k", gv.u32(2)]]), /duplicate GGUF metadata key "k"/);
      assert.ok(!existsSync(path));
      assert.deepEqual(readdirSync(tmp).filter((n) => n.endsWith(".tmp")), []);
    });
  });

  // ---- make-model and inspect ---------------------------------------------------------------------

  describe("makeLlamaModel", () => {
    for (const format of ["tq2_0", "tq1_0"] as const) {
      it(`writes a llama-style ${format} model whose inspect report matches the request`, () => {
        const path = join(tmp, `made-${format}.gguf`);
        const opts = { path, format, hidden: 512, ffn: 768, layers: 2, heads: 8, kvHeads: 2, vocab: 300, seed: 42, zeroFraction: 0.4 };
        const result = makeLlamaModel(opts);
        assert.equal(result.tensorCount, 2 + 9 * 2 + 1);
        const report = inspectGguf(path);
        assert.equal(report.architecture, "llama");
        assert.deepEqual({ ...report.dimensions }, { hidden: 512, ffn: 768, layers: 2, heads: 8, kvHeads: 2, headDim: 64, vocab: 300 });
        const byName = new Map(report.tensors.map((t) => [t.name, t]));
        const type = format.toUpperCase();
        assert.deepEqual(byName.get("blk.1.attn_k.weight")?.shape, [128, 512]);
        assert.deepEqual(byName.get("blk.0.ffn_down.weight")?.shape, [512, 768]);
        assert.equal(byName.get("blk.0.ffn_up.weight")?.type, type);
        assert.equal(byName.get("token_embd.weight")?.type, "F16");
        assert.deepEqual(byName.get("output.weight")?.shape, [300, 512]);
        assert.equal(byName.get("output_norm.weight")?.type, "F32");
        const ternary = report.tensors.filter((t) => t.ternary);
        assert.equal(ternary.length, 14);
        let zeros = 0;
        let total = 0;
        for (const t of ternary) {
          assert.equal(t.type, type);
          assert.equal(t.ternary!.scale.uniform, true);
          assert.ok(t.ternary!.scale.value > 0);
          zeros += t.ternary!.zero;
          total += t.elements;
          const { minus, plus } = t.ternary!;
          assert.ok(Math.abs(minus - plus) < 0.05 * (minus + plus), `${t.name} signs balanced`);
        }
        assert.equal(total, result.ternaryWeights);
        assert.ok(Math.abs(zeros / total - 0.4) < 0.01, `zero fraction ${zeros / total}`);
        withGguf(path, (f) => {
          assert.equal(f.getNumber("general.file_type"), format === "tq1_0" ? 36 : 37);
          assert.equal(f.getNumber("llama.rope.dimension_count"), 64);
          assert.equal(f.typedMetadata.get("llama.attention.layer_norm_rms_epsilon")?.type, "f32");
        });
        const text = formatInspect(report);
        assert.match(text, /hidden 512, ffn 768, layers 2, heads 8, kv heads 2, head dim 64, vocab 300/);
        assert.match(text, /blk\.1\.attn_k\.weight +TQ\d_0 +128 x 512/);
      });
    }

    it("is deterministic for a seed, and all-zero trits give scale 0", () => {
      const base = { format: "tq2_0" as const, hidden: 256, ffn: 256, layers: 1, heads: 2, kvHeads: 1, vocab: 8, seed: 9 };
      makeLlamaModel({ ...base, path: join(tmp, "d1.gguf") });
      makeLlamaModel({ ...base, path: join(tmp, "d2.gguf") });
      assert.ok(readFileSync(join(tmp, "d1.gguf")).equals(readFileSync(join(tmp, "d2.gguf"))));
      makeLlamaModel({ ...base, path: join(tmp, "z.gguf"), zeroFraction: 1 });
      const q = inspectGguf(join(tmp, "z.gguf")).tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
      assert.deepEqual([q.ternary!.zero, q.ternary!.scale.value], [256 * 256, 0]);
    });

    it("validates its options", () => {
      const ok = { path: join(tmp, "v.gguf"), format: "tq2_0" as const, hidden: 512, ffn: 1024, layers: 1, heads: 8, kvHeads: 2, vocab: 10 };
      throwsUser(() => makeLlamaModel({ ...ok, hidden: 0 }), /hidden must be a positive integer/);
      throwsUser(() => makeLlamaModel({ ...ok, layers: 1.5 }), /layers must be a positive integer/);
      throwsUser(() => makeLlamaModel({ ...ok, heads: 7 }), /hidden \(512\) must be divisible by heads \(7\)/);
      throwsUser(() => makeLlamaModel({ ...ok, kvHeads: 3 }), /heads \(8\) must be divisible by kvHeads \(3\)/);
      throwsUser(() => makeLlamaModel({ ...ok, ffn: 1000 }), /ffn \(1000\) must be a multiple of 256/);
      throwsUser(() => makeLlamaModel({ ...ok, hidden: 384, heads: 6, kvHeads: 2 }), /hidden \(384\) must be a multiple of 256/);
      throwsUser(() => makeLlamaModel({ ...ok, zeroFraction: 1.5 }), /zeroFraction/);
      assert.ok(!existsSync(ok.path));
    });
  });

  // ---- corrupt and unusual files ------------------------------------------------------------------

  interface RawTensorInfo {
    name: string;
    ne: number[];
    type: number;
    offset: number | bigint;
  }

  /** Builds a GGUF byte by byte, so tests can put anything anywhere. */
  function rawGguf(opts: {
    magic?: string;
    version?: number;
    kv?: Array<(s: ByteSink) => void>;
    tensors?: RawTensorInfo[];
    counts?: [bigint, bigint];
    dataBytes?: number;
  }): Buffer {
    const s = new ByteSink();
    for (const ch of opts.magic ?? "GGUF") s.u8(ch.charCodeAt(0));
    s.u32(opts.version ?? 3);
    const tensors = opts.tensors ?? [];
    const kv = opts.kv ?? [];
    s.u64(opts.counts?.[0] ?? BigInt(tensors.length));
    s.u64(opts.counts?.[1] ?? BigInt(kv.length));
    for (const write of kv) write(s);
    for (const t of tensors) {
      s.string(t.name);
      s.u32(t.ne.length);
      for (const d of t.ne) s.u64(d);
      s.u32(t.type);
      s.u64(t.offset);
    }
    s.zeros((32 - (s.length % 32)) % 32);
    s.zeros(opts.dataBytes ?? 0);
    return Buffer.from(s.bytes());
  }

  const strKv = (key: string, value: string) => (s: ByteSink): void => {
    s.string(key);
    s.u32(8);
    s.string(value);
  };

  describe("GGUF reader on bad input", () => {
    const file = (name: string, bytes: Uint8Array): string => {
      const p = join(tmp, name);
      writeFileSync(p, bytes);
      return p;
    };

    it("rejects a missing file", () => {
      throwsUser(() => openGguf(join(tmp, "nope.gguf")), /nope\.gguf: cannot open \(ENOENT\)/);
    });

    it("rejects a wrong magic", () => {
      throwsUser(() => openGguf(file("magic.gguf", rawGguf({ magic: "GGML" }))), /magic\.gguf: not a GGUF file: magic is "GGML", expected "GGUF" \(at byte 0\)/);
    });

    it("rejects unsupported versions", () => {
      throwsUser(() => openGguf(file("v1.gguf", rawGguf({ version: 1 }))), /unsupported GGUF version 1, expected 2 or 3 \(at byte 4\)/);
      throwsUser(() => openGguf(file("vbe.gguf", rawGguf({ version: 0x03000000 }))), /unsupported GGUF version 50331648 \(a big-endian GGUF file\?\)/);
      assert.equal(withGguf(file("v2.gguf", rawGguf({ version: 2 })), (f) => f.version), 2);
    });

    it("reports truncation at any offset, naming the file and byte", () => {
      const fixture = join(modelsDir, "tiny-llama-tq2_0.gguf");
      const size = readFileSync(fixture).length;
      const cuts = [0, 3, 6, 10, 20, 24, 60, 200, 700, 1200, 1638, 1639, 1650, 1664, 100000, size - 1];
      for (const cut of cuts) {
        const p = join(tmp, `cut-${cut}.gguf`);
        copyFileSync(fixture, p);
        truncateSync(p, cut);
        throwsUser(() => openGguf(p), new RegExp(`cut-${cut}\\.gguf: truncated file.*(at byte \\d+|runs past the end of the file at byte ${cut})`));
      }
    });

    it("reports truncation at every prefix of a small file with every metadata type", () => {
      const whole = join(tmp, "prefix-src.gguf");
      writeGguf(whole, {
        metadata: [
          ["general.architecture", gv.str("llama")],
          ["a", gv.u8(1)], ["b", gv.i16(-2)], ["c", gv.u64(3)], ["d", gv.f64(4)], ["e", gv.bool(false)],
          ["f", gv.array("string", ["x", "yz"])], ["g", gv.array("u16", [1, 2, 3])],
        ],
        tensors: [
          { name: "w", type: "TQ1_0", shape: [1, 256], data: { trits: new Int8Array(256), scales: 1 } },
          { name: "v", type: "F16", shape: [3], data: new Float32Array(3) },
        ],
      });
      const bytes = readFileSync(whole);
      // The writer pads after the last tensor; only cuts before the end of its data lose anything.
      const dataEnd = withGguf(whole, (f) => Math.max(...f.tensors.map((t) => t.dataOffset + t.byteLength!)));
      assert.ok(dataEnd < bytes.length);
      const p = join(tmp, "prefix.gguf");
      for (let cut = 0; cut < dataEnd; cut++) {
        writeFileSync(p, bytes.subarray(0, cut));
        throwsUser(() => openGguf(p), /prefix\.gguf: truncated file/);
      }
      writeFileSync(p, bytes.subarray(0, dataEnd));
      withGguf(p, (f) => assert.equal(f.readFloat("v").length, 3));
      writeFileSync(p, bytes);
      withGguf(p, (f) => assert.deepEqual(f.metadata.get("g"), [1, 2, 3]));
    });

    it("rejects an unknown tensor type id", () => {
      const p = file("type99.gguf", rawGguf({ tensors: [{ name: "w", ne: [256, 2], type: 99, offset: 0 }], dataBytes: 1024 }));
      throwsUser(() => openGguf(p), /tensor "w" has unknown tensor type id 99 \(at byte \d+\)/);
    });

    it("knows bitnet.cpp's type ids only in bitnet files", () => {
      const tensors = [{ name: "w", ne: [128, 2], type: 36, offset: 0 }];
      const llama = file("i2s-llama.gguf", rawGguf({ kv: [strKv("general.architecture", "llama")], tensors, dataBytes: 128 }));
      throwsUser(() => openGguf(llama), /unknown tensor type id 36 \(ids 36-39 are bitnet\.cpp types only .*"llama"\)/);
      const bitnet = file("i2s-bitnet.gguf", rawGguf({ kv: [strKv("general.architecture", "bitnet-b1.58")], tensors, dataBytes: 128 }));
      withGguf(bitnet, (f) => {
        assert.equal(f.tensor("w").typeName, "I2_S");
        assert.equal(f.tensor("w").byteLength, 256 / 4 + 32);
        const t = f.readTernary("w"); // all-zero bytes: code 0 everywhere, i.e. -1, scale 0
        assert.ok(t.trits.every((v) => v === -1));
        assert.deepEqual([t.n, t.k, t.scale.uniform, t.scale.tensorScale], [2, 128, true, 0]);
      });
    });

    it("rejects I2_S tensors whose element count is not a multiple of 128", () => {
      const bitnet = [strKv("general.architecture", "bitnet")];
      const p = file("i2s-odd.gguf", rawGguf({ kv: bitnet, tensors: [{ name: "w", ne: [64, 3], type: 36, offset: 0 }], dataBytes: 128 }));
      throwsUser(() => openGguf(p), /tensor "w" of type I2_S has 192 elements, not a whole number of 128-weight blocks/);
      const q = file("i2s-ok.gguf", rawGguf({ kv: bitnet, tensors: [{ name: "w", ne: [64, 4], type: 36, offset: 0 }], dataBytes: 128 }));
      withGguf(q, (f) => assert.equal(f.readTernary("w").trits.length, 256));
    });

    it("rejects rows that are not a whole number of blocks", () => {
      const p = file("k100.gguf", rawGguf({ tensors: [{ name: "w", ne: [100, 2], type: 35, offset: 0 }], dataBytes: 1024 }));
      throwsUser(() => openGguf(p), /tensor "w" of type TQ2_0 has rows of 100 elements, not a whole number of 256-element blocks/);
    });

    it("rejects absurd string lengths, array counts and tensor counts before allocating", () => {
      const longKey = (s: ByteSink): void => s.u64(2n ** 40n);
      throwsUser(() => openGguf(file("longkey.gguf", rawGguf({ kv: [longKey], dataBytes: 64 }))), /corrupt length: key of metadata entry #0 claims 1099511627776 bytes but only \d+ remain/);
      const hugeArray = (s: ByteSink): void => {
        s.string("tokenizer.ggml.tokens");
        s.u32(9);
        s.u32(8);
        s.u64(1n << 40n);
      };
      throwsUser(() => openGguf(file("hugearray.gguf", rawGguf({ kv: [hugeArray], dataBytes: 64 }))), /corrupt length: metadata "tokenizer\.ggml\.tokens" claims 1099511627776 array items/);
      throwsUser(() => openGguf(file("counts.gguf", rawGguf({ counts: [1n << 50n, 0n] }))), /truncated file or absurd counts: 1125899906842624 tensors and 0 metadata entries need at least \d+ more bytes but only \d+ remain/);
      throwsUser(() => openGguf(file("counts64.gguf", rawGguf({ counts: [2n ** 64n - 1n, 0n] }))), /tensor count is absurdly large/);
    });

    it("rejects unknown metadata value types and duplicate keys", () => {
      const badType = (s: ByteSink): void => {
        s.string("k");
        s.u32(13);
      };
      throwsUser(() => openGguf(file("vtype.gguf", rawGguf({ kv: [badType] }))), /metadata "k" has unknown value type 13/);
      throwsUser(() => openGguf(file("dupkey.gguf", rawGguf({ kv: [strKv("a", "x"), strKv("a", "y")] }))), /duplicate metadata key "a"/);
      const badAlign = (s: ByteSink): void => {
        s.string("general.alignment");
        s.u32(4);
        s.u32(24);
      };
      throwsUser(() => openGguf(file("align.gguf", rawGguf({ kv: [badAlign] }))), /"general\.alignment" is 24 \(u32\), expected a power of two/);
    });

    it("rejects misaligned, overlapping and out-of-file tensor data and duplicate names", () => {
      const f32 = (name: string, offset: number): RawTensorInfo => ({ name, ne: [8], type: 0, offset });
      throwsUser(() => openGguf(file("misaligned.gguf", rawGguf({ tensors: [f32("a", 4)], dataBytes: 64 }))), /tensor "a" data offset 4 is not a multiple of the alignment 32/);
      throwsUser(
        () => openGguf(file("overlap.gguf", rawGguf({ tensors: [f32("a", 0), { name: "b", ne: [16], type: 0, offset: 32 }, f32("c", 64)], dataBytes: 128 }))),
        /tensor "c" data at byte \d+ overlaps tensor "b"/,
      );
      throwsUser(() => openGguf(file("pastend.gguf", rawGguf({ tensors: [f32("a", 0), f32("b", 64)], dataBytes: 64 }))), /truncated file: tensor "b" data .* runs past the end/);
      throwsUser(() => openGguf(file("dupname.gguf", rawGguf({ tensors: [f32("a", 0), f32("a", 32)], dataBytes: 64 }))), /duplicate tensor name "a"/);
      throwsUser(() => openGguf(file("dims.gguf", rawGguf({ tensors: [{ name: "a", ne: [1, 1, 1, 1, 1], type: 0, offset: 0 }], dataBytes: 32 }))), /tensor "a" has 5 dimensions, expected 1 to 4/);
    });

    it("rejects the TQ2_0 code 3 and reading a tensor as the wrong kind", () => {
      const p = join(tmp, "code3.gguf");
      writeGguf(p, { metadata: [], tensors: [{ name: "w", type: "TQ2_0", shape: [1, 256], data: { trits: new Int8Array(256), scales: 1 } }] });
      const bytes = readFileSync(p);
      const dataStart = withGguf(p, (f) => f.tensor("w").dataOffset);
      bytes[dataStart + 5] = 0xff;
      writeFileSync(p, bytes);
      withGguf(p, (f) => {
        throwsUser(() => f.readTernary("w"), /tensor "w" block 0 holds the 2-bit code 3/);
        throwsUser(() => f.readFloat("w"), /tensor "w" is TQ2_0, not a float type/);
      });
    });

    it("names the tensors that exist when asked for an unknown one", () => {
      withGguf(join(modelsDir, "tiny-llama-tq2_0.gguf"), (f) => {
        throwsUser(() => f.tensor("foo"), /^unknown tensor "foo" in tiny-llama-tq2_0\.gguf; tensors: token_embd\.weight, blk\.0\.attn_norm\.weight, .*, \.\.\. \(8 more\)$/);
        throwsUser(() => f.readTernary("blk.0.attn_norm.weight"), /is F32, not a ternary type/);
      });
      const p = join(tmp, "few.gguf");
      writeGguf(p, { metadata: [], tensors: ["a", "b", "c"].map((name) => ({ name, type: "F32" as const, ne: [1], data: new Float32Array(1) })) });
      withGguf(p, (f) => throwsUser(() => f.readFloat("foo"), /^unknown tensor "foo" in few\.gguf; tensors: a, b, c$/));
    });
  });

  describe("decode speed", function () {
    slowSuite(this);
    it("decodes TQ1_0 and TQ2_0 at over 100 M weights/s", function () {
      for (const format of ["tq1_0", "tq2_0"] as const) {
        const path = join(tmp, `speed-${format}.gguf`);
        makeLlamaModel({ path, format, hidden: 2048, ffn: 4096, layers: 1, heads: 16, kvHeads: 16, vocab: 8 });
        withGguf(path, (f) => {
          const names = f.tensors.filter((t) => t.typeName.startsWith("TQ")).map((t) => t.name);
          const start = performance.now();
          let weights = 0;
          for (const name of names) weights += f.readTernary(name).trits.length;
          const rate = weights / ((performance.now() - start) / 1000);
          assert.ok(rate > 100e6, `${format}: ${(rate / 1e6).toFixed(0)} M weights/s`);
        });
      }
    });
  });
});
