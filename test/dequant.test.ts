import assert from "node:assert/strict";
import { engineGeometry, resolveEngine, type EngineConfig } from "../src/engine/config.js";
import { fixScales, OUT_FRAC_BITS, scaledMatmul, tensorScales, type ScaledMatmul } from "../src/engine/scales.js";
import { planMatmuls } from "../src/engine/tiles.js";
import { type TernaryTensor, type TritMatrix } from "../src/model/types.js";
import { descriptorStream, simulateMatmuls, type EngineMatmul } from "../src/sim/simulate.js";
import { inTensor, UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits } from "./helpers.js";

describe("dequantization: fixed-point rules", () => {
  it("turns scales into 16-bit mantissas with the largest shared exponent", () => {
    const f = fixScales({ planes: [randomTrits(new Rng(1), 2, 4)], alpha: [Float32Array.from([1.5, -0.25])] });
    // 1.5 · 2^14 = 24576 fits 16 bits signed; 2^15 would not
    assert.equal(f.fracBits, 14);
    assert.equal(f.shift, 14 - OUT_FRAC_BITS);
    assert.deepEqual(Array.from(f.m[0]!), [24576, -4096]);
  });

  it("rounds half up and saturates to int32", () => {
    // one weight of +1 per row: y = x; m = 1 and shift 1 halve it
    const plane = { n: 1, k: 1, trits: Int8Array.from([1]) };
    const f = { fracBits: 9, shift: 1, m: [Int16Array.from([1])], mu: undefined, pair: false, asym: false, groupSize: 0, groups: 1 };
    const half = (x: number): number => scaledMatmul({ planes: [plane], alpha: [Float32Array.from([0])] }, f, Int8Array.from([x]), 1)[0]!;
    // 3 → 1.5 → 2, -3 → -1.5 → -1, -1 → -0.5 → 0
    assert.deepEqual([half(3), half(-3), half(-1)], [2, -1, 0]);
    // 600 weights of +1 against 127 (or −128) times 32767 overflow int32 either way: saturate
    const wide = { n: 1, k: 600, trits: new Int8Array(600).fill(1) };
    const big = { ...f, shift: 0, m: [Int16Array.from([32767])] };
    const sat = (x: number): number => scaledMatmul({ planes: [wide], alpha: [Float32Array.from([0])] }, big, new Int8Array(600).fill(x), 1)[0]!;
    assert.deepEqual([sat(127), sat(-128), sat(1)], [0x7fffffff, -0x80000000, 600 * 32767]);
  });

  it("adds the second plane, the offset and every column group before one rounding", () => {
    // two columns in two groups of one; plane 0 = [+1, −1], plane 1 = [+1, +1]; x = [10, 4]
    const s: ScaledMatmul = {
      planes: [{ n: 1, k: 2, trits: Int8Array.from([1, -1]) }, { n: 1, k: 2, trits: Int8Array.from([1, 1]) }],
      alpha: [Float32Array.from([2, 1]), Float32Array.from([0.5, 0.25])],
      mu: Float32Array.from([0.125, -0.25]),
      groupSize: 1,
    };
    const f = fixScales(s);
    assert.equal(f.groups, 2);
    // group 0: 2·10 + 0.5·10 + 0.125·10 = 26.25; group 1: 1·(−4) + 0.25·4 − 0.25·4 = −4
    assert.equal(scaledMatmul(s, f, Int8Array.from([10, 4]), 1)[0], (26.25 - 4) * 256);
  });
});

// dequantizing engines: bank words of at least 32 bits hold a row's two mantissas
const ENGINES: Partial<EngineConfig>[] = [
  { G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256 },
  { G: 2, encoding: "mirrored", T: 16, P: 2, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 128 },
  { kind: "baseline", G: 2, encoding: "full", T: 8, P: 2, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 256 },
];

function schemes(rng: Rng, n: number, k: number, groupSize: number): [string, EngineMatmul][] {
  const rows = (lo: number, hi: number, groups = 1): Float32Array => Float32Array.from({ length: n * groups }, () => lo + (hi - lo) * rng.float());
  const groups = Math.ceil(k / groupSize);
  const plane = (): TritMatrix => randomTrits(rng, n, k);
  const perTensor: ScaledMatmul = { planes: [plane()], alpha: [new Float32Array(n).fill(2.958984375)] };
  return [
    ["per-tensor scale (BitNet)", perTensor],
    ["per-row scales", { planes: [plane()], alpha: [rows(-3, 3)] }],
    ["two trit-planes (PTQTP)", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)] }],
    ["asymmetric α·T + μ (PT²-LLM)", { planes: [plane()], alpha: [rows(0.5, 2)], mu: rows(-0.05, 0.05) }],
    ["two planes and an offset", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)], mu: rows(-0.05, 0.05) }],
    [`scales per row and ${groupSize}-column group (TQ blocks)`, { planes: [plane()], alpha: [rows(-3, 3, groups)], groupSize }],
    [
      `two planes, offsets, ${groupSize}-column groups (PTQTP and PT²-LLM)`,
      { planes: [plane(), plane()], alpha: [rows(0.5, 2, groups), rows(0.01, 0.3, groups)], mu: rows(-0.05, 0.05, groups), groupSize },
    ],
    ["integer results beside them", plane()],
  ];
}

