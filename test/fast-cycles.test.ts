import assert from "node:assert/strict";
import { presetBudget, type Budget } from "../src/budget/budget.js";
import { memoryTiming, type MemoryTiming } from "../src/budget/memory.js";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../src/engine/config.js";
import { ROW_SCALES_FOR_TIMING, type FixedScales } from "../src/engine/scales.js";
import { planMatmuls, type MatmulShape } from "../src/engine/tiles.js";
import { engineBudget } from "../src/estimate/clock.js";
import { fastStreamCycles, matmulRuns, passCycles, runsCycles, type FastCycleStats } from "../src/estimate/cycles/closed-form.js";
import { estimateLatency, latencyFigures, prepareWorkload } from "../src/estimate/latency.js";
import { runCycles } from "../src/estimate/cycles/step.js";
import { streamCycles } from "../src/estimate/cycles/event.js";
import { type ModelArchitecture } from "../src/model/architecture.js";
import { modelWorkload } from "../src/model/workload.js";
import { Rng } from "../src/util/random.js";
import { throwsUser } from "./helpers.js";

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;

/** A random valid engine (retrying until resolveEngine accepts one). */
function randomEngine(rng: Rng): EngineGeometry {
  for (;;) {
    const memBits = pick(rng, [128, 256, 512, 1024] as const);
    const partial: Partial<EngineConfig> = {
      kind: rng.int(0, 3) === 0 ? "baseline" : "tlmm",
      G: rng.int(2, 5),
      encoding: pick(rng, ["full", "mirrored"] as const),
      T: rng.int(1, 14),
      P: rng.int(1, 12),
      c: rng.int(1, 4),
      memBits,
      maxBurst: rng.int(1, Math.min(64, 4096 / (memBits / 8))),
      maxOutstanding: pick(rng, [1, 2, 3, 4, 8, 10]),
      weightMemory: "bram",
      bufferDepth: pick(rng, [32, 64, 128, 256, 512, 2048]),
      dequant: rng.int(0, 3) === 0,
    };
    try {
      return engineGeometry(resolveEngine(partial, "test"));
    } catch {
      // an invalid combination (T·indexBits over c words, dequant on a narrow bank): draw again
    }
  }
}

/** A memory from a budget: bandwidth from 0.05 to 900 GB/s, clocks and latencies as boards have. */
function randomMemory(rng: Rng): MemoryTiming {
  const budget: Budget = {
    ...presetBudget("kv260"),
    memoryGBps: pick(rng, [0.05, 0.3, 1, 2.4, 4.26, 10, 19.2, 25.6, 77, 460]) * (0.5 + rng.float()),
    clockMHz: pick(rng, [100, 150, 187.5, 200, 233, 250, 300, 333]),
    memoryLatencyNs: pick(rng, [0, 4, 20, 60, 150, 400]),
  };
  return { ...memoryTiming(budget), maxQueued: pick(rng, [16, 16, 16, 4, 2]) };
}

/** Scales as the planner sees them: none, one per row, or per row and column group. */
function randomScales(rng: Rng, geo: EngineGeometry, k: number): FixedScales | undefined {
  if (!geo.cfg.dequant) return undefined;
  const kind = rng.int(0, 2);
  if (kind === 0) return ROW_SCALES_FOR_TIMING;
  const groupSize = geo.stepActivations * rng.int(1, 4);
  return { ...ROW_SCALES_FOR_TIMING, groupSize: kind === 1 ? 0 : groupSize, groups: kind === 1 ? 1 : Math.ceil(k / groupSize) };
}

