import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { bramBlocks, carryCells, familyCarry, lutramLuts, uramBlocks } from "../src/fabric/resources.js";
import { adderTree, maccLuts } from "../src/units/adder-tree.js";
import { lutram } from "../src/units/tables.js";
import { uram72 } from "../src/units/weight-buffer.js";
import { estimateModules, estimateResources } from "../src/estimate/resources.js";
import { synthesize } from "../src/estimate/synth/synth.js";
import { CALIBRATION_CONFIGS } from "../scripts/calibration-configs.js";

function geometry(partial: object): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}

describe("analytic resource model: module formulas", function () {
  it("counts memory primitives from their capacities", () => {
    // URAM288 72 × 4096 (FINN-R ⌈w/72⌉·⌈d/4096⌉); RAMB36 72 × 512 … 1 × 32K, RAMB18 half
    assert.equal(uramBlocks(72, 4096), 1);
    assert.equal(uramBlocks(144, 8192), 4);
    assert.equal(bramBlocks(72, 512), 1);
    assert.equal(bramBlocks(72, 1024), 2);
    assert.equal(bramBlocks(128, 1024), 4);
    assert.equal(bramBlocks(256, 64), 4);
    assert.equal(bramBlocks(18, 1024), 0.5);
    // RAM32M16: 14 bits × 32 in 8 LUTs; RAM64M8 7 × 64 in 8; 7-series RAM32M 6 × 32 and RAM64M 3 × 64 in 4
    assert.equal(lutramLuts(10, 32, "ultrascale+"), 8);
    assert.equal(lutramLuts(10, 64, "ultrascale+"), 16);
    assert.equal(lutramLuts(11, 256, "ultrascale+"), 64);
    assert.equal(lutramLuts(10, 32, "7series"), 8);
    assert.equal(lutramLuts(10, 64, "7series"), 16);
    assert.equal(carryCells(12, "ultrascale+"), 2);
    assert.equal(carryCells(12, "7series"), 3);
  });

  it("sizes a table copy, an adder tree's registers and a weight column", () => {
    const g3 = geometry({ G: 3, T: 4, P: 2, c: 1 });
    assert.deepEqual(lutram(g3, "ultrascale+"), { lut: 0, lutram: 16, ff: 0, carry: 0, bram36: 0, uram: 0, dsp: 0 });
    // 8 inputs of 10 bits, a register after levels 2 and 3: 2·12 + 13 FFs
    assert.equal(adderTree(8, 10, 2, "ultrascale+").ff, 37);
    assert.equal(adderTree(16, 10, 2, "ultrascale+").ff, 4 * 12 + 14);
    assert.equal(uram72(g3, "ultrascale+").uram, 1);
    assert.equal(uram72(g3, "7series").uram, 0);
    assert.equal(uram72(g3, "7series").bram36, 8, "4096 × 72 bits in RAMB36 72 × 512");
  });

  it("prices wide adder-tree stages as yosys maps them, and 7-series carries as 1.5 CARRY4 per CARRY8", () => {
    // 8 and 16 operands per stage: 22.1 and 69.7 LUTs per operand bit (fitted at w = 10)
    assert.equal(maccLuts(8, 10), 221);
    assert.equal(maccLuts(16, 10), 697);
    assert.ok(maccLuts(6, 10) > maccLuts(4, 10) && maccLuts(6, 10) < maccLuts(8, 10));
    assert.equal(familyCarry(10, "ultrascale+"), 10);
    assert.equal(familyCarry(10, "7series"), 15);
  });

  it("gives a dequant engine 4 DSP48E2 per lane (two 32 × 16 products of 2 DSPs each)", () => {
    const geo = geometry({ G: 3, T: 8, P: 4, c: 1, dequant: true });
    assert.equal(estimateModules(geo).total.dsp, 16);
    assert.equal(estimateModules(geometry({ G: 3, T: 8, P: 4, c: 1 })).total.dsp, 0);
  });

  it("sums the modules into estimateResources, with no URAM on 7-series", () => {
    const geo = geometry({});
    const m = estimateModules(geo);
    assert.deepEqual(estimateResources(geo), m.total);
    let lut = 0;
    for (const [name, r] of Object.entries(m.modules)) lut += r.lut * m.instances[name]!;
    assert.equal(lut, m.total.lut);
    const x7 = estimateResources(geometry({ weightMemory: "bram", bufferDepth: 1024 }), "7series");
    assert.equal(x7.uram, 0);
    assert.ok(x7.bram36 > 0 && x7.carry > 0);
  });

  it("estimates an engine in well under a millisecond", () => {
    const geo = geometry({});
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) estimateResources(geo);
    const us = ((performance.now() - t0) / 1000) * 1000;
    assert.ok(us < 1000, `${us} µs per estimate`);
  });
});

/**
 * The calibration targets, checked on a small subset of the spread, one 7-series engine among them (the full table:
 * docs/calibration.md, `npm run calibrate`): BRAM, URAM and DSP exact, LUT + LUTRAM and FF within
 * 5% of yosys (the spread's worst is under 5%; the target is 10%).
 */
describe("analytic resource model vs yosys (calibration subset)", function () {
  this.timeout(300_000);
  let cache: string;
  let savedCache: string | undefined;
  before(function () {
    savedCache = process.env["TRILUT_CACHE"];
    cache = mkdtempSync(join(tmpdir(), "trilut-calibration-"));
    process.env["TRILUT_CACHE"] = cache;
  });
  after(function () {
    if (savedCache === undefined) delete process.env["TRILUT_CACHE"];
    else process.env["TRILUT_CACHE"] = savedCache;
    rmSync(cache, { recursive: true, force: true });
  });

  for (const name of ["t-g3f-t4p2", "t-g3m-t8p4", "b-g4-t4p2", "s-g2m-t4p4"]) {
    it(`${name}: BRAM/URAM/DSP exact, LUT+LUTRAM and FF within 5%`, async function () {
      const c = CALIBRATION_CONFIGS.find((x) => x.name === name)!;
      const geo = geometry(c.engine);
      const family = c.family ?? "ultrascale+";
      const y = (await synthesize(geo, family)).total;
      const a = estimateModules(geo, family).total;
      assert.equal(a.bram36, y.bram36, "BRAM36");
      assert.equal(a.uram, y.uram, "URAM");
      assert.equal(a.dsp, y.dsp, "DSP");
      assert.equal(a.lutram, y.lutram, "LUTRAM");
      const lut = (a.lut + a.lutram - (y.lut + y.lutram)) / (y.lut + y.lutram);
      const ff = (a.ff - y.ff) / y.ff;
      assert.ok(Math.abs(lut) <= 0.05, `LUT+LUTRAM ${a.lut + a.lutram} vs ${y.lut + y.lutram} (${(lut * 100).toFixed(1)}%)`);
      assert.ok(Math.abs(ff) <= 0.05, `FF ${a.ff} vs ${y.ff} (${(ff * 100).toFixed(1)}%)`);
    });
  }
});
