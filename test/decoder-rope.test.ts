import assert from "node:assert/strict";
import { type BlockShape } from "../src/model/block-shape.js";
import { fromA, INT32_MAX, INT32_MIN, toA } from "../src/ref/spec/fixed.js";
import { COEF_FRAC, ropeCosSin, ropeFrequencies, ropePhase, ropeSpec, sineTable } from "../src/ref/spec/rope.js";
import { itemsOf, signedOf, simulateUnit, simulateUnitHls, type UnitDesign, type UnitHlsDesign } from "../src/sim/unit-harness.js";
import { synthesizeSources } from "../src/estimate/synth/synth.js";
import { ropeCycles, ropeHls, ropePosBits, ropeResources, ropeRtl } from "../src/units/decoder/rope.js";
import { UserError } from "../src/util/errors.js";
import { slowSuite } from "./helpers.js";

const shapeOf = (heads: number, headDim: number, ropeTheta = 10000): BlockShape => ({
  hidden: heads * headDim, ffn: 4 * heads * headDim, heads, kvHeads: heads, headDim,
  activation: "silu", subNorms: false, eps: 1e-5, ropeTheta, maxContext: 4096,
});

/** A deterministic generator (xorshift32), so every run sees the same inputs. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** One token's q-like vector: values within ±8, with a few at the int32 extremes (saturation). */
function tokenValues(n: number, r: () => number, extremes: boolean): number[] {
  return Array.from({ length: n }, (_, j) => (extremes && j % 7 === 3 ? (j % 2 ? INT32_MAX : INT32_MIN) : toA((r() * 2 - 1) * 8)));
}

describe("RoPE: spec against float64", function () {
  it("cos/sin within 1.3 LSB of 2^-16 (mean 0.33) at positions 0..4095, theta 1e4 and 5e5, headDim 64, 96, 128", function () {
    this.timeout(120000);
    const table = sineTable();
    let max = 0, sum = 0, n = 0;
    for (const theta of [1e4, 5e5]) for (const d of [64, 96, 128]) {
      const freqs = ropeFrequencies(d, theta);
      for (let pos = 0; pos < 4096; pos++) for (let i = 0; i < d / 2; i++) {
        const angle = pos * theta ** ((-2 * i) / d);
        const { c, s } = ropeCosSin(ropePhase(pos, freqs[i]!), table);
        const ec = Math.abs(c / 2 ** COEF_FRAC - Math.cos(angle));
        const es = Math.abs(s / 2 ** COEF_FRAC - Math.sin(angle));
        max = Math.max(max, ec, es);
        sum += ec + es;
        n += 2;
      }
    }
    // measured 1.257 and 0.326 LSB (docs/numerics/rope.md); the table's own rounding alone is 0.5
    assert.ok(max * 2 ** 16 < 1.3, `max ${max * 2 ** 16} LSB`);
    assert.ok(max * 2 ** 16 > 0.5, "a spec cannot beat its 16-bit table");
    assert.ok((sum / n) * 2 ** 16 < 0.34, `mean ${(sum / n) * 2 ** 16} LSB`);
  });

  it("rotates q vectors within |a|·e + |b|·e + 1 LSB of the float64 rotation (host.ts's formula)", function () {
    const r = rng(7);
    for (const [heads, d, theta] of [[4, 64, 1e4], [2, 96, 5e5], [2, 128, 5e5], [3, 10, 1e4]] as const) {
      for (const pos of [0, 1, 17, 100, 4095]) {
        const x = tokenValues(heads * d, r, false);
        const y = ropeSpec(x, heads, d, pos, theta);
        for (let h = 0; h < heads; h++) for (let i = 0; i < d / 2; i++) {
          const a = fromA(x[h * d + i]!), b = fromA(x[h * d + i + d / 2]!);
          const angle = pos * theta ** ((-2 * i) / d);
          const [c, s] = [Math.cos(angle), Math.sin(angle)];
          const bound = (Math.abs(a) + Math.abs(b)) * 1.3 * 2 ** -16 + 2 ** -16;
          assert.ok(Math.abs(fromA(y[h * d + i]!) - (a * c - b * s)) <= bound, `d ${d} pos ${pos} pair ${i}`);
          assert.ok(Math.abs(fromA(y[h * d + i + d / 2]!) - (a * s + b * c)) <= bound, `d ${d} pos ${pos} pair ${i}`);
        }
      }
    }
  });

  it("is the identity at position 0 and saturates at the int32 extremes", function () {
    const x = [INT32_MAX, INT32_MAX, 5, INT32_MIN, -INT32_MAX, -7];
    assert.deepEqual([...ropeSpec(x, 1, 6, 0, 1e4)], x.map((v) => (v === -INT32_MAX ? -INT32_MAX : v)));
    // a·s + b·c with a = b = max at 45°: √2·max saturates
    const d = 2;
    const freq = ropeFrequencies(d, 1e4)[0]!;
    const pos = Math.round(2 ** 32 / 8 / freq); // about an eighth of a turn
    const [, b2] = ropeSpec([INT32_MAX, INT32_MAX], 1, d, pos, 1e4);
    assert.equal(b2, INT32_MAX);
  });

  it("refuses an odd head dimension with one line naming it", function () {
    assert.throws(() => ropeSpec([1, 2, 3, 4, 5, 6, 7], 1, 7, 0, 1e4), (e: unknown) => e instanceof UserError && /head dimension 7/.test(e.message) && !e.message.includes("\n"));
    assert.throws(() => ropeRtl(shapeOf(2, 7)), (e: unknown) => e instanceof UserError && /head dimension 7/.test(e.message));
    assert.throws(() => ropeHls(shapeOf(2, 7)), UserError);
  });
});

