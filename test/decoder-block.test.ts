import assert from "node:assert/strict";
import { type MemoryTiming } from "../src/budget/memory.js";
import { attentionProgram, blockProgram, blockVectorLayout, encodeProgram, matmulInstruction, PROGRAM_ITEM_BITS, type BlockInstruction } from "../src/codegen/block-program.js";
import { type BlockCapacity } from "../src/codegen/block-rtl.js";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { encodeIndices } from "../src/engine/pack.js";
import { fixScales, scaledMatmul, type ScaledMatmul } from "../src/engine/scales.js";
import { planImage, planMatmuls } from "../src/engine/tiles.js";
import { blockProgramCycles } from "../src/estimate/cycles/block.js";
import { type BlockShape } from "../src/model/block-shape.js";
import { ropeSpec } from "../src/ref/spec/rope.js";
import { writeToken } from "../src/ref/spec/kv-cache.js";
import { attendToken } from "../src/ref/spec/attention.js";
import { attentionSteps, blockSpec, cacheView, interleaveRows, stackRows, type BlockWeights } from "../src/ref/spec/block.js";
import { gate, residualAdd, scaleOut } from "../src/ref/spec/elementwise.js";
import { normQuant, normWeights, type NormWeights } from "../src/ref/spec/norm-quant.js";
import { normQuantInstances } from "../src/units/decoder/norm-quant.js";
import { packScale, type Scale } from "../src/ref/spec/fixed.js";
import { kvUnitLayout } from "../src/units/decoder/kv-cache.js";
import { itemsOf, signedOf, simulateUnit, type UnitDesign } from "../src/sim/unit-harness.js";
import { blockDesign } from "../src/sim/block-sim.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits } from "./helpers.js";

// A small dequantizing engine: block-RAM buffer, several tiles per matmul, 256-bit memory beats.
const GEO: EngineGeometry = engineGeometry(
  resolveEngine({ G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 32, dequant: true }, "test"),
);
// 76.8 B/cycle after 38 cycles (the kv260's figures at 250 MHz)
const MEMORY: MemoryTiming = { bwNum: 384, bwDen: 5, latency: 38, maxQueued: 16 };

// llama-shaped: SiLU, grouped-query attention
const LLAMA: BlockShape = { hidden: 32, ffn: 48, heads: 4, kvHeads: 2, headDim: 8, activation: "silu", subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext: 32 };

// bitnet-b1.58-shaped: ReLU², sub-norms, as many KV heads as query heads
const BITNET: BlockShape = { hidden: 48, ffn: 64, heads: 6, kvHeads: 6, headDim: 8, activation: "relu2", subNorms: true, eps: 1e-5, ropeTheta: 10000, maxContext: 32 };

// one build serves every test: buffers for the llama shape's widest matmul and 5 tokens
const CAPACITY: BlockCapacity = { maxK: 64, maxN: 144, tokens: 5, vector: 5 * 192, residual: 5 * 48, up: 5 * 64 };

// the whole-block runs at context 100 and 16-token prefills: the same buffers, 16 tokens deep
const CAPACITY_16: BlockCapacity = { maxK: 64, maxN: 144, tokens: 16, vector: 16 * 192, residual: 16 * 48, up: 16 * 64 };

