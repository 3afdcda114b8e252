import assert from "node:assert/strict";
import { presetBudget } from "../src/budget/budget.js";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../src/engine/config.js";
import { planTiles } from "../src/engine/tiles.js";
import { streamCycles } from "../src/estimate/cycles/event.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { memoryTiming, type MemoryTiming } from "../src/budget/memory.js";
import { simulateMatmul, simulateMatmuls } from "../src/sim/simulate.js";
import { SimulationError, UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits, lintRtl } from "./helpers.js";

function geometry(partial: Partial<EngineConfig>): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}


// Small streaming engines: block-RAM buffers small enough that layers need many tiles, memory
// words narrow or wide against the buffer's columns, short and long bursts, few and many in flight.
const ENGINES: Partial<EngineConfig>[] = [
  { G: 3, encoding: "full", T: 4, P: 3, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 64 },
  { G: 2, encoding: "mirrored", T: 7, P: 2, c: 1, memBits: 128, maxBurst: 4, maxOutstanding: 2, weightMemory: "bram", bufferDepth: 128 },
  { G: 5, encoding: "full", T: 2, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256 },
  { G: 4, encoding: "mirrored", T: 9, P: 5, c: 1, memBits: 1024, maxBurst: 2, weightMemory: "bram", bufferDepth: 96 },
  { kind: "baseline", G: 2, encoding: "full", T: 9, P: 3, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 128 },
];

// bytes per cycle = bwNum / bwDen; the second is the kv260's 19.2 GB/s at 250 MHz
const MEMORIES: [string, MemoryTiming][] = [
  ["3 B/cycle, no latency", { bwNum: 3, bwDen: 1, latency: 0, maxQueued: 16 }],
  ["76.8 B/cycle, 38 cycles", { bwNum: 384, bwDen: 5, latency: 38, maxQueued: 16 }],
  ["1/7 B/cycle, 50 cycles", { bwNum: 1, bwDen: 7, latency: 50, maxQueued: 4 }],
];

const label = (c: Partial<EngineConfig>): string =>
  `${c.kind === "baseline" ? "baseline " : ""}G=${c.G} ${c.encoding} T=${c.T} P=${c.P} ${c.memBits}-bit memory, bursts of ${c.maxBurst}`;

describe("streaming engine RTL in Verilator (weights over AXI)", () => {
  for (const partial of ENGINES) {
    describe(label(partial), () => {
      const geo = geometry(partial);
      const rng = new Rng(partial.G! * 1000 + partial.T! * 10 + partial.P!);

      it("lints clean with verilator -Wall", () => {
        assert.equal(lintRtl(geo), "");
      });

      for (const [name, memory] of MEMORIES) {
        // decode (one token) and prefill (several tokens reuse each loaded tile); odd shapes
        for (const [n, k, tokens] of [
          [37, geo.stepActivations * 3 + 5, 1],
          [2 * partial.P! + 1, 61, 4],
        ] as const) {
          it(`${n}×${k}, ${tokens} token(s), ${name}: bit-exact, cycles and bytes as predicted`, async () => {
            const w = randomTrits(rng, n, k);
            const x = randomActs(rng, tokens * k);
            const r = await simulateMatmul(geo, w, x, { tokens, memory });
            assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatches));
            assert.deepEqual(r.y, ternaryMatmul(w, x, tokens));
            const model = streamCycles(geo, r.tiles!, memory);
            assert.equal(r.cycles, model.total);
            assert.equal(r.bytesRead, model.bytesRead);
            assert.equal(r.bytesRead, r.tiles!.tiles.reduce((b, t) => b + t.beats, 0) * geo.beatBytes);
            assert.ok(r.memBusyFraction <= 1, `memory busy ${r.memBusyFraction}`);
          });
        }
      }

      it("random backpressure on the host streams: still bit-exact, never faster than predicted", async () => {
        const [n, k, tokens] = [19, geo.stepActivations * 2 + 3, 2];
        const w = randomTrits(rng, n, k);
        const x = randomActs(rng, tokens * k);
        const memory = MEMORIES[1]![1];
        const r = await simulateMatmul(geo, w, x, { tokens, memory, validProb: 0.6, readyProb: 0.5, seed: 4 });
        assert.equal(r.mismatches, 0);
        assert.ok(r.cycles > r.predictedCycles);
      });
    });
  }

  it("refuses a layer whose steps do not fit half the buffer", () => {
    const geo = geometry(ENGINES[0]!);
    assert.throws(() => planTiles(geo, 4, geo.stepActivations * 40, 1), (e: unknown) => e instanceof UserError && /buffer half/.test(e.message));
  });

  it("refuses a budget with no memory bandwidth", () => {
    assert.throws(() => memoryTiming({ ...presetBudget("kv260"), memoryGBps: 0 }), UserError);
  });

  it("a memory that never answers ends through the watchdog, naming the descriptor", async () => {
    const geo = geometry(ENGINES[0]!);
    const rng = new Rng(1);
    const w = randomTrits(rng, 9, 30);
    const never: MemoryTiming = { bwNum: 1, bwDen: 1, latency: 1_000_000_000, maxQueued: 16 };
    await assert.rejects(
      simulateMatmul(geo, w, randomActs(rng, 30), { memory: never, stallLimit: 300 }),
      (e: unknown) => e instanceof SimulationError && /hung.*descriptor \d+\/\d+/.test(e.message),
    );
  });

  it("kv260 decode of a 2560×6912 layer keeps the memory port over 90% busy", async () => {
    const budget = presetBudget("kv260");
    const geo = geometry({});
    const rng = new Rng(2560);
    const w = randomTrits(rng, 2560, 6912);
    const r = await simulateMatmul(geo, w, randomActs(rng, 6912), { memory: memoryTiming(budget) });
    assert.equal(r.mismatches, 0);
    assert.equal(r.cycles, r.predictedCycles);
    assert.ok(r.memBusyFraction >= 0.9, `memory busy ${(r.memBusyFraction * 100).toFixed(1)}%`);
  });
});

