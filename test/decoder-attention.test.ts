import assert from "node:assert/strict";
import { type BlockShape } from "../src/model/block-shape.js";
import { attendHead, attendToken, type KvCacheView, type KvRow } from "../src/ref/spec/attention.js";
import { fromA, packScale } from "../src/ref/spec/fixed.js";
import { itemsOf, signedOf, simulateUnit, simulateUnitHls, type StreamItem, type UnitDesign, type UnitHlsDesign } from "../src/sim/unit-harness.js";
import { synthesizeSources } from "../src/estimate/synth/synth.js";
import { attentionCycles, attentionHls, attentionResources, attentionRtl, attentionWidths } from "../src/units/decoder/attention.js";
import { attendFloat, dequantRow, randomQuery, randomRows, rng } from "./attention-fixtures.js";
import { slowSuite } from "./helpers.js";

const shapeOf = (headDim: number, heads: number, kvHeads: number, maxContext: number): BlockShape => ({
  hidden: heads * headDim, ffn: 4 * heads * headDim, heads, kvHeads, headDim, activation: "silu", subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext,
});

/** One job of the core: a query head over rows 0..L−1 of its kv head. */
interface Job {
  readonly q: number[];
  readonly k: readonly KvRow[];
  readonly v: readonly KvRow[];
}

const rowItem = (r: KvRow, D: number): StreamItem => {
  let data = BigInt(packScale(r.scale));
  for (let i = D - 1; i >= 0; i--) data = (data << 8n) | BigInt(r.values[i]! & 0xff);
  return { data };
};

function design(shape: BlockShape): UnitDesign {
  const w = attentionWidths(shape);
  return {
    top: "trilut_attention",
    sources: [attentionRtl(shape)],
    inputs: [{ name: "len", width: w.LW }, { name: "q", width: 32 }, { name: "k", width: w.ROWW }, { name: "v", width: w.ROWW }],
    outputs: [{ name: "out", width: 32, last: true }],
  };
}

function streams(shape: BlockShape, jobs: readonly Job[]) {
  const D = shape.headDim;
  return {
    inputs: {
      len: itemsOf(jobs.map((j) => j.k.length), attentionWidths(shape).LW),
      q: itemsOf(jobs.flatMap((j) => j.q), 32),
      k: jobs.flatMap((j) => j.k.map((r) => rowItem(r, D))),
      v: jobs.flatMap((j) => j.v.map((r) => rowItem(r, D))),
    },
    expect: { out: jobs.length * D },
  };
}

function hlsDesign(shape: BlockShape): UnitHlsDesign {
  return {
    function: "trilut_attention",
    source: attentionHls(shape),
    inputs: [
      { name: "len", width: 32, cxxType: "int32_t" },
      { name: "q", width: 32, cxxType: "int32_t" },
      { name: "k", width: 8, cxxType: "int8_t" },
      { name: "kscale", width: 32, cxxType: "uint32_t" },
      { name: "v", width: 8, cxxType: "int8_t" },
      { name: "vscale", width: 32, cxxType: "uint32_t" },
    ],
    outputs: [{ name: "out", width: 32, cxxType: "int32_t" }],
  };
}

/** The HLS function's element streams: a row's values on k / v, its packed scale beside them. */
function hlsStreams(shape: BlockShape, jobs: readonly Job[]) {
  return {
    inputs: {
      len: itemsOf(jobs.map((j) => j.k.length), 32),
      q: itemsOf(jobs.flatMap((j) => j.q), 32),
      k: itemsOf(jobs.flatMap((j) => j.k.flatMap((r) => Array.from(r.values))), 8),
      kscale: itemsOf(jobs.flatMap((j) => j.k.map((r) => packScale(r.scale))), 32),
      v: itemsOf(jobs.flatMap((j) => j.v.flatMap((r) => Array.from(r.values))), 8),
      vscale: itemsOf(jobs.flatMap((j) => j.v.map((r) => packScale(r.scale))), 32),
    },
    expect: { out: jobs.length * shape.headDim },
  };
}

