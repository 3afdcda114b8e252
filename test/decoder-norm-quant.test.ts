import { strict as assert } from "node:assert";
import { quantizeActivations } from "../src/ref/activations.js";
import { packScale, scaleValue } from "../src/ref/spec/fixed.js";
import { normQuant, normQuantTokens, normWeights, normWeightValues, type NormWeights } from "../src/ref/spec/norm-quant.js";
import { itemsOf, signedOf, simulateUnit, simulateUnitHls, type StreamItem, type UnitHlsDesign } from "../src/sim/unit-harness.js";
import { normQuantCycles, normQuantHls, normQuantSources } from "../src/units/decoder/norm-quant.js";
import { slowSuite } from "./helpers.js";

const EPS = 1e-5;

/** A seeded generator (LCG) so every run sees the same vectors. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
/** Gaussian activations (A units) with an outlier every 17th element, as residual streams have. */
function activations(n: number, seed: number, scale = 0.8): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, (_, i) => {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    return Math.round(g * (i % 17 === 3 ? 30 : 1) * scale * 65536);
  });
}
function weightsOf(d: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: d }, () => 0.2 + 1.6 * r());
}

/** The float64 reference: RMSNorm (host.ts) then the absmax quantizer (activations.ts). */
function floatRef(x: Int32Array, w: Float64Array | undefined, d: number): { y: Float64Array; q: Int8Array } {
  const xf = Float64Array.from(x, (v) => v / 65536);
  let y = xf;
  if (w) {
    let ss = 0;
    for (const v of xf) ss += v * v;
    const inv = 1 / Math.sqrt(ss / d + EPS);
    y = Float64Array.from(xf, (v, j) => v * inv * w[j]!);
  }
  return { y, q: quantizeActivations(y, 1, d).q };
}

describe("norm-quant spec vs float64", () => {
  for (const d of [64, 1536]) {
    for (const norm of [true, false]) {
      it(`d = ${d}, ${norm ? "RMSNorm" : "bypass"}: q·S within 0.5/127 of max|y| (+1e-4), scale within 1e-4, few q differ`, () => {
        let maxRel = 0;
        let sumRel = 0;
        let n = 0;
        let differ = 0;
        let scaleErr = 0;
        for (let seed = 1; seed <= 8; seed++) {
          const x = activations(d, seed);
          const wq: NormWeights | undefined = norm ? normWeights(weightsOf(d, 100 + seed)) : undefined;
          const { q, scale } = normQuant(x, wq, { d, eps: EPS });
          // the float quantizer on the float norm with the converter's weights: q differences come from the hardware alone
          const ref = floatRef(x, wq ? normWeightValues(wq) : undefined, d);
          const maxY = Math.max(...ref.y.map(Math.abs));
          scaleErr = Math.max(scaleErr, Math.abs(scaleValue(scale) / (maxY / 127) - 1));
          for (let j = 0; j < d; j++) {
            const e = Math.abs(q[j]! * scaleValue(scale) - ref.y[j]!) / maxY;
            maxRel = Math.max(maxRel, e);
            sumRel += e;
            n++;
            if (q[j] !== ref.q[j]) differ++;
          }
        }
        // int8 rounding is at most half a step, 0.5/127 of the token's max
        assert.ok(maxRel <= 0.5 / 127 + 1e-4, `max error ${maxRel}`);
        assert.ok(scaleErr <= 1e-4, `scale error ${scaleErr}`);
        assert.ok(differ / n <= 1e-3, `${differ} of ${n} q differ`);
        console.log(`      max ${maxRel.toExponential(3)} mean ${(sumRel / n).toExponential(3)} scale ${scaleErr.toExponential(2)} q differ ${differ}/${n}`);
      });
    }
  }

  it("the weight converter keeps 15 significant bits of the largest weight", () => {
    const w = normWeights(Float32Array.from([0.5, -3.25, 1e-3]));
    assert.equal(w.exp, -13);
    assert.deepEqual(Array.from(w.mant), [4096, -26624, 8]);
  });

  it("a zero token gives zeros and a zero scale", () => {
    const r = normQuant(new Int32Array(40), undefined, { d: 40, eps: EPS });
    assert.deepEqual(r.scale, { m: 0, e: 0 });
    assert.ok(r.q.every((v) => v === 0));
  });
});