describe("dequantization stage in Verilator", () => {
  for (const partial of ENGINES) {
    const geo = engineGeometry(resolveEngine({ dequant: true, ...partial }, "test"));
    for (const tokens of [1, 3]) {
      it(`${partial.kind ?? "tlmm"} G=${partial.G} ${partial.encoding} T=${partial.T} P=${partial.P}, ${tokens} token(s): every scale scheme bit-exact, cycles as predicted`, async () => {
        const rng = new Rng(tokens * 7 + partial.P!);
        // five steps of k: column groups of two steps, the last one shorter
        const [n, k] = [2 * partial.P! + 3, geo.stepActivations * 4 + 5];
        const cases = schemes(rng, n, k, 2 * geo.stepActivations);
        const xs = cases.map(() => randomActs(rng, tokens * k));
        const r = await simulateMatmuls(geo, cases.map(([, m]) => m), xs, {
          tokens,
          memory: { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 },
        });
        cases.forEach(([name], i) => assert.equal(r.matmuls[i]!.mismatches, 0, `${name}: ${JSON.stringify(r.matmuls[i]!.firstMismatches)}`));
        assert.equal(r.cycles, r.predictedCycles);
      });
    }
  }

  it("a tile of one row group: the scale sweep reads the sum its last step wrote the cycle before", async () => {
    const geo = engineGeometry(resolveEngine({ dequant: true, ...ENGINES[0] }, "test"));
    const rng = new Rng(21);
    const k = geo.stepActivations * 3 + 1;
    const cases: EngineMatmul[] = [
      { planes: [randomTrits(rng, 3, k)], alpha: [Float32Array.from([1.5, -2, 0.75])] },
      { planes: [randomTrits(rng, 2, k), randomTrits(rng, 2, k)], alpha: [Float32Array.from([1, 2]), Float32Array.from([0.5, 0.25])], mu: Float32Array.from([0.1, -0.1]) },
    ];
    const r = await simulateMatmuls(geo, cases, cases.map(() => randomActs(rng, k)), { memory: { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 } });
    assert.equal(r.mismatches, 0, JSON.stringify(r.matmuls.map((m) => m.firstMismatches)));
    assert.equal(r.cycles, r.predictedCycles);
  });

  it("a tile of one row group in one-step column groups: each sweep reads the total the sweep two cycles before wrote", async () => {
    // the pipelined stage reads a row group's earlier total in its d4 stage and writes it in d5:
    // a baseline engine (one-cycle builds) with one row group and one weight step per column group
    // sweeps the same row every two cycles at times, the closest sweeps can be
    const geo = engineGeometry(resolveEngine({ dequant: true, ...ENGINES[2] }, "test"));
    const rng = new Rng(23);
    const groupSize = geo.stepActivations;
    const k = groupSize * 6 + 3;
    const groups = Math.ceil(k / groupSize);
    const rows = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n * groups }, () => lo + (hi - lo) * rng.float());
    const cases: EngineMatmul[] = [
      { planes: [randomTrits(rng, 2, k)], alpha: [rows(2, -3, 3)], groupSize },
      { planes: [randomTrits(rng, 1, k), randomTrits(rng, 1, k)], alpha: [rows(1, 0.5, 2), rows(1, 0.01, 0.3)], mu: rows(1, -0.05, 0.05), groupSize },
    ];
    for (const tokens of [1, 2]) {
      const r = await simulateMatmuls(geo, cases, cases.map(() => randomActs(rng, tokens * k)), { tokens, memory: { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 } });
      assert.equal(r.mismatches, 0, JSON.stringify(r.matmuls.map((m) => m.firstMismatches)));
      assert.equal(r.cycles, r.predictedCycles);
    }
  });

  it("a TQ tensor's varying per-256-block scales run as column groups", async () => {
    const rng = new Rng(31);
    const [n, k] = [6, 768];
    const trits = randomTrits(rng, n, k);
    const blockScales = Float32Array.from({ length: n * 3 }, () => 0.5 + 2 * rng.float());
    const tensor: TernaryTensor = { ...trits, name: "blk.0.attn_q.weight", scale: { blockScales, uniform: false, tensorScale: Math.max(...blockScales) } };
    const scaled = tensorScales(tensor);
    assert.equal(scaled.groupSize, 256);
    const geo = engineGeometry(resolveEngine({ ...ENGINES[1], dequant: true }, "test")); // T·G = 32 divides 256
    const x = randomActs(rng, 2 * k);
    const r = await simulateMatmuls(geo, [scaled], [x], { tokens: 2, memory: { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 } });
    assert.equal(r.mismatches, 0);
    assert.equal(r.cycles, r.predictedCycles);
    // the uniform case is one scale per tensor
    const uniform = tensorScales({ ...tensor, scale: { blockScales, uniform: true, tensorScale: 1.25 } });
    assert.equal(uniform.groupSize, undefined);
    assert.deepEqual(Array.from(uniform.alpha[0]!), new Array<number>(n).fill(1.25));
  });

  it("refuses scales the engine cannot apply", () => {
    const rng = new Rng(9);
    const scaled: ScaledMatmul = { planes: [randomTrits(rng, 4, 8), randomTrits(rng, 4, 8)], alpha: [new Float32Array(4).fill(1), new Float32Array(4).fill(1)] };
    const fixed = fixScales(scaled);
    const plain = engineGeometry(resolveEngine({ ...ENGINES[0] }, "test"));
    assert.throws(() => planMatmuls(plain, [{ n: 8, k: 8, scales: fixed }], 1), (e: unknown) => e instanceof UserError && /dequant=true/.test(e.message));
    const odd = engineGeometry(resolveEngine({ ...ENGINES[0], P: 3, dequant: true }, "test"));
    assert.throws(() => planMatmuls(odd, [{ n: 8, k: 8, scales: fixed }], 1), (e: unknown) => e instanceof UserError && /must be even/.test(e.message));
    assert.throws(() => resolveEngine({ G: 2, T: 3, P: 2, c: 1, dequant: true }, "engine"), (e: unknown) => e instanceof UserError && /32 bits/.test(e.message));
    assert.throws(() => fixScales({ planes: [randomTrits(rng, 1, 4)], alpha: [Float32Array.from([NaN])] }), UserError);
    const dq = engineGeometry(resolveEngine({ ...ENGINES[0], dequant: true }, "test"));
    const grouped = fixScales({ planes: [randomTrits(rng, 4, 256)], alpha: [new Float32Array(8).fill(1)], groupSize: 128 });
    assert.throws(() => planMatmuls(dq, [{ n: 4, k: 256, scales: grouped }], 1), (e: unknown) => e instanceof UserError && /not whole steps of T·G = 24/.test(e.message));
    assert.throws(() => fixScales({ planes: [randomTrits(rng, 4, 256)], alpha: [new Float32Array(4).fill(1)], groupSize: 128 }), /4 rows × 2 groups/);
  });
});