describe("fast stream cycles", () => {
  it("passCycles equals runCycles on 4000 random passes", () => {
    const rng = new Rng(17);
    for (let i = 0; i < 4000; i++) {
      const geo = randomEngine(rng);
      const steps = pick(rng, [1, 2, 3, rng.int(1, 40), rng.int(1, 2000)]);
      const groups = pick(rng, [1, 2, rng.int(1, 30), rng.int(1, 600)]);
      const sweep = pick(rng, [undefined, { gsteps: 0 }, { gsteps: rng.int(1, 12) }]);
      const label = `E=${geo.entries} steps=${steps} groups=${groups} sweep=${JSON.stringify(sweep)}`;
      assert.equal(passCycles(geo, steps, groups, sweep), runCycles(geo, steps, groups, sweep), label);
    }
  });

  it("equals streamCycles (total, memory busy, bytes) on 5000 random engines, memories and plans", function () {
    this.timeout(60_000);
    const rng = new Rng(2024);
    const stats: FastCycleStats = { stepped: 0, repeated: 0, streamed: 0, burstLoads: 0, bursts: 0, burstsSkipped: 0 };
    let cases = 0;
    let memoryBound = 0;
    let computeBound = 0;
    while (cases < 5000) {
      const geo = randomEngine(rng);
      const memory = randomMemory(rng);
      // single matmuls and blocks of up to five, odd shapes among them, some repeated back to back
      // as a block's q, k, v and o are
      const shapes: MatmulShape[] = [];
      for (let i = pick(rng, [1, 1, 2, 3, 5]); i > 0; i--) {
        const k = pick(rng, [rng.int(1, 64), rng.int(1, 700)]);
        const previous = shapes[shapes.length - 1];
        if (previous && rng.int(0, 2) === 0) shapes.push(rng.int(0, 1) === 0 ? previous : { ...previous });
        else shapes.push({ n: pick(rng, [rng.int(1, 40), rng.int(1, 900)]), k, scales: randomScales(rng, geo, k) });
      }
      const tokens = pick(rng, [1, 1, 2, 4, rng.int(1, 200)]);
      let plan;
      try {
        plan = planMatmuls(geo, shapes, tokens);
      } catch {
        continue; // k past a buffer half, or scale groups that are not whole steps
      }
      const beats = plan.tiles.reduce((b, t) => b + t.beats, 0);
      if (beats > 150_000) continue; // keeps the event model's time in bounds
      cases++;
      const slow = streamCycles(geo, plan, memory);
      const fast = fastStreamCycles(geo, plan, memory, stats);
      const label = `case ${cases}: ${JSON.stringify(geo.cfg)} ${JSON.stringify(memory)} ${JSON.stringify(shapes.map((s) => [s.n, s.k, s.scales?.groups ?? 0]))} tokens ${tokens}`;
      assert.equal(fast.total, slow.total, label);
      assert.equal(fast.memBusy, slow.memBusy, label);
      assert.equal(fast.bytesRead, slow.bytesRead, label);
      // tile runs straight from the shapes agree with runs gathered from the plan's tiles
      assert.equal(runsCycles(geo, matmulRuns(geo, shapes), tokens, memory).total, slow.total, label);
      if (slow.memBusy / slow.total > 0.5) memoryBound++;
      else computeBound++;
    }
    // the grid reaches both regimes and every way the fast model has of answering
    assert.ok(memoryBound > 100 && computeBound > 100, `memory-bound ${memoryBound}, compute-bound ${computeBound}`);
    assert.ok(stats.repeated > 0 && stats.streamed > 0 && stats.burstLoads > 0 && stats.burstsSkipped > 0, JSON.stringify(stats));
  });

  it("equals streamCycles at model scale: kv260, u55c and a far memory, bitnet-large shapes", () => {
    // the far memory (3 µs) and the short bursts leave the bursts in flight short of the latency
    const far: Budget = { ...presetBudget("kv260"), memoryLatencyNs: 3000 };
    for (const budget of [presetBudget("kv260"), presetBudget("u55c"), far]) {
      const memory = memoryTiming(budget);
      for (const partial of [{}, { P: 2, T: 6 }, { P: 1, T: 3, bufferDepth: 8192 }, { maxOutstanding: 2, maxBurst: 8 }] as Partial<EngineConfig>[]) {
        const geo = engineGeometry(resolveEngine(partial, "test"));
        for (const tokens of [1, 128]) {
          for (const shapes of [[{ n: 1536, k: 1536 }], [{ n: 4096, k: 1536 }, { n: 1536, k: 4096 }]]) {
            const plan = planMatmuls(geo, shapes, tokens);
            const slow = streamCycles(geo, plan, memory);
            const fast = fastStreamCycles(geo, plan, memory);
            assert.deepEqual([fast.total, fast.memBusy, fast.bytesRead], [slow.total, slow.memBusy, slow.bytesRead], `${budget.memoryLatencyNs} ns ${JSON.stringify(partial)} ${tokens}`);
          }
        }
      }
    }
  });

  it("refuses what the planner refuses", () => {
    const geo = randomEngine(new Rng(3));
    const memory = memoryTiming(presetBudget("kv260"));
    throwsUser(() => matmulRuns(geo, [{ n: 4, k: geo.stepActivations * (geo.halfDepth + 1) }]), /buffer half/);
    throwsUser(() => runsCycles(geo, matmulRuns(geo, [{ n: 4, k: 4 }]), 2 ** 16, memory), /at most 65535/);
  });
});