interface Case {
  d: number;
  norm: boolean;
  tokens: number;
}

function design(c: Case) {
  const top = `nq_${c.d}_${c.norm ? "n" : "b"}`;
  return {
    top,
    sources: normQuantSources([{ module: top, d: c.d, norm: c.norm }], EPS),
    inputs: [{ name: "x", width: 32 }, ...(c.norm ? [{ name: "w", width: 24 }] : [])],
    outputs: [{ name: "q", width: 8, last: true }, { name: "s", width: 24 }],
  };
}

function runOf(c: Case, seed: number) {
  const x = activations(c.d * c.tokens, seed);
  const wq = c.norm ? normWeights(weightsOf(c.d, seed + 50)) : undefined;
  const ref = normQuantTokens(x, c.tokens, wq, { d: c.d, eps: EPS });
  const inputs: Record<string, StreamItem[]> = { x: itemsOf(x, 32) };
  if (wq) {
    const words: number[] = [];
    for (let t = 0; t < c.tokens; t++) for (let j = 0; j < c.d; j++) words.push(((wq.exp & 0xff) << 16) | (wq.mant[j]! & 0xffff));
    inputs.w = itemsOf(words, 24);
  }
  return { inputs, ref, expect: { q: c.d * c.tokens, s: c.tokens } };
}

function checkOutputs(c: Case, outputs: Record<string, StreamItem[]>, ref: ReturnType<typeof normQuantTokens>): void {
  const q = outputs.q!.map((it) => signedOf(it.data, 8));
  assert.deepEqual(q, Array.from(ref.q));
  assert.deepEqual(outputs.q!.map((it) => it.last === true), Array.from({ length: q.length }, (_, i) => i % c.d === c.d - 1));
  assert.deepEqual(outputs.s!.map((it) => Number(it.data)), ref.scales.map(packScale));
}

describe("norm-quant in Verilator", function () {
  this.timeout(1_200_000);
  const cases: Case[] = [
    { d: 40, norm: true, tokens: 3 },
    { d: 64, norm: true, tokens: 2 },
    { d: 100, norm: true, tokens: 1 },
    { d: 40, norm: false, tokens: 3 },
  ];
  for (const c of cases) {
    it(`d = ${c.d}, ${c.norm ? "RMSNorm" : "bypass"}, ${c.tokens} token(s): bit-exact, cycles = the model, bit-exact under backpressure`, async () => {
      const r = runOf(c, c.d + c.tokens);
      const out = await simulateUnit(design(c), { inputs: r.inputs, expect: r.expect });
      checkOutputs(c, out.outputs, r.ref);
      assert.equal(out.cycles, normQuantCycles(c.d, c.norm, c.tokens));
      for (const seed of [1, 2]) {
        const bp = await simulateUnit(design(c), { inputs: r.inputs, expect: r.expect, backpressure: { seed } });
        checkOutputs(c, bp.outputs, r.ref);
      }
    });
  }
});

/**
 * Edge tokens of d values: a zero vector, single outliers at both int32 ends, exact rounding ties
 * (z_0 = ±254·c and odd multiples of c elsewhere: 127·z/max|z| = k + 1/2), a tiny vector (Σx² below
 * 2^64: the rsqrt's left shift) and a full-scale one (Σx² = d·2^62: the widest sum).
 */
function edgeTokens(d: number): Int32Array[] {
  const tie = (c: number) => Int32Array.from({ length: d }, (_, j) => (j === 0 ? 254 * c : (2 * (j % 100) + 1) * c) * (j % 3 === 1 ? -1 : 1));
  const small = activations(d, 7, 0.01);
  return [
    new Int32Array(d),
    Int32Array.from(small, (v, j) => (j === d >> 1 ? -0x80000000 : v)),
    Int32Array.from(small, (v, j) => (j === 3 ? 0x7fffffff : v)),
    tie(1),
    tie(4096),
    Int32Array.from({ length: d }, (_, j) => (j % 2 === 0 ? 1 : -1)),
    new Int32Array(d).fill(-0x80000000),
  ];
}

/** Whether some element of a token is an exact tie of the int8 rounding: 254|z| an odd multiple of M. */
function hasTie(x: Int32Array, mant: ArrayLike<number> | undefined): boolean {
  const z = Array.from(x, (v, j) => BigInt(v) * BigInt(mant ? mant[j]! : 1));
  const M = z.reduce((m, v) => (v < 0n ? -v : v) > m ? (v < 0n ? -v : v) : m, 0n);
  return M > 0n && z.some((v) => ((254n * (v < 0n ? -v : v)) % (2n * M)) === M);
}