/** A KV cache of `len` positions for each kv head, and q for `queries` tokens, with realistic scales. */
function cacheOf(shape: BlockShape, len: number, seed: number): KvCacheView {
  const r = rng(seed);
  return {
    k: Array.from({ length: shape.kvHeads }, () => randomRows(r, len, shape.headDim, 1)),
    v: Array.from({ length: shape.kvHeads }, () => randomRows(r, len, shape.headDim, 1)),
  };
}

/** Jobs of one token at context L (every query head, grouped-query kv head). */
function tokenJobs(shape: BlockShape, cache: KvCacheView, q: number[], L: number): Job[] {
  const group = shape.heads / shape.kvHeads;
  return Array.from({ length: shape.heads }, (_, h) => {
    const kvh = Math.floor(h / group);
    return { q: q.slice(h * shape.headDim, (h + 1) * shape.headDim), k: cache.k[kvh]!.slice(0, L), v: cache.v[kvh]!.slice(0, L) };
  });
}

const outputsOf = (items: readonly StreamItem[]): number[] => items.map((it) => signedOf(it.data, 32));

describe("attention core", function () {
  describe("spec vs float64", function () {
    // bound: max |spec − float64| / max |float64 out| per head, over heads with realistic scales
    for (const d of [64, 96]) {
      for (const L of [1, 17, 100, 1024]) {
        it(`headDim ${d}, L ${L}: within 2e-3 of float64 attention on the same int8 K/V`, function () {
          let maxE = 0;
          for (let t = 0; t < 3; t++) {
            const r = rng(7 * t + L + d);
            const q = randomQuery(r, d, 1 + t);
            const k = randomRows(r, L, d, t === 2 ? 0.05 : 1);
            const v = randomRows(r, L, d, t === 2 ? 0.05 : 1);
            const out = attendHead(q, k, v).map(fromA);
            const ref = attendFloat(q.map(fromA), k.map(dequantRow), v.map(dequantRow));
            const norm = Math.max(...ref.map(Math.abs));
            for (let i = 0; i < d; i++) maxE = Math.max(maxE, Math.abs(out[i]! - ref[i]!) / norm);
          }
          assert.ok(maxE < 2e-3, `max relative error ${maxE}`);
        });
      }
    }
  });

  describe("Verilator", function () {
    this.timeout(1_200_000);
    const cases: [number, number, number][] = [[6, 2, 1], [64, 4, 2]];
    for (const [D, heads, kvHeads] of cases) {
      const shape = shapeOf(D, heads, kvHeads, 128);
      it(`headDim ${D}, heads ${heads}/${kvHeads}: decode at L 1, 17, 100 and a 5-query prefill and the saturation edges bit-exact in Verilator and HLS, cycles exact, backpressure`, async function () {
        const cache = cacheOf(shape, 100, D);
        if (shape.maxContext < 100) throw new Error("the shape must hold 100 positions");
        const r = rng(D + 1);
        const runs: { name: string; jobs: Job[]; expected: number[]; lengths: number[] }[] = [];
        for (const L of [1, 17, 100]) {
          const q = Array.from({ length: heads }, () => randomQuery(r, D, 2)).flat();
          runs.push({ name: `decode L ${L}`, jobs: tokenJobs(shape, cache, q, L), expected: attendToken(q, heads, kvHeads, cache, L), lengths: new Array<number>(heads).fill(L) });
        }
        // prefill: queries at positions 12..16 each over rows 0..its position (the causal mask)
        const prefill = { name: "prefill 5 at 12", jobs: [] as Job[], expected: [] as number[], lengths: [] as number[] };
        for (let p = 12; p < 17; p++) {
          const q = Array.from({ length: heads }, () => randomQuery(r, D, 2)).flat();
          prefill.jobs.push(...tokenJobs(shape, cache, q, p + 1));
          prefill.expected.push(...attendToken(q, heads, kvHeads, cache, p + 1));
          prefill.lengths.push(...new Array<number>(heads).fill(p + 1));
        }
        runs.push(prefill);
        for (const run of runs) {
          const res = await simulateUnit(design(shape), streams(shape, run.jobs));
          assert.deepEqual(outputsOf(res.outputs["out"]!), run.expected, run.name);
          assert.deepEqual(res.outputs["out"]!.map((it) => it.last), run.expected.map((_, i) => (i + 1) % D === 0), `${run.name}: out_last`);
          assert.equal(res.cycles, attentionCycles(shape, run.lengths), `${run.name}: cycles`);
        }
        // the edges of every saturation and clamp: int32-extreme q, K scales whose shift E is ≥ 32, in
        // 0..31 and < −48, V scales whose weight saturates or shifts left, zero scales, a zero q
        const row = (x: number, m: number, e: number): KvRow => ({ values: Array.from({ length: D }, (_, i) => ((x * (i + 3) * 37) % 255) - 127), scale: { m, e } });
        const k = [row(1, 0x8000, 60), row(2, 0xffff, 20), row(3, 0x9000, -128), row(4, 0, 0), row(5, 0xc000, -10), row(6, 0xabcd, -22)];
        const v = [row(7, 0xffff, 12), row(8, 0x8001, -5), row(9, 0x8000, -30), row(10, 0, 0), row(11, 0xfff0, -128), row(12, 0x8000, 127)];
        const qEdge = Array.from({ length: D }, (_, i) => [2147483647, -2147483648, 0, 1, -1, 12345][i % 6]!);
        const edges: Job[] = [
          { q: qEdge, k, v },
          { q: qEdge.map((x, i) => (i % 2 ? Math.min(2147483647, -x) : x >> 3)), k: k.slice(1), v: [v[2]!, v[1]!, v[3]!, v[0]!, v[5]!] },
          { q: new Array<number>(D).fill(0), k: k.slice(2), v: v.slice(2) },
          { q: qEdge.map((x) => x >> 20), k: [k[4]!, k[5]!, k[3]!], v: [v[1]!, v[2]!, v[4]!] },
        ];
        runs.push({ name: "edges", jobs: edges, expected: edges.flatMap((j) => attendHead(j.q, j.k, j.v)), lengths: edges.map((j) => j.k.length) });
        // the HLS function computes the same bits (C simulation: every run's jobs in one call)
        const allJobs = runs.flatMap((r) => r.jobs);
        const hls = await simulateUnitHls(hlsDesign(shape), hlsStreams(shape, allJobs));
        const hlsOut = outputsOf(hls.outputs["out"]!);
        const want = runs.flatMap((r) => r.expected);
        const bad = hlsOut.findIndex((x, i) => x !== want[i]);
        assert.ok(bad < 0 && hlsOut.length === want.length, `HLS: ${hlsOut.length} outputs of ${want.length}, first difference at ${bad}: ${hlsOut[bad]} for ${want[bad]}`);
        // backpressure on every stream: the same bits
        const bp = runs[3]!; // the prefill
        for (const seed of [1, 2]) {
          const res = await simulateUnit(design(shape), { ...streams(shape, bp.jobs), backpressure: { seed } });
          assert.deepEqual(outputsOf(res.outputs["out"]!), bp.expected, `backpressure seed ${seed}`);
        }
      });
    }
  });

  describe("yosys vs analytic resources", function () {
    slowSuite(this);
    this.timeout(1_800_000);
    for (const D of [6, 64]) {
      it(`headDim ${D}, maxContext 1024: DSP and memories exact, LUT/FF/LUTRAM within 5%`, async function () {
        const shape = shapeOf(D, 2, 1, 1024);
        const synth = (await synthesizeSources([attentionRtl(shape)], "ultrascale+", { top: "trilut_attention" })).modules["trilut_attention"]!;
        const model = attentionResources(shape, "ultrascale+");
        assert.equal(model.dsp, synth.dsp, "DSP");
        assert.equal(model.bram36, synth.bram36, "BRAM36");
        for (const k of ["lut", "ff", "lutram"] as const) {
          assert.ok(Math.abs(model[k] - synth[k]) <= 0.05 * synth[k], `${k}: analytic ${model[k]}, yosys ${synth[k]}`);
        }
      });
    }
  });
});
