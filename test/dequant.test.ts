import assert from "node:assert/strict";
import { engineGeometry, resolveEngine, type EngineConfig } from "../src/engine/config.js";
import { dequantize, fixScales, OUT_FRAC_BITS, type ScaledMatmul } from "../src/engine/scales.js";
import { planMatmuls } from "../src/engine/tiles.js";
import { type TritMatrix } from "../src/model/types.js";
import { simulateMatmuls, type EngineMatmul } from "../src/sim/simulate.js";
import { UserError } from "../src/util/errors.js";
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
    const f = { fracBits: 9, shift: 1, m: [Int16Array.from([1, 1, 1, 32767])], mu: undefined, pair: false, asym: false };
    // y·1 / 2: 3 → 1.5 → 2, -3 → -1.5 → -1, -1 → -0.5 → 0; 2^31-1 · 32767 / 2 saturates
    const y = Int32Array.from([3, -3, -1, 0x7fffffff]);
    assert.deepEqual(Array.from(dequantize([y], [0], f, 4, 1)), [2, -1, 0, 0x7fffffff]);
  });

  it("adds the second plane and the offset before the single rounding", () => {
    const f = fixScales({
      planes: [randomTrits(new Rng(2), 1, 4), randomTrits(new Rng(3), 1, 4)],
      alpha: [Float32Array.from([2]), Float32Array.from([0.5])],
      mu: Float32Array.from([0.125]),
    });
    const out = dequantize([Int32Array.from([10]), Int32Array.from([-7])], [40], f, 1, 1);
    // (2·10 + 0.5·(−7) + 0.125·40) · 2^8 = 21.5 · 256
    assert.equal(out[0], 21.5 * 256);
  });
});

// dequantizing engines: bank words of at least 32 bits hold a row's two mantissas
const ENGINES: Partial<EngineConfig>[] = [
  { G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256 },
  { G: 2, encoding: "mirrored", T: 16, P: 2, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 128 },
];

function schemes(rng: Rng, n: number, k: number): [string, EngineMatmul][] {
  const rows = (lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.float());
  const plane = (): TritMatrix => randomTrits(rng, n, k);
  const perTensor: ScaledMatmul = { planes: [plane()], alpha: [new Float32Array(n).fill(2.958984375)] };
  return [
    ["per-tensor scale (BitNet)", perTensor],
    ["per-row scales", { planes: [plane()], alpha: [rows(-3, 3)] }],
    ["two trit-planes (PTQTP)", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)] }],
    ["asymmetric α·T + μ (PT²-LLM)", { planes: [plane()], alpha: [rows(0.5, 2)], mu: rows(-0.05, 0.05) }],
    ["two planes and an offset", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)], mu: rows(-0.05, 0.05) }],
    ["integer results beside them", plane()],
  ];
}

describe("dequantization stage in Verilator", () => {
  for (const partial of ENGINES) {
    const geo = engineGeometry(resolveEngine({ loader: "axi", dequant: true, ...partial }, "test"));
    for (const tokens of [1, 3]) {
      it(`G=${partial.G} ${partial.encoding} T=${partial.T} P=${partial.P}, ${tokens} token(s): every scale scheme bit-exact, cycles as predicted`, async () => {
        const rng = new Rng(tokens * 7 + partial.P!);
        const [n, k] = [2 * partial.P! + 3, geo.stepActivations * 2 + 5];
        const cases = schemes(rng, n, k);
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
    const geo = engineGeometry(resolveEngine({ loader: "axi", dequant: true, ...ENGINES[0] }, "test"));
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

  it("refuses scales the engine cannot apply", () => {
    const rng = new Rng(9);
    const scaled: ScaledMatmul = { planes: [randomTrits(rng, 4, 8), randomTrits(rng, 4, 8)], alpha: [new Float32Array(4).fill(1), new Float32Array(4).fill(1)] };
    const fixed = fixScales(scaled);
    const plain = engineGeometry(resolveEngine({ ...ENGINES[0], loader: "axi" }, "test"));
    assert.throws(() => planMatmuls(plain, [{ n: 8, k: 8, scales: fixed }], 1), (e: unknown) => e instanceof UserError && /dequant=true/.test(e.message));
    const odd = engineGeometry(resolveEngine({ ...ENGINES[0], P: 3, loader: "axi", dequant: true }, "test"));
    assert.throws(() => planMatmuls(odd, [{ n: 8, k: 8, scales: fixed }], 1), (e: unknown) => e instanceof UserError && /must be even/.test(e.message));
    assert.throws(() => resolveEngine({ G: 2, T: 3, P: 2, c: 1, dequant: true }, "engine"), (e: unknown) => e instanceof UserError && /32 bits/.test(e.message));
    assert.throws(() => fixScales({ planes: [randomTrits(rng, 1, 4)], alpha: [Float32Array.from([NaN])] }), UserError);
  });
});
