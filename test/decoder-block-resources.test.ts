import assert from "node:assert/strict";
import { BLOCK_TOP, blockCapacity, generateBlockRtl, type BlockCapacity } from "../src/codegen/block-rtl.js";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { blockPaths, estimateBlockResources } from "../src/estimate/block-resources.js";
import { synthesizeSources } from "../src/estimate/synth/synth.js";
import { delayModel } from "../src/fabric/delays.js";
import { addInto, res } from "../src/fabric/resources.js";
import { type BlockShape } from "../src/model/block-shape.js";
import { engineTotal } from "../src/units/engine.js";
import { slowSuite } from "./helpers.js";

// the block test's engine and llama-shaped block (test/decoder-block.test.ts)
const GEO = engineGeometry(
  resolveEngine({ G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 32, dequant: true }, "test"),
);
const LLAMA: BlockShape = { hidden: 32, ffn: 48, heads: 4, kvHeads: 2, headDim: 8, activation: "silu", subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext: 32 };
const CAPACITY: BlockCapacity = { maxK: 64, maxN: 144, tokens: 5, vector: 5 * 192, residual: 5 * 48, up: 5 * 64 };
const LARGE: BlockShape = { hidden: 1536, ffn: 4096, heads: 16, kvHeads: 16, headDim: 96, activation: "silu", subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext: 1024 };

describe("block accelerator: resources and clock paths", function () {
  it("totals the engine, every decoder unit, the control logic and the buffers", () => {
    const e = estimateBlockResources(GEO, LLAMA, CAPACITY);
    const sum = res({});
    addInto(sum, e.engine, 1);
    for (const u of e.units) addInto(sum, u.resources, 1);
    addInto(sum, e.control, 1);
    for (const b of e.buffers) addInto(sum, res({ bram36: b.bram36, lutram: b.lutram, ff: b.ff }), 1);
    assert.deepEqual(e.total, sum);
    assert.deepEqual(e.engine, engineTotal(GEO));
    assert.deepEqual(e.units.map((u) => u.name), ["norm-quant", "scale-out", "rope", "kv-cache", "attention", "residual", "gate"]);
  });

  it("sizes the buffers for the tokens of a run: a prefill chunk needs more block RAM than a decode", () => {
    const geo = engineGeometry(resolveEngine({ dequant: true }, "default"));
    const decode = estimateBlockResources(geo, LARGE, blockCapacity(LARGE, 1));
    const prefill = estimateBlockResources(geo, LARGE, blockCapacity(LARGE, 16));
    assert.ok(prefill.total.bram36 > decode.total.bram36 + 100, `${prefill.total.bram36} vs ${decode.total.bram36}`);
    assert.equal(prefill.total.dsp, decode.total.dsp);
    // the K and V row buffers hold a kv head's rows over the context: 1024 rows of 96 int8 + a scale
    assert.deepEqual(decode.buffers.filter((b) => /rows/.test(b.name)).map((b) => [b.width, b.depth]), [[792, 1024], [792, 1024]]);
  });

  it("lists every unit's paths with the engine's, longest first", () => {
    const paths = blockPaths(GEO, LLAMA, delayModel("ultrascale+"));
    for (const unit of ["engine", "norm-quant", "scale-out", "rope", "kv-cache", "attention", "residual", "gate"]) {
      assert.ok(paths.some((p) => p.unit === unit), `no path of ${unit}`);
    }
    for (let i = 1; i < paths.length; i++) assert.ok(paths[i - 1]!.ns >= paths[i]!.ns);
  });

  describe("against yosys", function () {
    slowSuite(this);
    this.timeout(1_800_000);
    it("the llama-shaped block: DSP exact, block RAM within half a block, LUT, FF and LUTRAM within 5%", async function () {
      const synth = await synthesizeSources(generateBlockRtl(GEO, LLAMA, CAPACITY), "ultrascale+", { top: BLOCK_TOP, timeoutSeconds: 1500 });
      const e = estimateBlockResources(GEO, LLAMA, CAPACITY).total;
      assert.equal(e.dsp, synth.total.dsp);
      assert.ok(Math.abs(e.bram36 - synth.total.bram36) <= 0.5, `BRAM36 ${e.bram36} vs yosys ${synth.total.bram36}`);
      for (const k of ["lut", "ff", "lutram"] as const) {
        assert.ok(Math.abs(e[k] - synth.total[k]) / synth.total[k] < 0.05, `${k}: ${e[k]} vs yosys ${synth.total[k]}`);
      }
    });
  });
});
