import assert from "node:assert/strict";
import { presetBudget } from "../src/budget/budget.js";
import { synthesizeSources } from "../src/estimate/synth/synth.js";
import { memoryTiming, type MemoryTiming } from "../src/budget/memory.js";
import { fromA, INT32_MIN, packScale, toA } from "../src/ref/spec/fixed.js";
import {
  dequantizeKv, kvLayout, loadRow, quantizeKv, readHead, regionOffset, rowWord, writeToken, type KvLayout,
} from "../src/ref/spec/kv-cache.js";
import { itemsOf, signedOf, simulateUnit, simulateUnitHls, type StreamItem, type UnitDesign } from "../src/sim/unit-harness.js";
import { KV_BEAT_BYTES, kvCacheHls, kvCountBits, kvReaderCycles, kvReaderResources, kvWriterResources, kvReaderWrapper, kvRowBits, kvWriterCycles, kvWriterWrapper } from "../src/units/decoder/kv-cache.js";
import { hw } from "../src/units/unit.js";
import { slowSuite } from "./helpers.js";

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Gaussian-ish head vectors in A with a few outliers, as k and v look after the projections. */
function headVector(r: () => number, d: number, spread = 1.5): number[] {
  return Array.from({ length: d }, () => {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    return toA(g * spread * (r() < 0.02 ? 8 : 1));
  });
}

const kv260: MemoryTiming = memoryTiming(presetBudget("kv260"));
/** A slow memory (8 bytes a cycle, long latency, a short queue): bandwidth-bound beats, queue-bound requests. */
const slow: MemoryTiming = { bwNum: 8, bwDen: 1, latency: 50, maxQueued: 3 };

describe("KV cache: quantization spec", function () {
  it("keeps every element within half a step (absmax/254) of the A value, q in [-127, 127]", function () {
    const r = rng(7);
    for (const d of [6, 64, 96, 128]) {
      for (let t = 0; t < 200; t++) {
        const x = headVector(r, d, t % 2 ? 1.5 : 300);
        const row = quantizeKv(x);
        const y = dequantizeKv(row);
        const a = Math.max(...x.map((v) => Math.abs(fromA(v))));
        assert.ok(row.q.every((q) => q >= -127 && q <= 127));
        assert.ok(row.scale.m >= 2 ** 15 && row.scale.m < 2 ** 16);
        // half a step, plus the scale's own rounding (a 16-bit mantissa of a 17-bit absmax: 2^-15 relative)
        for (let j = 0; j < d; j++) assert.ok(Math.abs(y[j]! - fromA(x[j]!)) <= a * (0.5 / 127 + 2 ** -14), `d ${d} element ${j}`);
        // the absmax element lands on ±127
        assert.equal(Math.max(...row.q.map(Math.abs)), 127);
      }
    }
  });

  it("handles the zero vector and the int32 extremes", function () {
    assert.deepEqual(quantizeKv([0, 0, 0]), { q: [0, 0, 0], scale: { m: 0, e: 0 } });
    const big = quantizeKv([INT32_MIN, 2 ** 31 - 1, 1, -1]);
    assert.deepEqual(big.q, [-127, 127, 0, 0]);
    assert.ok(Math.abs(big.scale.m * 2 ** big.scale.e - 2 ** 15 / 127) / (2 ** 15 / 127) < 2 ** -15);
    const tiny = quantizeKv([1, -1, 0]);
    assert.deepEqual(tiny.q, [127, -127, 0]);
  });

  it("perturbs attention scores and softmax weights by a bounded amount on random data", function () {
    const r = rng(99);
    const d = 128;
    const ctx = 256;
    let worstProb = 0;
    let worstScore = 0;
    for (let trial = 0; trial < 5; trial++) {
      const q = headVector(r, d).map(fromA);
      const k = Array.from({ length: ctx }, () => headVector(r, d));
      const exact = k.map((x) => x.reduce((s, v, j) => s + fromA(v) * q[j]!, 0) / Math.sqrt(d));
      const quant = k.map((x) => dequantizeKv(quantizeKv(x)).reduce((s, v, j) => s + v * q[j]!, 0) / Math.sqrt(d));
      const softmax = (s: number[]) => {
        const m = Math.max(...s);
        const e = s.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / z);
      };
      const [p, pq] = [softmax(exact), softmax(quant)];
      for (let u = 0; u < ctx; u++) {
        worstScore = Math.max(worstScore, Math.abs(quant[u]! - exact[u]!));
        worstProb = Math.max(worstProb, Math.abs(pq[u]! - p[u]!));
      }
    }
    // docs/numerics/kv-cache.md: int8 rows move a score by ~0.1–0.3 and a softmax weight by ~1e-2 at worst
    assert.ok(worstScore < 0.5, `score error ${worstScore}`);
    assert.ok(worstProb < 0.05, `softmax weight error ${worstProb}`);
  });

  it("lays rows out in blocks of a scale beat and P rows, regions [layer][kvHead][K, V]", function () {
    const l = kvLayout({ headDim: 96, kvHeads: 2, layers: 3, maxContext: 100, beatBytes: 128 });
    assert.equal(l.rowBytes, 128);
    assert.equal(l.P, 32);
    assert.equal(l.blockBytes, 128 + 32 * 128);
    assert.equal(l.regionBytes, 4 * l.blockBytes);
    assert.equal(regionOffset(l, 1, 1, 1), (1 * 2 + 1) * 2 * l.regionBytes + l.regionBytes);
    assert.equal(kvLayout({ headDim: 6, kvHeads: 1, layers: 1, maxContext: 1, beatBytes: 128 }).rowBytes, 8);
    assert.throws(() => kvLayout({ headDim: 200, kvHeads: 1, layers: 1, maxContext: 8, beatBytes: 128 }), /head dimension 200/);
  });
});

