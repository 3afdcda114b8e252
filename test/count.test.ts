/**
 * countTernary (counting trits straight from the packed bytes) must give exactly what decoding
 * with readTernary and counting would: the same counts, the same scale summary and the same errors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { countTrits, type TernaryCounts } from "../src/model/types.js";
import { withGguf } from "../src/model/gguf.js";
import { GgufModelReader } from "../src/model/gguf-model.js";
import { HfBitnetReader } from "../src/model/hf-bitnet.js";
import { writeHfBitnet } from "../src/model/hf-writer.js";
import { writeGguf } from "../src/model/gguf-writer.js";
import { gv, type GgufTypedValue } from "../src/model/gguf-value.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { openModel } from "../src/model/open.js";
import { inspectModel } from "../src/model/inspect.js";
import { countTernary, type ModelReader } from "../src/model/reader.js";
import { decodeTqBlocks, packTq1Byte, TQ1_BLOCK_BYTES, TQ2_BLOCK_BYTES } from "../src/model/tq-codec.js";
import { openSafetensors } from "../src/model/safetensors.js";
import { alignedChunk, countCode2Bytes, countTqBlocks } from "../src/model/trit-count.js";
import { FIXTURES, randomTrits } from "./helpers.js";

/** A reader with a countTernary that also takes a chunk size. */
type CountingReader = ModelReader & { countTernary(name: string, chunkBytes?: number): TernaryCounts };

/** What decoding and counting gives. */
function decodedCounts(reader: ModelReader, name: string): TernaryCounts {
  const t = reader.readTernary(name);
  return { ...countTrits(t.trits), scale: t.scale };
}

/** The error fn throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected an error");
}

/** Chunk sizes that cut blocks and bytes at awkward places, and the default. */
const CHUNKS = [undefined, 1, 7, 66 * 3 + 1, 54 * 5, 4096];

/** Every ternary tensor counts as it decodes, whatever the chunk size; returns how many were checked. */
function checkAll(path: string): number {
  const reader = openModel(path) as CountingReader;
  try {
    const names = reader.listTensors().filter((t) => t.ternary).map((t) => t.name);
    assert.ok(names.length > 0, `${path} has ternary tensors`);
    for (const name of names) {
      const expected = decodedCounts(reader, name);
      for (const chunk of CHUNKS) assert.deepEqual(reader.countTernary(name, chunk), expected, `${name}, chunk ${chunk}`);
      assert.deepEqual(countTernary(reader, name), expected, name);
    }
    return names.length;
  } finally {
    reader.close();
  }
}

/** Both paths must fail with the same UserError. */
function sameError(reader: CountingReader, name: string, ...patterns: RegExp[]): void {
  const decoded = thrown(() => reader.readTernary(name));
  assert.ok(decoded instanceof UserError, String(decoded));
  for (const p of patterns) assert.match(decoded.message, p);
  for (const chunk of CHUNKS) {
    const counted = thrown(() => reader.countTernary(name, chunk));
    assert.ok(counted instanceof UserError, String(counted));
    assert.equal(counted.message, decoded.message, `chunk ${chunk}`);
  }
}