describe("raw trits never bypass the dequantization stage (issue 13, item 2)", () => {
  it("descriptorStream, which every backend runs, refuses a model tensor's raw trits on a dequantizing engine", () => {
    const dq = engineGeometry(resolveEngine({ T: 8, P: 4, dequant: true }, "test"));
    const w = randomTrits(new Rng(3), 8, 48);
    const tensor: TernaryTensor = { ...w, name: "blk.0.attn_q.weight", scale: { uniform: true, tensorScale: 0.5 } } as TernaryTensor;
    const x = new Int8Array(48);
    assert.throws(() => descriptorStream(dq, [tensor], [x], 1), (e: Error) => e instanceof UserError && /matmul 0, tensor "blk\.0\.attn_q\.weight" \(8×48\): the engine dequantizes/.test(e.message));
    // with its scales it runs; a plain integer matmul beside scaled ones stays allowed (mixed streams)
    assert.doesNotThrow(() => descriptorStream(dq, [tensorScales(tensor), w], [x, x], 1));
  });

  it("errors while simulating a tensor name the model file and tensor, sync or async, as compile's do", async () => {
    assert.throws(() => inTensor("/m/model.gguf", "blk.0.q", () => { throw new UserError("scale NaN is not a finite number"); }), /^UserError: model\.gguf: tensor "blk\.0\.q": scale NaN/);
    await assert.rejects(inTensor("/m/model.gguf", "blk.0.q", async () => { throw new UserError("k = 1000000000 needs more"); }), /^UserError: model\.gguf: tensor "blk\.0\.q": k = 1000000000/);
  });
});