// ---- RTL

const image = (l: KvLayout, seed: number): Uint8Array => {
  const r = rng(seed);
  return Uint8Array.from({ length: l.totalBytes }, () => Math.floor(r() * 256));
};

function writerDesign(l: KvLayout): UnitDesign {
  return {
    top: "trilut_kv_writer_top",
    sources: [...hw("trilut_kv_writer.v"), kvWriterWrapper(l)],
    inputs: [
      { name: "cmd", width: kvCountBits(l) + 32 },
      { name: "x", width: 32, last: true },
    ],
    outputs: [{ name: "done", width: 1 }],
    memories: [{ name: "mem", beatBytes: l.beatBytes }],
  };
}

function readerDesign(l: KvLayout): UnitDesign {
  return {
    top: "trilut_kv_reader_top",
    sources: [...hw("trilut_kv_reader.v"), kvReaderWrapper(l)],
    inputs: [{ name: "cmd", width: kvCountBits(l) + 32 }],
    outputs: [
      { name: "k", width: kvRowBits(l), last: true },
      { name: "v", width: kvRowBits(l), last: true },
    ],
    memories: [{ name: "mem", beatBytes: l.beatBytes }],
  };
}

const cmdWord = (count: number, addr: number): bigint => (BigInt(count) << 32n) | BigInt(addr);

const shapes = [
  { headDim: 6, kvHeads: 1, maxContext: 100 },
  { headDim: 64, kvHeads: 2, maxContext: 100 },
  { headDim: 96, kvHeads: 2, maxContext: 100 },
];

describe("KV cache: writer RTL (Verilator)", function () {
  this.timeout(1_200_000);
  for (const s of shapes) {
    it(`writes bit-exact rows and scales, headDim ${s.headDim}, kvHeads ${s.kvHeads}; cycles as modeled; under backpressure`, async function () {
      const l = kvLayout({ ...s, layers: 2, beatBytes: 128 });
      const r = rng(s.headDim * 31 + s.kvHeads);
      // tokens at positions across block boundaries, in layer 1
      const positions = [0, 1, 31, 32, 63, 99];
      const layerAddr = regionOffset(l, 1, 0, 0);
      const tokens = positions.map(() => [...Array.from({ length: 2 * s.kvHeads }, (_, i) => headVector(r, s.headDim, i % 3 === 2 ? 0.001 : 1.5)).flat()]);
      // one all-zero head vector: scale 0
      tokens[2]!.fill(0, 0, s.headDim);
      const initial = image(l, 5);
      const expected = initial.slice();
      positions.forEach((p, i) => writeToken(expected, l, layerAddr, p, tokens[i]!));
      const x: StreamItem[] = tokens.flatMap((tok) => tok.map((v, j) => ({ data: BigInt.asUintN(32, BigInt(v)), last: j === tok.length - 1 })));
      const cmd: StreamItem[] = positions.map((p) => ({ data: cmdWord(p, layerAddr) }));
      const design = writerDesign(l);
      for (const timing of [kv260, slow]) {
        const run = { inputs: { cmd, x }, expect: { done: positions.length }, memories: { mem: { image: initial, timing } } };
        const got = await simulateUnit(design, run);
        assert.ok(Buffer.from(got.memories["mem"]!).equals(Buffer.from(expected)), "memory image differs from the spec");
        assert.equal(got.cycles, kvWriterCycles(l, timing, positions.length));
        if (timing === kv260) {
          for (const seed of [1, 2]) {
            const bp = await simulateUnit(design, { ...run, backpressure: { seed } });
            assert.ok(Buffer.from(bp.memories["mem"]!).equals(Buffer.from(expected)), `backpressure seed ${seed}: image differs`);
            assert.ok(bp.cycles > got.cycles);
          }
        }
      }
      // and the rows read back are what was quantized
      const back = loadRow(expected, l, layerAddr + l.regionBytes, 99);
      assert.deepEqual(back, quantizeKv(tokens[5]!.slice(s.kvHeads * s.headDim, s.kvHeads * s.headDim + s.headDim)));
    });
  }
});