describe("a whole decoder block as one descriptor stream", () => {
  // the seven matmuls of one block of a scaled-down llama (hidden 256, ffn 512, 4 heads, 2 KV heads)
  const hidden = 256;
  const ffn = 512;
  const kv = 128;
  const shapes: [string, number, number][] = [
    ["q", hidden, hidden],
    ["k", kv, hidden],
    ["v", kv, hidden],
    ["o", hidden, hidden],
    ["gate", ffn, hidden],
    ["up", ffn, hidden],
    ["down", hidden, ffn],
  ];
  const engines: Partial<EngineConfig>[] = [
    { G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256 },
    { G: 2, encoding: "mirrored", T: 9, P: 3, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 512 },
    { G: 4, encoding: "full", T: 10, P: 2, c: 1, memBits: 1024, maxBurst: 4, maxOutstanding: 3, weightMemory: "bram", bufferDepth: 128 },
  ];
  const memories: [string, MemoryTiming][] = [
    ["kv260 (76.8 B/cycle)", memoryTiming(presetBudget("kv260"))],
    ["8 B/cycle", { bwNum: 8, bwDen: 1, latency: 20, maxQueued: 16 }],
  ];
  for (const partial of engines) {
    for (const [memName, memory] of memories) {
      for (const tokens of [1, 6]) {
        it(`${label(partial)}, ${memName}, ${tokens === 1 ? "decode" : `prefill of ${tokens} tokens`}: bit-exact, cycles as predicted`, async () => {
          const geo = geometry(partial);
          const rng = new Rng(tokens * 31 + partial.G!);
          const ws = shapes.map(([, n, k]) => randomTrits(rng, n, k));
          const xs = ws.map((w) => randomActs(rng, tokens * w.k));
          const r = await simulateMatmuls(geo, ws, xs, { tokens, memory });
          assert.equal(r.mismatches, 0);
          r.matmuls.forEach((m, i) => assert.deepEqual(m.y, ternaryMatmul(ws[i]!, xs[i]!, tokens), shapes[i]![0]));
          assert.equal(r.cycles, r.predictedCycles);
          // one stream overlaps each matmul's first load with the previous one's compute
          const alone = ws.reduce((c, w) => c + streamCycles(geo, planTiles(geo, w.n, w.k, tokens), memory).total, 0);
          assert.ok(r.cycles <= alone, `block ${r.cycles} vs matmuls alone ${alone}`);
        });
      }
    }
  }
});