describe("countTernary: trit counts and scales without decoding", () => {
  let tmp = "";
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "trilut-count-"));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("agrees with readTernary on every ternary tensor", () => {
    for (const file of ["tiny-llama-tq2_0.gguf", "tiny-llama-tq1_0.gguf", "tiny-bitnet-hf"]) {
      it(`of the fixture ${file}`, () => {
        assert.ok(checkAll(join(FIXTURES, file)) >= 14);
      });
    }

    for (const format of ["tq1_0", "tq2_0", "i2_s", "hf-bitnet"] as const) {
      it(`of a bitnet-b1.58 make-model ${format} model`, () => {
        const path = join(tmp, `made-${format}${format === "hf-bitnet" ? "" : ".gguf"}`);
        makeLlamaModel({ path, format, architecture: "bitnet-b1.58", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 1, vocab: 16, seed: 3, zeroFraction: 0.5 });
        assert.equal(checkAll(path), 14);
      });
    }

    it("and inspect reports the same whether the reader counts or decodes", () => {
      for (const file of ["tiny-llama-tq1_0.gguf", "tiny-bitnet-hf"]) {
        const reader = openModel(join(FIXTURES, file));
        try {
          const decodeOnly: ModelReader = {
            path: reader.path,
            formatLabel: reader.formatLabel,
            fileBytes: reader.fileBytes,
            architecture: reader.architecture,
            readFloat: (name) => reader.readFloat(name),
            ...(reader.metadata ? { metadata: reader.metadata } : {}),
            ...(reader.config ? { config: reader.config } : {}),
            dimensions: () => reader.dimensions(),
            listTensors: () => reader.listTensors(),
            readTernary: (name) => reader.readTernary(name),
            close: () => undefined,
          };
          assert.deepEqual(inspectModel(reader), inspectModel(decodeOnly), file);
        } finally {
          reader.close();
        }
      }
    });
  });

  describe("block scales", () => {
    const meta: Array<readonly [string, GgufTypedValue]> = [["general.architecture", gv.str("llama")]];
    const k = 1024; // four 256-weight blocks per row

    /** Two rows of trits with the given 256-blocks all zero. */
    function trits(zeroBlocks: readonly number[]): Int8Array {
      const t = randomTrits(new Rng(5), 2, k).trits;
      for (const b of zeroBlocks) t.fill(0, b * 256, (b + 1) * 256);
      return t;
    }

    for (const type of ["TQ1_0", "TQ2_0"] as const) {
      it(`${type}: all-zero blocks, per-block scales, negative and non-uniform scales`, () => {
        const cases: Array<{ name: string; zero: number[]; scales: number | number[]; uniform: boolean; tensorScale: number }> = [
          // one scale: the writer stores 0 in all-zero blocks, which uniformity ignores
          { name: "one", zero: [1, 6], scales: 1.5, uniform: true, tensorScale: 1.5 },
          // an all-zero block with its own (larger) d is ignored too
          { name: "ignored", zero: [2], scales: [2, 2, 7, 2, 2, 2, 2, 2], uniform: true, tensorScale: 2 },
          // differing d in blocks with weights: the largest |d| stands for the tensor
          { name: "mixed", zero: [], scales: [1, 1, 1, -3, 1, 1, 2, 1], uniform: false, tensorScale: -3 },
          { name: "zeroes", zero: [0, 1, 2, 3, 4, 5, 6, 7], scales: [0, 0.5, 0, 0, 0, 0, 0, 0], uniform: true, tensorScale: 0.5 },
          { name: "nothing", zero: [0, 1, 2, 3, 4, 5, 6, 7], scales: 1.5, uniform: true, tensorScale: 0 },
        ];
        const path = join(tmp, `scales-${type}.gguf`);
        writeGguf(path, {
          metadata: meta,
          tensors: cases.map((c) => ({
            name: c.name,
            type,
            shape: [2, k],
            data: { trits: trits(c.zero), scales: typeof c.scales === "number" ? c.scales : Float32Array.from(c.scales) },
          })),
        });
        const reader = new GgufModelReader(path);
        try {
          for (const c of cases) {
            const counted = reader.countTernary(c.name);
            assert.deepEqual(counted, decodedCounts(reader, c.name), c.name);
            assert.deepEqual([counted.scale.uniform, counted.scale.tensorScale], [c.uniform, c.tensorScale], c.name);
            for (const chunk of CHUNKS) assert.deepEqual(reader.countTernary(c.name, chunk), counted, `${c.name}, chunk ${chunk}`);
          }
        } finally {
          reader.close();
        }
      });
    }
  });

  describe("the code 3 gives readTernary's error", () => {
    it("TQ2_0, naming the block and its byte offset", () => {
      const path = join(tmp, "code3-tq2.gguf");
      const data = { trits: randomTrits(new Rng(2), 4, 512).trits, scales: 1 };
      writeGguf(path, { metadata: [], tensors: [{ name: "ok", type: "TQ2_0", shape: [4, 512], data }, { name: "w", type: "TQ2_0", shape: [4, 512], data }] });
      const start = withGguf(path, (f) => f.tensor("w").dataOffset);
      const bytes = readFileSync(path);
      bytes[start + 5 * TQ2_BLOCK_BYTES + 17] = 0xc5; // block 5: codes 1, 1, 0, 3
      bytes[start + 6 * TQ2_BLOCK_BYTES + 3] = 0xff;
      writeFileSync(path, bytes);
      const reader = new GgufModelReader(path);
      try {
        assert.deepEqual(reader.countTernary("ok"), decodedCounts(reader, "ok"));
        sameError(reader, "w", /tensor "w" block 5 holds the 2-bit code 3/, new RegExp(`at byte ${start + 5 * TQ2_BLOCK_BYTES}\\)`));
      } finally {
        reader.close();
      }
    });

    it("I2_S, naming the first bad byte", () => {
      const path = join(tmp, "code3-i2s.gguf");
      const trits = randomTrits(new Rng(4), 8, 512).trits;
      writeGguf(path, { metadata: [["general.architecture", gv.str("bitnet-b1.58")]], tensors: [{ name: "w", type: "I2_S", shape: [8, 512], data: { trits, scales: 0.5 } }] });
      const start = withGguf(path, (f) => f.tensor("w").dataOffset);
      const reader0 = new GgufModelReader(path);
      try {
        assert.deepEqual(reader0.countTernary("w"), decodedCounts(reader0, "w"));
      } finally {
        reader0.close();
      }
      const bytes = readFileSync(path);
      bytes[start + 301] = 0x37; // codes 0, 3, 1, 1 (shift 6 first)
      bytes[start + 700] = 0xff;
      writeFileSync(path, bytes);
      const reader = new GgufModelReader(path);
      try {
        sameError(reader, "w", /I2_S tensor "w" holds the 2-bit code 3/, new RegExp(`at byte ${start + 301}\\)`));
      } finally {
        reader.close();
      }
    });

    it("Hugging Face packed U8, naming the byte in the tensor and the file, also in an odd last byte", () => {
      const dir = join(tmp, "code3-hf");
      const a = randomTrits(new Rng(8), 4, 3); // 3 bytes: the last one counted alone
      const b = randomTrits(new Rng(9), 64, 45); // 720 bytes
      writeHfBitnet(dir, {
        config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 8 },
        tensors: [
          { name: "a.weight", kind: "ternary", ...a, scale: 2 },
          { name: "b.weight", kind: "ternary", ...b, scale: 0.25 },
        ],
      });
      const file = join(dir, "model.safetensors");
      let reader = new HfBitnetReader(dir);
      try {
        for (const name of ["a.weight", "b.weight"]) {
          for (const chunk of CHUNKS) assert.deepEqual(reader.countTernary(name, chunk), decodedCounts(reader, name), `${name}, chunk ${chunk}`);
        }
      } finally {
        reader.close();
      }
      const st = openSafetensors(file);
      const [offA, offB] = [st.tensor("a.weight").fileOffset, st.tensor("b.weight").fileOffset];
      st.close();
      const bytes = readFileSync(file);
      bytes[offA + 2] = 0b11000000;
      bytes[offB + 501] = 0b00001100;
      bytes[offB + 502] = 0b11111111;
      writeFileSync(file, bytes);
      reader = new HfBitnetReader(dir);
      try {
        sameError(reader, "a.weight", /tensor "a\.weight"/, /code 3 in byte 2 of the tensor/, new RegExp(`file byte ${offA + 2}\\)`));
        sameError(reader, "b.weight", /tensor "b\.weight"/, /code 3 in byte 501 of the tensor/, new RegExp(`file byte ${offB + 501}\\)`));
      } finally {
        reader.close();
      }
    });
  });

  describe("the counting tables", () => {
    /** Random blocks of `blockBytes` with an fp16 d at the end. */
    function randomBlocks(rng: Rng, nBlocks: number, blockBytes: number, byte: () => number): Uint8Array {
      const src = alignedChunk(nBlocks * blockBytes);
      for (let b = 0; b < nBlocks; b++) {
        for (let i = 0; i < blockBytes - 2; i++) src[b * blockBytes + i] = byte();
        src[b * blockBytes + blockBytes - 2] = rng.int(0, 255);
        src[b * blockBytes + blockBytes - 1] = rng.int(0, 0x7b);
      }
      return src;
    }

    function compare(type: "TQ1_0" | "TQ2_0", src: Uint8Array, nBlocks: number): void {
      const decoded = { trits: new Int8Array(nBlocks * 256), blockScales: new Float32Array(nBlocks), blockNonzero: new Uint8Array(nBlocks) };
      const badDecoded = decodeTqBlocks(type, src, nBlocks, decoded, 0);
      const counted = { blockScales: new Float32Array(nBlocks), blockNonzero: new Uint8Array(nBlocks) };
      const tally = { minus: 0, plus: 0 };
      const badCounted = countTqBlocks(type, src, nBlocks, tally, counted, 0);
      assert.equal(badCounted, badDecoded);
      const valid = badDecoded < 0 ? nBlocks : badDecoded;
      const c = countTrits(decoded.trits.subarray(0, valid * 256));
      assert.deepEqual([tally.minus, tally.plus], [c.minus, c.plus]);
      assert.deepEqual(counted.blockScales.subarray(0, valid), decoded.blockScales.subarray(0, valid));
      assert.deepEqual(counted.blockNonzero.subarray(0, valid), decoded.blockNonzero.subarray(0, valid));
    }

    it("TQ1_0: every byte value (valid packings or not) in qs and qh", () => {
      const rng = new Rng(12);
      compare("TQ1_0", randomBlocks(rng, 400, TQ1_BLOCK_BYTES, () => rng.int(0, 255)), 400);
      // mostly zero trits, so some blocks have no non-zero trit
      const zeroByte = packTq1Byte(0, 0, 0, 0, 0);
      compare("TQ1_0", randomBlocks(rng, 300, TQ1_BLOCK_BYTES, () => (rng.float() < 0.995 ? zeroByte : rng.int(0, 255))), 300);
    });

    it("TQ2_0: every valid byte, and the first block holding code 3", () => {
      const rng = new Rng(13);
      const valid = (): number => {
        let b = 0;
        for (let m = 0; m < 4; m++) b |= rng.int(0, 2) << (2 * m);
        return b;
      };
      compare("TQ2_0", randomBlocks(rng, 400, TQ2_BLOCK_BYTES, valid), 400);
      compare("TQ2_0", randomBlocks(rng, 300, TQ2_BLOCK_BYTES, () => (rng.float() < 0.995 ? 0x55 : valid())), 300);
      const bad = randomBlocks(rng, 50, TQ2_BLOCK_BYTES, valid);
      bad[37 * TQ2_BLOCK_BYTES + 63] = 0x7f;
      bad[40 * TQ2_BLOCK_BYTES] = 0xff;
      compare("TQ2_0", bad, 50);
    });

    it("2-bit codes: counts of every byte value, the first code 3, odd lengths", () => {
      const rng = new Rng(14);
      for (const length of [0, 1, 2, 239, 240, 241, 2000, 2001]) {
        const src = alignedChunk(length);
        for (let i = 0; i < length; i++) {
          let b = 0;
          for (let m = 0; m < 4; m++) b |= rng.int(0, 2) << (2 * m);
          src[i] = b;
        }
        let minus = 0;
        let plus = 0;
        for (const b of src) {
          for (let m = 0; m < 4; m++) {
            const code = (b >> (2 * m)) & 3;
            if (code === 0) minus++;
            if (code === 2) plus++;
          }
        }
        const tally = { minus: 5, plus: 7 };
        assert.equal(countCode2Bytes(src, length, tally), -1);
        assert.deepEqual(tally, { minus: minus + 5, plus: plus + 7 }, `length ${length}`);
        if (length > 0) {
          const at = rng.int(0, length - 1);
          src[at]! |= 0x30;
          if (at + 1 < length) src[length - 1] = 0xff;
          assert.equal(countCode2Bytes(src, length, { minus: 0, plus: 0 }), at, `length ${length}`);
        }
      }
    });
  });
});