describe("KV cache: reader RTL (Verilator)", function () {
  this.timeout(1_200_000);
  for (const s of shapes) {
    it(`streams bit-exact K then V rows, headDim ${s.headDim}, contexts 1, 17, 100; cycles as modeled; under backpressure`, async function () {
      const l = kvLayout({ ...s, layers: 1, beatBytes: 128 });
      const r = rng(s.headDim + 1000);
      const mem = image(l, 11);
      for (let p = 0; p < l.maxContext; p++) {
        writeToken(mem, l, 0, p, Array.from({ length: 2 * s.kvHeads }, () => headVector(r, s.headDim)).flat());
      }
      const design = readerDesign(l);
      const kvHead = s.kvHeads - 1;
      const kAddr = regionOffset(l, 0, kvHead, 0);
      for (const n of [1, 17, 100]) {
        const want = readHead(mem, l, kAddr, n);
        const items = (rows: typeof want.k) => rows.map((row, u) => ({ data: rowWord(row), last: u === n - 1 }));
        for (const timing of [kv260, slow]) {
          const run = { inputs: { cmd: [{ data: cmdWord(n, kAddr) }] }, expect: { k: n, v: n }, memories: { mem: { image: mem, timing } } };
          const got = await simulateUnit(design, run);
          assert.deepEqual(got.outputs["k"], items(want.k), `K rows, context ${n}`);
          assert.deepEqual(got.outputs["v"], items(want.v), `V rows, context ${n}`);
          assert.equal(got.cycles, kvReaderCycles(l, timing, n, kAddr), `cycles, context ${n}`);
          if (n === 17 && timing === kv260) {
            for (const seed of [1, 2]) {
              const bp = await simulateUnit(design, { ...run, backpressure: { seed } });
              assert.deepEqual(bp.outputs, got.outputs, `backpressure seed ${seed}`);
            }
          }
        }
      }
    });
  }
});

describe("KV cache: reader RTL at a short context (Verilator)", function () {
  this.timeout(1_200_000);
  // regression: with maxContext 3 the reader's beat counters are 4 bits wide, and the beats to the
  // next 4 KB boundary (4096 / 128 = 32 from a region at address 0) once wrapped to 0 in them:
  // bursts of 0 beats (ar_len 255) that read past the K region (decoder block 0, decode at context 2)
  it("streams bit-exact K then V rows from a 4 KB-aligned region and from the next, cycles as modeled", async function () {
    const l = kvLayout({ headDim: 64, kvHeads: 2, layers: 1, maxContext: 3, beatBytes: KV_BEAT_BYTES });
    const r = rng(77);
    const mem = image(l, 13);
    for (let p = 0; p < l.maxContext; p++) writeToken(mem, l, 0, p, Array.from({ length: 4 }, () => headVector(r, 64)).flat());
    const design = readerDesign(l);
    for (const kvHead of [0, 1]) {
      const kAddr = regionOffset(l, 0, kvHead, 0);
      for (const n of [1, 3]) {
        const want = readHead(mem, l, kAddr, n);
        const items = (rows: typeof want.k) => rows.map((row, u) => ({ data: rowWord(row), last: u === n - 1 }));
        const run = { inputs: { cmd: [{ data: cmdWord(n, kAddr) }] }, expect: { k: n, v: n }, memories: { mem: { image: mem, timing: kv260 } } };
        const got = await simulateUnit(design, run);
        assert.deepEqual(got.outputs["k"], items(want.k), `K rows, kv head ${kvHead}, context ${n}`);
        assert.deepEqual(got.outputs["v"], items(want.v), `V rows, kv head ${kvHead}, context ${n}`);
        assert.equal(got.cycles, kvReaderCycles(l, kv260, n, kAddr), `cycles, kv head ${kvHead}, context ${n}`);
      }
    }
  });
});