describe("the latency model on the fast cycles", () => {
  const arch: ModelArchitecture = {
    name: "llama",
    source: "given",
    dimensions: { hidden: 192, ffn: 520, layers: 3, heads: 4, kvHeads: 2, headDim: 48, vocab: 300 },
    tiedEmbeddings: false,
    activation: "silu",
    subNorms: false,
    contextLength: 2048,
  };

  it("a block's cycles are streamCycles of its matmuls as one stream, and the lean figures are estimateLatency's", () => {
    const rng = new Rng(8);
    for (let i = 0; i < 40; i++) {
      const workload = modelWorkload(arch, [], { contextLength: 256, assumeType: "I2_S", assumeLmHeadType: pick(rng, ["F16", "TQ2_0"]) });
      const geo = randomEngine(rng);
      const budget: Budget = { ...presetBudget("kv260"), memoryGBps: pick(rng, [0.5, 4, 19.2, 120]), memoryLatencyNs: pick(rng, [10, 150]) };
      const prompts = [rng.int(1, 100), rng.int(1, 300)];
      let e;
      try {
        e = estimateLatency(workload, geo, budget, { promptLengths: prompts, contextLength: 256 });
      } catch {
        continue; // an engine whose buffer half cannot hold a row of the model
      }
      // the latency model counts the memory at the engine's clock (a dequantizing engine's estimate
      // is below the kv260's 250 MHz)
      const memory = memoryTiming(engineBudget(geo, budget));
      const scales = geo.cfg.dequant ? ROW_SCALES_FOR_TIMING : undefined;
      const block = workload.block.map((m) => ({ n: m.n, k: m.k, scales }));
      const lm = workload.lmHead.ternary ? streamCycles(geo, planMatmuls(geo, [{ n: workload.lmHead.n, k: workload.lmHead.k, scales }], 1), memory).total : e.decode.lmHeadCycles;
      assert.equal(e.decode.matmulCycles, 3 * streamCycles(geo, planMatmuls(geo, block, 1), memory).total);
      assert.equal(e.decode.lmHeadCycles, lm);
      prompts.forEach((p) => assert.equal(e.prefill[String(p)]!.matmulCycles, 3 * streamCycles(geo, planMatmuls(geo, block, p), memory).total));
      const f = latencyFigures(prepareWorkload(workload), geo, budget, prompts);
      assert.deepEqual(f.decode, e.decode);
      assert.deepEqual(f.prefill, prompts.map((p) => e.prefill[String(p)]));
      assert.deepEqual(f.ttftSeconds, prompts.map((p) => e.ttftSeconds[String(p)]));
      assert.equal(f.rooflineTokensPerSecond, e.rooflineTokensPerSecond);
      assert.equal(f.decodeTokensPerSecond, e.decodeTokensPerSecond);
    }
  });
});