function emptyCache(shape: BlockShape): { image: Uint8Array; timing: MemoryTiming } {
  return { image: new Uint8Array(kvUnitLayout(shape).totalBytes), timing: MEMORY };
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

/**
 * Runs a whole block from one program on Verilator for each (tokens, position) case: residual out
 * and KV image bit-exact with blockSpec, cycles equal to blockProgramCycles, every cycle booked to a
 * unit; prefills also under backpressure.
 */
async function checkWholeBlock(shape: BlockShape, design: UnitDesign, rng: Rng, cases: readonly (readonly [number, number])[]): Promise<void> {
  const { hidden, ffn, kvHeads, headDim } = shape;
  const kvDim = kvHeads * headDim;
  const part = (n: number, k: number): { m: ReturnType<typeof randomTrits>; alpha: Float32Array } => ({
    m: randomTrits(rng, n, k),
    alpha: new Float32Array(n).fill(0.005 + rng.float() * 0.05),
  });
  const norm = (d: number): NormWeights => normWeights(Float32Array.from({ length: d }, () => 0.5 + rng.float()));
  const w: BlockWeights = {
    qkv: stackRows([part(hidden, hidden), part(kvDim, hidden), part(kvDim, hidden)]),
    o: stackRows([part(hidden, hidden)]),
    gateUp: interleaveRows(part(ffn, hidden), part(ffn, hidden)),
    down: stackRows([part(hidden, ffn)]),
    attnNorm: norm(hidden),
    ffnNorm: norm(hidden),
    attnSubNorm: shape.subNorms ? norm(hidden) : undefined,
    ffnSubNorm: shape.subNorms ? norm(ffn) : undefined,
  };
  const matrices = [w.qkv, w.o, w.gateUp, w.down];
  const fixed = matrices.map((m) => fixScales(m));
  const kv = kvUnitLayout(shape);
  const A = (): number => rng.int(-(2 ** 19), 2 ** 19);
  for (const [tokens, position] of cases) {
    const plan = planMatmuls(GEO, matrices.map((m, i) => ({ n: m.planes[0]!.n, k: m.planes[0]!.k, scales: fixed[i] })), tokens);
    const image = planImage(GEO, matrices.map((m) => encodeIndices(GEO, m.planes[0]!)), plan);
    const initial = new Uint8Array(kv.totalBytes);
    for (let p = 0; p < position; p++) writeToken(initial, kv, 0, p, Array.from({ length: 2 * kvDim }, A));
    const h = Int32Array.from({ length: tokens * hidden }, () => rng.int(-(2 ** 20), 2 ** 20));
    const cache = initial.slice();
    const expected = blockSpec(shape, w, h, position, tokens, { image: cache, layout: kv, layerAddr: 0 });
    const program = blockProgram(GEO, shape, plan, { position, tokens, kvAddr: 0 });
    const words = (v: NormWeights): number[] => Array.from({ length: tokens * v.mant.length }, (_, i) => ((v.exp & 0xff) << 16) | (v.mant[i % v.mant.length]! & 0xffff));
    const nw = [w.attnNorm, ...(shape.subNorms ? [w.attnSubNorm!] : []), w.ffnNorm, ...(shape.subNorms ? [w.ffnSubNorm!] : [])].flatMap(words);
    const run = {
      inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(h, 32), nw: itemsOf(nw, 24) },
      expect: { out: expected.length },
      memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY }, kv: { image: initial, timing: MEMORY } },
    };
    const r = await simulateUnit(design, run);
    assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), [...expected], `${tokens} token(s) at ${position}`);
    assert.deepEqual(r.memories["kv"], cache, "KV cache image");
    const model = blockProgramCycles(GEO, shape, program, MEMORY);
    assert.equal(r.cycles, model.total, JSON.stringify(model.units));
    // every cycle is booked to one unit (or the sequencer's issue)
    assert.equal(Object.values(model.units).reduce((x, y) => x + y, 0), model.total);
    for (const unit of ["engine", "normQuant", "scaleOut", "rope", "kvWriter", "attention", "residual", "gate"]) assert.ok(model.units[unit]! > 0, unit);
    if (tokens > 1) {
      const b = await simulateUnit(design, { ...run, backpressure: { seed: 10 } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), [...expected], "under backpressure");
      assert.deepEqual(b.memories["kv"], cache, "KV cache image under backpressure");
    }
  }
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
    const design = blockDesign(GEO, LLAMA, CAPACITY);
    const run = {
      inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: itemsOf(xin, 8), ain: [], nw: [] },
      expect: { out: expected.length },
      memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY }, kv: emptyCache(LLAMA) },
    };
    const r = await simulateUnit(design, run);
    assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected);
    const model = blockProgramCycles(GEO, LLAMA, program, MEMORY);
    assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
    for (const seed of [1, 2]) {
      const b = await simulateUnit(design, { ...run, backpressure: { seed } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `backpressure seed ${seed}`);
    }
  });

  it("rotates q and k in the vector buffer with RoPE at each token's position: bit-exact, cycles as the model", async function () {
    const rng = new Rng(15);
    const shape = LLAMA;
    const kvDim = shape.kvHeads * shape.headDim;
    const width = shape.hidden + 2 * kvDim;
    for (const [tokens, pos] of [[1, 16], [5, 3]] as const) {
      const a = Int32Array.from({ length: tokens * width }, () => rng.int(-(2 ** 20), 2 ** 20));
      const program: BlockInstruction[] = [
        { op: "loadA", n: width, tokens, stride: width, base: 0 },
        { op: "rope", n: shape.hidden, tokens, stride: width, base: 0, pos },
        { op: "rope", n: kvDim, tokens, stride: width, base: shape.hidden, pos },
        { op: "storeA", n: width, tokens, stride: width, base: 0 },
      ];
      const expected: number[] = [];
      for (let t = 0; t < tokens; t++) {
        const row = a.subarray(t * width, (t + 1) * width);
        expected.push(
          ...ropeSpec(row.subarray(0, shape.hidden), shape.heads, shape.headDim, pos + t, shape.ropeTheta),
          ...ropeSpec(row.subarray(shape.hidden, shape.hidden + kvDim), shape.kvHeads, shape.headDim, pos + t, shape.ropeTheta),
          ...row.subarray(shape.hidden + kvDim),
        );
      }
      const run = {
        inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(a, 32), nw: [] },
        expect: { out: expected.length },
        memories: { w: { image: new Uint8Array(4096), timing: MEMORY }, kv: emptyCache(shape) },
      };
      const design = blockDesign(GEO, shape, CAPACITY);
      const r = await simulateUnit(design, run);
      assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected);
      assert.deepEqual(r.outputs["out"]!.map((it) => it.last), expected.map((_, i) => (i + 1) % width === 0));
      const model = blockProgramCycles(GEO, shape, program, MEMORY);
      assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
      const b = await simulateUnit(design, { ...run, backpressure: { seed: 3 } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, "under backpressure");
    }
  });

  it("writes k and v of each token into the KV cache at its position: memory image bit-exact, cycles as the model", async function () {
    const rng = new Rng(16);
    const shape = LLAMA;
    const layout = kvUnitLayout(shape);
    const kvDim = shape.kvHeads * shape.headDim;
    const width = shape.hidden + 2 * kvDim;
    for (const [tokens, pos] of [[1, 17], [5, 0]] as const) {
      const a = Int32Array.from({ length: tokens * width }, () => rng.int(-(2 ** 22), 2 ** 22));
      // the cache already holds other positions' rows: they must survive
      const initial = Uint8Array.from({ length: layout.totalBytes }, () => rng.int(0, 255));
      const program: BlockInstruction[] = [
        { op: "loadA", n: width, tokens, stride: width, base: 0 },
        { op: "kvWrite", n: 2 * kvDim, tokens, stride: width, base: shape.hidden, pos, addr: 0 },
        { op: "storeA", n: 1, tokens: 1, stride: width, base: 0 },
      ];
      const expected = initial.slice();
      for (let t = 0; t < tokens; t++) writeToken(expected, layout, 0, pos + t, [...a.subarray(t * width + shape.hidden, (t + 1) * width)]);
      const run = {
        inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(a, 32), nw: [] },
        expect: { out: 1 },
        memories: { w: { image: new Uint8Array(4096), timing: MEMORY }, kv: { image: initial, timing: MEMORY } },
      };
      const design = blockDesign(GEO, shape, CAPACITY);
      const r = await simulateUnit(design, run);
      assert.deepEqual(r.memories["kv"], expected);
      const model = blockProgramCycles(GEO, shape, program, MEMORY);
      assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
      const b = await simulateUnit(design, { ...run, backpressure: { seed: 4 } });
      assert.deepEqual(b.memories["kv"], expected, "under backpressure");
    }
  });

  it("attends over the KV cache (GQA, decode and causal prefill) after writing the tokens' k, v: bit-exact, cycles as the model", async function () {
    const rng = new Rng(17);
    const shape = LLAMA;
    const layout = kvUnitLayout(shape);
    const kvDim = shape.kvHeads * shape.headDim;
    const width = shape.hidden + 2 * kvDim;
    const A = (): number => rng.int(-(2 ** 18), 2 ** 18);
    for (const [tokens, pos] of [[1, 0], [1, 16], [5, 2]] as const) {
      // earlier positions' rows, as earlier tokens wrote them
      const initial = new Uint8Array(layout.totalBytes);
      for (let p = 0; p < pos; p++) writeToken(initial, layout, 0, p, Array.from({ length: 2 * kvDim }, A));
      const a = Int32Array.from({ length: tokens * width }, A);
      const outBase = tokens * width;
      const program: BlockInstruction[] = [
        { op: "loadA", n: width, tokens, stride: width, base: 0 },
        { op: "kvWrite", n: 2 * kvDim, tokens, stride: width, base: shape.hidden, pos, addr: 0 },
        { op: "attention", tokens, pos, qBase: 0, qStride: width, outBase, outStride: shape.hidden, addr: 0 },
        { op: "storeA", n: shape.hidden, tokens, stride: shape.hidden, base: outBase },
      ];
      const cache = initial.slice();
      for (let t = 0; t < tokens; t++) writeToken(cache, layout, 0, pos + t, [...a.subarray(t * width + shape.hidden, (t + 1) * width)]);
      const expected: number[] = [];
      for (let t = 0; t < tokens; t++) {
        const L = pos + t + 1;
        const view = cacheView({ image: cache, layout, layerAddr: 0 }, shape.kvHeads, L);
        expected.push(...attendToken(a.subarray(t * width, t * width + shape.hidden), shape.heads, shape.kvHeads, view, L));
      }
      const run = {
        inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(a, 32), nw: [] },
        expect: { out: expected.length },
        memories: { w: { image: new Uint8Array(4096), timing: MEMORY }, kv: { image: initial, timing: MEMORY } },
      };
      const design = blockDesign(GEO, shape, CAPACITY);
      const r = await simulateUnit(design, run);
      assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `tokens ${tokens} at ${pos}`);
      assert.deepEqual(r.memories["kv"], cache);
      const model = blockProgramCycles(GEO, shape, program, MEMORY);
      assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
      const b = await simulateUnit(design, { ...run, backpressure: { seed: 5 } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, "under backpressure");
    }
  });

  for (const shape of [LLAMA, BITNET]) {
    it(`runs the attention half of a ${shape.activation === "silu" ? "llama" : "bitnet"}-shaped block (RoPE, KV write, attention) from its program: bit-exact, cycles as the model`, async function () {
      const rng = new Rng(shape.hidden);
      const kv = kvUnitLayout(shape);
      const kvDim = shape.kvHeads * shape.headDim;
      const A = (): number => rng.int(-(2 ** 19), 2 ** 19);
      const layout5 = blockVectorLayout(shape, 5);
      const design = blockDesign(GEO, shape, { ...CAPACITY, vector: layout5.size });
      // decode at contexts 1 and 17, a prefill of 5 tokens after 3
      for (const [tokens, position] of [[1, 0], [1, 16], [5, 3]] as const) {
        const layout = blockVectorLayout(shape, tokens);
        const kvAddr = kv.regionBytes * 2 * shape.kvHeads; // the second layer's slot
        const initial = Uint8Array.from({ length: kvAddr + kv.regionBytes * 2 * shape.kvHeads }, () => rng.int(0, 255));
        for (let p = 0; p < position; p++) writeToken(initial, kv, kvAddr, p, Array.from({ length: 2 * kvDim }, A));
        const qkv = Int32Array.from({ length: tokens * layout.qkv.stride }, A);
        const program: BlockInstruction[] = [
          { op: "loadA", n: layout.qkv.stride, tokens, stride: layout.qkv.stride, base: layout.qkv.base },
          ...attentionProgram(shape, layout, { position, tokens, kvAddr }),
          { op: "storeA", n: shape.hidden, tokens, stride: layout.attention.stride, base: layout.attention.base },
        ];
        const cache = initial.slice();
        const expected = attentionSteps(shape, qkv, position, tokens, { image: cache, layout: kv, layerAddr: kvAddr });
        const run = {
          inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(qkv, 32), nw: [] },
          expect: { out: expected.length },
          memories: { w: { image: new Uint8Array(4096), timing: MEMORY }, kv: { image: initial, timing: MEMORY } },
        };
        const r = await simulateUnit(design, run);
        assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), [...expected], `${tokens} token(s) at ${position}`);
        assert.deepEqual(r.memories["kv"], cache, "KV cache image");
        const model = blockProgramCycles(GEO, shape, program, MEMORY);
        assert.equal(r.cycles, model.total, JSON.stringify(model.units));
        if (tokens > 1) {
          const b = await simulateUnit(design, { ...run, backpressure: { seed: 6 } });
          assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), [...expected], "under backpressure");
          assert.deepEqual(b.memories["kv"], cache, "KV cache image under backpressure");
        }
      }
    });
  }

  it("adds a matmul's scaled-out output into the residual stream (o projection): bit-exact, cycles as the model", async function () {
    const rng = new Rng(18);
    const shape = LLAMA;
    const design = blockDesign(GEO, shape, CAPACITY);
    for (const tokens of [1, 5]) {
      const { hidden } = shape;
      const s = randomScaled(rng, hidden, hidden);
      const f = fixScales(s);
      const plan = planMatmuls(GEO, [{ n: hidden, k: hidden, scales: f }], tokens);
      const image = planImage(GEO, [encodeIndices(GEO, s.planes[0]!)], plan);
      const x = randomActs(rng, tokens * hidden);
      const h = Int32Array.from({ length: tokens * hidden }, () => rng.int(-(2 ** 24), 2 ** 24));
      // scales as the quantizer makes them: normalized mantissas, exponents around A's range
      const scales: Scale[] = Array.from({ length: tokens }, () => ({ m: rng.int(2 ** 15, 2 ** 16 - 1), e: rng.int(-30, -18) }));
      const mm = matmulInstruction(GEO, plan.tiles, tokens);
      const program: BlockInstruction[] = [
        { op: "loadX", k: hidden, tokens },
        mm,
        ...scales.map((sc, t): BlockInstruction => ({ op: "setScale", token: t, scale: packScale(sc) })),
        { op: "scaleOut", n: hidden, tokens, stride: hidden, base: 0, groups: mm.groups },
        { op: "loadH", n: hidden, tokens, hStride: hidden, hBase: 0 },
        { op: "residual", n: hidden, tokens, stride: hidden, base: 0, hStride: hidden, hBase: 0 },
        { op: "storeH", n: hidden, tokens, hStride: hidden, hBase: 0 },
      ];
      const y = scaledMatmul(s, f, x, tokens);
      const expected: number[] = [];
      for (let t = 0; t < tokens; t++) {
        const o = scaleOut(y.subarray(t * hidden, (t + 1) * hidden), scales[t]!);
        expected.push(...residualAdd(h.subarray(t * hidden, (t + 1) * hidden), o));
      }
      const run = {
        inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: itemsOf(x, 8), ain: itemsOf(h, 32), nw: [] },
        expect: { out: expected.length },
        memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY }, kv: emptyCache(shape) },
      };
      const r = await simulateUnit(design, run);
      assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `${tokens} token(s)`);
      const model = blockProgramCycles(GEO, shape, program, MEMORY);
      assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
      const b = await simulateUnit(design, { ...run, backpressure: { seed: 7 } });
      assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, "under backpressure");
    }
  });

  for (const shape of [LLAMA, BITNET]) {
    it(`runs the fused gate|up matmul, its split scale-out and the ${shape.activation} gate: bit-exact, cycles as the model`, async function () {
      const rng = new Rng(19 + shape.hidden);
      const design = blockDesign(GEO, shape, CAPACITY);
      const { hidden, ffn } = shape;
      for (const tokens of [1, 3]) {
        const part = (): { m: ReturnType<typeof randomTrits>; alpha: Float32Array } => ({
          m: randomTrits(rng, ffn, hidden),
          alpha: new Float32Array(ffn).fill(0.002 + rng.float() * 0.05),
        });
        const s = interleaveRows(part(), part());
        const f = fixScales(s);
        const plan = planMatmuls(GEO, [{ n: 2 * ffn, k: hidden, scales: f }], tokens);
        const image = planImage(GEO, [encodeIndices(GEO, s.planes[0]!)], plan);
        const x = randomActs(rng, tokens * hidden);
        const scales: Scale[] = Array.from({ length: tokens }, () => ({ m: rng.int(2 ** 15, 2 ** 16 - 1), e: rng.int(-30, -20) }));
        const mm = matmulInstruction(GEO, plan.tiles, tokens);
        const program: BlockInstruction[] = [
          { op: "loadX", k: hidden, tokens },
          mm,
          ...scales.map((sc, t): BlockInstruction => ({ op: "setScale", token: t, scale: packScale(sc) })),
          { op: "scaleOut", n: ffn, tokens, stride: ffn, base: 0, groups: mm.groups, split: { uStride: ffn, uBase: 0 } },
          { op: "gate", n: ffn, tokens, stride: ffn, base: 0, uStride: ffn, uBase: 0 },
          { op: "storeA", n: ffn, tokens, stride: ffn, base: 0 },
        ];
        const y = scaledMatmul(s, f, x, tokens);
        const expected: number[] = [];
        for (let t = 0; t < tokens; t++) {
          const a = scaleOut(y.subarray(t * 2 * ffn, (t + 1) * 2 * ffn), scales[t]!);
          expected.push(...gate(a.filter((_, i) => i % 2 === 0), a.filter((_, i) => i % 2 === 1), shape.activation));
        }
        const run = {
          inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: itemsOf(x, 8), ain: [], nw: [] },
          expect: { out: expected.length },
          memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY }, kv: emptyCache(shape) },
        };
        const r = await simulateUnit(design, run);
        assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `${tokens} token(s)`);
        const model = blockProgramCycles(GEO, shape, program, MEMORY);
        assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
        if (tokens > 1) {
          const b = await simulateUnit(design, { ...run, backpressure: { seed: 8 } });
          assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, "under backpressure");
        }
      }
    });
  }

  for (const shape of [LLAMA, BITNET]) {
    it(`normalizes and quantizes the residual stream into a matmul and its scale-out (the ${shape.activation === "silu" ? "llama" : "bitnet"} q|k|v step): bit-exact, cycles as the model`, async function () {
      const rng = new Rng(20 + shape.hidden);
      const design = blockDesign(GEO, shape, CAPACITY);
      const { hidden } = shape;
      const n = 40; // rows: not a multiple of P
      const instance = normQuantInstances(shape).findIndex((i) => i.d === hidden && i.norm);
      for (const tokens of [1, 3]) {
        const s = randomScaled(rng, n, hidden);
        const f = fixScales(s);
        const plan = planMatmuls(GEO, [{ n, k: hidden, scales: f }], tokens);
        const image = planImage(GEO, [encodeIndices(GEO, s.planes[0]!)], plan);
        const h = Int32Array.from({ length: tokens * hidden }, () => rng.int(-(2 ** 22), 2 ** 22));
        const w = normWeights(Float32Array.from({ length: hidden }, () => 0.5 + rng.float()));
        const mm = matmulInstruction(GEO, plan.tiles, tokens);
        const program: BlockInstruction[] = [
          { op: "loadH", n: hidden, tokens, hStride: hidden, hBase: 0 },
          { op: "normQuant", d: hidden, tokens, instance, from: "residual", stride: hidden, base: 0 },
          mm,
          { op: "scaleOut", n, tokens, stride: n, base: 0, groups: mm.groups },
          { op: "storeA", n, tokens, stride: n, base: 0 },
        ];
        const expected: number[] = [];
        for (let t = 0; t < tokens; t++) {
          const r = normQuant(h.subarray(t * hidden, (t + 1) * hidden), w, { d: hidden, eps: shape.eps });
          expected.push(...scaleOut(scaledMatmul(s, f, r.q, 1), r.scale));
        }
        const nw = Array.from({ length: tokens * hidden }, (_, i) => ((w.exp & 0xff) << 16) | (w.mant[i % hidden]! & 0xffff));
        const run = {
          inputs: { prog: itemsOf(encodeProgram(GEO, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(h, 32), nw: itemsOf(nw, 24) },
          expect: { out: expected.length },
          memories: { w: { image: new Uint8Array(image.buffer), timing: MEMORY }, kv: emptyCache(shape) },
        };
        const r = await simulateUnit(design, run);
        assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, `${tokens} token(s)`);
        const model = blockProgramCycles(GEO, shape, program, MEMORY);
        assert.equal(r.cycles, model.total, JSON.stringify(model.instructions));
        const b = await simulateUnit(design, { ...run, backpressure: { seed: 9 } });
        assert.deepEqual(b.outputs["out"]!.map((it) => signedOf(it.data, 32)), expected, "under backpressure");
      }
    });
  }

  for (const shape of [LLAMA, BITNET]) {
    const name = shape.activation === "silu" ? "llama" : "bitnet-b1.58";
    it(`runs a whole ${name}-shaped decoder block from one program: residual and KV cache bit-exact with blockSpec, cycles as the model`, async function () {
      // decode at contexts 1 and 17, a prefill of 5 tokens after 3
      await checkWholeBlock(shape, blockDesign(GEO, shape, CAPACITY), new Rng(30 + shape.hidden), [[1, 0], [1, 16], [5, 3]]);
    });
  }

  for (const shape of [LLAMA, BITNET]) {
    const name = shape.activation === "silu" ? "llama" : "bitnet-b1.58";
    it(`runs a whole ${name}-shaped block at decode context 100 and as a 16-token prefill: bit-exact with blockSpec, cycles as the model`, async function () {
      // a build deep enough for context 100 and wide enough for 16 tokens (the prefill of 1 is the context-1 decode above)
      const long: BlockShape = { ...shape, maxContext: 128 };
      await checkWholeBlock(long, blockDesign(GEO, long, CAPACITY_16), new Rng(40 + shape.hidden), [[1, 99], [16, 0]]);
    });
  }
});