describe("KV cache: HLS (C simulation)", function () {
  this.timeout(600_000);
  it("writes the same memory image and reads the same rows as the spec (headDim 6 and 96)", async function () {
    for (const s of [shapes[0]!, shapes[2]!]) {
      const l = kvLayout({ ...s, layers: 2, beatBytes: 128 });
      const r = rng(s.headDim + 77);
      const layerAddr = regionOffset(l, 1, 0, 0);
      const positions = [0, 5, 31, 32, 99];
      const tokens = positions.map(() => Array.from({ length: 2 * s.kvHeads }, () => headVector(r, s.headDim)).flat());
      tokens[1]!.fill(0, 0, s.headDim);
      const initial = image(l, 3);
      const expected = initial.slice();
      positions.forEach((p, i) => writeToken(expected, l, layerAddr, p, tokens[i]!));
      const source = kvCacheHls(l);
      const timing = kv260;
      const w = await simulateUnitHls(
        {
          function: "trilut_kv_writer",
          source,
          inputs: [{ name: "cmd", width: 64, cxxType: "uint64_t" }, { name: "x", width: 32, cxxType: "int32_t" }],
          outputs: [{ name: "done", width: 8, cxxType: "uint8_t" }],
          memories: [{ name: "mem", beatBytes: 128 }],
        },
        {
          inputs: { cmd: positions.map((p) => ({ data: cmdWord(p, layerAddr) })), x: itemsOf(tokens.flat(), 32) },
          expect: { done: positions.length },
          memories: { mem: { image: initial, timing } },
        },
      );
      assert.ok(Buffer.from(w.memories["mem"]!).equals(Buffer.from(expected)), `headDim ${s.headDim}: HLS image differs`);
      assert.equal(w.outputs["done"]!.length, positions.length);
      const kAddr = regionOffset(l, 1, s.kvHeads - 1, 0);
      const n = 100;
      const want = readHead(expected, l, kAddr, n);
      const rd = await simulateUnitHls(
        {
          function: "trilut_kv_reader",
          source,
          inputs: [{ name: "cmd", width: 64, cxxType: "uint64_t" }],
          outputs: [
            { name: "k_q", width: 8, cxxType: "int8_t" }, { name: "k_s", width: 32, cxxType: "uint32_t" },
            { name: "v_q", width: 8, cxxType: "int8_t" }, { name: "v_s", width: 32, cxxType: "uint32_t" },
          ],
          memories: [{ name: "mem", beatBytes: 128 }],
        },
        { inputs: { cmd: [{ data: cmdWord(n, kAddr) }] }, expect: { k_q: 0, k_s: 0, v_q: 0, v_s: 0 }, memories: { mem: { image: expected, timing } } },
      );
      for (const [kind, rows] of [["k", want.k], ["v", want.v]] as const) {
        assert.deepEqual(rd.outputs[`${kind}_q`]!.map((it) => signedOf(it.data, 8)), rows.flatMap((row) => row.q), `${kind} values`);
        assert.deepEqual(rd.outputs[`${kind}_s`]!.map((it) => Number(it.data)), rows.map((row) => packScale(row.scale)), `${kind} scales`);
      }
    }
  });
});

describe("KV cache: resources against yosys", function () {
  slowSuite(this);
  this.timeout(1_200_000);
  it("matches the analytic figures on two shapes (memories and DSP exact, LUT/FF within 5%)", async function () {
    for (const s of [shapes[0]!, shapes[1]!]) {
      const l = kvLayout({ ...s, layers: 1, beatBytes: 128 });
      for (const [module, sources, top, analytic] of [
        ["trilut_kv_reader", [...hw("trilut_kv_reader.v"), kvReaderWrapper(l)], "trilut_kv_reader_top", kvReaderResources(s.headDim)],
        ["trilut_kv_writer", [...hw("trilut_kv_writer.v"), kvWriterWrapper(l)], "trilut_kv_writer_top", kvWriterResources(s.headDim)],
      ] as const) {
        const got = (await synthesizeSources(sources, "ultrascale+", { top })).modules[module]!;
        const a = analytic.resources;
        assert.equal(got.bram36, a.bram36, `${module} headDim ${s.headDim} BRAM`);
        assert.equal(got.dsp, a.dsp, `${module} headDim ${s.headDim} DSP`);
        assert.equal(got.lutram, a.lutram, `${module} headDim ${s.headDim} LUTRAM`);
        for (const k of ["lut", "ff"] as const) {
          assert.ok(Math.abs(got[k] - a[k]) <= 0.05 * got[k], `${module} headDim ${s.headDim} ${k}: yosys ${got[k]}, analytic ${a[k]}`);
        }
      }
    }
  });
});