describe("norm-quant HLS (C simulation) against the spec", function () {
  this.timeout(600_000);
  const cases: Case[] = [
    { d: 40, norm: true, tokens: 3 },
    { d: 64, norm: true, tokens: 2 },
    { d: 100, norm: true, tokens: 2 },
    { d: 40, norm: false, tokens: 3 },
  ];
  for (const c of cases) {
    it(`d = ${c.d}, ${c.norm ? "RMSNorm" : "bypass"}: random tokens and the edge tokens bit-exact`, async () => {
      const top = `nq_${c.d}_${c.norm ? "n" : "b"}`;
      const hls: UnitHlsDesign = {
        function: top,
        source: normQuantHls([{ module: top, d: c.d, norm: c.norm }], EPS),
        inputs: [{ name: "x", width: 32, cxxType: "int32_t" }, ...(c.norm ? [{ name: "w", width: 24, cxxType: "uint32_t" }] : [])],
        outputs: [{ name: "q", width: 8, cxxType: "int8_t" }, { name: "s", width: 24, cxxType: "uint32_t" }],
      };
      const check = (outputs: Record<string, StreamItem[]>, ref: ReturnType<typeof normQuantTokens>) => {
        assert.deepEqual(outputs.q!.map((it) => signedOf(it.data, 8)), Array.from(ref.q));
        assert.deepEqual(outputs.s!.map((it) => Number(it.data)), ref.scales.map(packScale));
      };
      // random tokens with random weights (the Verilator runs' inputs)
      const r = runOf(c, c.d + c.tokens);
      check((await simulateUnitHls(hls, { inputs: r.inputs, expect: r.expect })).outputs, r.ref);

      // the edge tokens, under uniform weights (so z keeps x's ties) and, in RMSNorm mode, random ones
      const edges = edgeTokens(c.d);
      const x = new Int32Array(edges.length * c.d);
      edges.forEach((t, i) => x.set(t, i * c.d));
      const weightSets: (NormWeights | undefined)[] = c.norm ? [normWeights(new Float32Array(c.d).fill(0.75)), normWeights(weightsOf(c.d, 9))] : [undefined];
      for (const wq of weightSets) {
        assert.ok(hasTie(edges[3]!, wq?.mant) || wq !== weightSets[0], "the tie token has ties");
        const ref = normQuantTokens(x, edges.length, wq, { d: c.d, eps: EPS });
        const inputs: Record<string, StreamItem[]> = { x: itemsOf(x, 32) };
        if (wq) {
          const words: number[] = [];
          for (let t = 0; t < edges.length; t++) for (let j = 0; j < c.d; j++) words.push(((wq.exp & 0xff) << 16) | (wq.mant[j]! & 0xffff));
          inputs.w = itemsOf(words, 24);
        }
        const out = await simulateUnitHls(hls, { inputs, expect: { q: c.d * edges.length, s: edges.length } });
        check(out.outputs, ref);
        assert.deepEqual(ref.scales[0], { m: 0, e: 0 });
      }
    });
  }
});

describe("norm-quant resources vs yosys", function () {
  slowSuite(this);
  this.timeout(1_200_000);
  for (const d of [64, 1536]) {
    it(`d = ${d}, RMSNorm: memories exact, LUT/FF within 5%`, async () => {
      const { synthesizeSources } = await import("../src/estimate/synth/synth.js");
      const { normQuantCore } = await import("../src/units/decoder/norm-quant.js");
      const top = `nqs${d}`;
      const r = await synthesizeSources(normQuantSources([{ module: top, d, norm: true }], EPS), "ultrascale+", { top });
      const got = r.modules["trilut_norm_quant"]!;
      const want = normQuantCore(d, true, "ultrascale+");
      assert.equal(want.bram36, got.bram36);
      assert.equal(want.lutram, got.lutram);
      assert.equal(want.dsp, got.dsp);
      for (const k of ["lut", "ff"] as const) assert.ok(Math.abs(want[k] - got[k]) <= 0.05 * got[k], `${k}: model ${want[k]}, yosys ${got[k]}`);
    });
  }
});