const POSITIONS = [0, 1, 17, 100, 4095];

function design(shape: BlockShape): UnitDesign {
  return {
    top: "trilut_rope",
    sources: [ropeRtl(shape)],
    inputs: [{ name: "pos", width: ropePosBits(shape) }, { name: "x", width: 32, last: true }],
    outputs: [{ name: "y", width: 32, last: true }],
  };
}

function run(shape: BlockShape, positions: readonly number[], seed: number) {
  const r = rng(seed);
  const n = shape.heads * shape.headDim;
  const tokens = positions.map(() => tokenValues(n, r, true));
  const expected = tokens.flatMap((x, t) => [...ropeSpec(x, shape.heads, shape.headDim, positions[t]!, shape.ropeTheta)]);
  const inputs = { pos: itemsOf(positions, ropePosBits(shape)), x: itemsOf(tokens.flat(), 32, n) };
  return { inputs, expected, expect: { y: expected.length } };
}

function check(out: { data: bigint; last?: boolean }[], expected: number[], n: number, what: string): void {
  assert.deepEqual(out.map((it) => signedOf(it.data, 32)), expected, what);
  assert.deepEqual(out.map((it) => it.last), expected.map((_, j) => (j + 1) % n === 0), `${what}: last flags`);
}

describe("RoPE: Verilator against the spec", function () {
  this.timeout(900000);
  for (const [heads, headDim] of [[2, 6], [3, 10], [16, 96]] as const) {
    const shape = shapeOf(heads, headDim);
    it(`heads ${heads} × headDim ${headDim}: bit-exact at positions ${POSITIONS.join(", ")}, cycles as analysed${headDim < 96 ? ", and under backpressure" : ""}`, async function () {
      const d = design(shape);
      const n = heads * headDim;
      // the five positions as five tokens back to back
      const all = run(shape, POSITIONS, headDim);
      const r = await simulateUnit(d, { inputs: all.inputs, expect: all.expect });
      check(r.outputs["y"]!, all.expected, n, "back to back");
      assert.equal(r.cycles, ropeCycles(shape, heads, POSITIONS.length));
      // each position as a token on its own
      for (const pos of headDim < 96 ? POSITIONS : [4095]) {
        const one = run(shape, [pos], pos + 1);
        const r1 = await simulateUnit(d, { inputs: one.inputs, expect: one.expect });
        check(r1.outputs["y"]!, one.expected, n, `position ${pos}`);
        assert.equal(r1.cycles, ropeCycles(shape, heads, 1));
        assert.equal(r1.firstOutput["y"], headDim / 2 + 9);
      }
      if (headDim < 96) {
        for (const seed of [1, 2]) {
          const rb = await simulateUnit(d, { inputs: all.inputs, expect: all.expect, backpressure: { seed } });
          check(rb.outputs["y"]!, all.expected, n, `backpressure seed ${seed}`);
          assert.ok(rb.cycles > r.cycles);
        }
      }
    });
  }
});

describe("RoPE: HLS against the spec", function () {
  this.timeout(600000);
  for (const [heads, headDim] of [[3, 10], [16, 96]] as const) {
    it(`heads ${heads} × headDim ${headDim}: bit-exact at positions ${POSITIONS.join(", ")}`, async function () {
      const shape = shapeOf(heads, headDim, 5e5);
      const hls: UnitHlsDesign = {
        function: "trilut_rope",
        source: ropeHls(shape, heads),
        inputs: [{ name: "pos", width: 32, cxxType: "uint32_t" }, { name: "x", width: 32, cxxType: "int32_t" }],
        outputs: [{ name: "y", width: 32, cxxType: "int32_t" }],
      };
      const all = run(shape, POSITIONS, 3);
      const r = await simulateUnitHls(hls, { inputs: { pos: itemsOf(POSITIONS, 32), x: all.inputs.x }, expect: all.expect });
      assert.deepEqual(r.outputs["y"]!.map((it) => signedOf(it.data, 32)), all.expected);
    });
  }
});

describe("RoPE: yosys against the analytic resources", function () {
  slowSuite(this);
  this.timeout(900000);
  for (const family of ["ultrascale+"] as const) {
    for (const headDim of [6, 96]) {
      it(`${family}, headDim ${headDim}: memories and DSPs exact, LUT and FF within 5%`, async function () {
        const shape = shapeOf(2, headDim);
        const r = await synthesizeSources([ropeRtl(shape)], family, { top: "trilut_rope" });
        const got = r.modules["trilut_rope"]!;
        const want = ropeResources(shape, family);
        for (const k of ["bram36", "uram", "lutram", "dsp"] as const) assert.equal(want[k], got[k], `${k}: analytic ${want[k]}, yosys ${got[k]}`);
        for (const k of ["lut", "ff"] as const) assert.ok(Math.abs(want[k] - got[k]) <= 0.05 * got[k], `${k}: analytic ${want[k]}, yosys ${got[k]}`);
        assert.equal(got.carry, want.carry);
      });
    }
  }
});
