import assert from "node:assert/strict";
import { type MemoryTiming } from "../src/budget/memory.js";
import { encodeProgram, matmulInstruction, PROGRAM_ITEM_BITS, type BlockInstruction } from "../src/codegen/block-program.js";
import { BLOCK_TOP, generateBlockRtl, type BlockCapacity } from "../src/codegen/block-rtl.js";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { encodeIndices } from "../src/engine/pack.js";
import { fixScales, scaledMatmul, type ScaledMatmul } from "../src/engine/scales.js";
import { planImage, planMatmuls } from "../src/engine/tiles.js";
import { blockProgramCycles } from "../src/estimate/cycles/block.js";
import { itemsOf, signedOf, simulateUnit, type UnitDesign } from "../src/sim/unit-harness.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits } from "./helpers.js";

// A small dequantizing engine: block-RAM buffer, several tiles per matmul, 256-bit memory beats.
const GEO: EngineGeometry = engineGeometry(
  resolveEngine({ G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 32, dequant: true }, "test"),
);
// 76.8 B/cycle after 38 cycles (the kv260's figures at 250 MHz)
const MEMORY: MemoryTiming = { bwNum: 384, bwDen: 5, latency: 38, maxQueued: 16 };

function blockDesign(geo: EngineGeometry, cap: BlockCapacity): UnitDesign {
  return {
    top: BLOCK_TOP,
    sources: generateBlockRtl(geo, cap),
    inputs: [
      { name: "prog", width: PROGRAM_ITEM_BITS },
      { name: "xin", width: 8 },
    ],
    outputs: [{ name: "out", width: 32, last: true }],
    memories: [{ name: "w", beatBytes: geo.beatBytes }],
  };
}

interface MatmulCase {
  readonly s: ScaledMatmul;
  readonly x: Int8Array;
}

function randomScaled(rng: Rng, n: number, k: number): ScaledMatmul {
  const w = randomTrits(rng, n, k);
  // a per-tensor scale on each of up to three row blocks (a fused q|k|v has one per tensor)
  const third = Math.ceil(n / 3);
  const scales = [0, 1, 2].map(() => 0.002 + rng.float() * 0.05);
  return { planes: [w], alpha: [Float32Array.from({ length: n }, (_, r) => scales[Math.floor(r / third)]!)] };
}

describe("block accelerator: engine, int8 buffer feeder, result collector", function () {
  this.timeout(600000);
  it("runs matmuls back to back from one program: bit-exact with scaledMatmul, cycles as the model", async function () {
    const rng = new Rng(14);
    const tokens = 3;
    // odd shapes: k not a multiple of T·G, n not of P, several tiles, then a second matmul
    const cases: MatmulCase[] = [
      { s: randomScaled(rng, 37, 43), x: randomActs(rng, tokens * 43) },
      { s: randomScaled(rng, 22, 29), x: randomActs(rng, tokens * 29) },
    ];
    const fixed = cases.map((c) => fixScales(c.s));
    const plan = planMatmuls(GEO, cases.map((c, i) => ({ n: c.s.planes[0]!.n, k: c.s.planes[0]!.k, scales: fixed[i] })), tokens);
    const image = planImage(GEO, cases.map((c) => encodeIndices(GEO, c.s.planes[0]!)), plan);
    const program: BlockInstruction[] = [];
    const xin: number[] = [];
    const expected: number[] = [];
    cases.forEach((c, i) => {
      const m = plan.matmuls[i]!;
      const mm = matmulInstruction(GEO, plan.tiles.slice(m.firstTile, m.firstTile + m.tileCount), tokens);
      program.push({ op: "loadX", k: m.k, tokens }, mm, { op: "storeY", n: m.n, tokens, groups: mm.groups });
      xin.push(...c.x);
      expected.push(...scaledMatmul(c.s, fixed[i]!, c.x, tokens));
    });
    assert.ok(plan.matmuls[0]!.tileCount > 1, "the first matmul spans several tiles");
    const design = blockDesign(GEO, { maxK: 43, maxN: 37, tokens });
    const run = {
      inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: itemsOf(xin, 8) },
      expect: { out: expected.length },
      memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY } },
    };
    const r = await simulateUnit(design, run);
    assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected);
    const model = blockProgramCycles(GEO, program, MEMORY);
    assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
    for (const seed of [1, 2]) {
      const b = await simulateUnit(design, { ...run, backpressure: { seed } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `backpressure seed ${seed}`);
    }
  });
});
