import assert from "node:assert/strict";
import { type BlockShape } from "../src/model/block-shape.js";
import { attendHead, attendToken, type KvCacheView, type KvRow } from "../src/ref/spec/attention.js";
import { fromA, packScale } from "../src/ref/spec/fixed.js";
import { itemsOf, signedOf, simulateUnit, type StreamItem, type UnitDesign } from "../src/sim/unit-harness.js";
import { attentionCycles, attentionRtl, attentionWidths } from "../src/units/decoder/attention.js";
import { attendFloat, dequantRow, randomQuery, randomRows, rng } from "./attention-fixtures.js";

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
      it(`headDim ${D}, heads ${heads}/${kvHeads}: decode at L 1, 17, 100 and a 5-query prefill bit-exact, cycles exact`, async function () {
        const cache = cacheOf(shape, 100, D);
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
        // backpressure on every stream: the same bits
        const bp = runs[3]!;
        for (const seed of [1, 2]) {
          const res = await simulateUnit(design(shape), { ...streams(shape, bp.jobs), backpressure: { seed } });
          assert.deepEqual(outputsOf(res.outputs["out"]!), bp.expected, `backpressure seed ${seed}`);
        }
      });
    }
  });
});
