import assert from "node:assert/strict";
import { type BlockShape } from "../src/model/block-shape.js";
import { delayModel, pathDelay } from "../src/fabric/delays.js";
import { DECODER_UNITS } from "../src/units/decoder/units.js";
import { definedModules } from "../src/units/unit.js";

const SHAPES: BlockShape[] = [
  { hidden: 32, ffn: 48, heads: 4, kvHeads: 2, headDim: 8, activation: "silu", subNorms: false, eps: 1e-5, ropeTheta: 10000, maxContext: 32 },
  { hidden: 1536, ffn: 4096, heads: 16, kvHeads: 16, headDim: 96, activation: "relu2", subNorms: true, eps: 1e-5, ropeTheta: 10000, maxContext: 1024 },
];

// a second parameter set of a module is `name#2` in resource tables
const base = (module: string): string => module.replace(/#\d+$/, "");

describe("decoder units: each one owns its RTL, resources, paths, cycles and HLS", () => {
  for (const shape of SHAPES) {
    for (const unit of DECODER_UNITS) {
      const label = `${unit.name} (hidden ${shape.hidden}, ${shape.activation})`;
      it(`${label}: every module it defines has resources (or is declared wiring), every resource entry names one of its modules`, () => {
        if (!unit.has(shape)) return;
        const modules = new Set(definedModules(unit.rtl(shape)));
        assert.ok(modules.size > 0, "no Verilog");
        const shares = unit.resources(shape, "ultrascale+");
        const counted = new Set(shares.map((s) => base(s.module)));
        // a module without resources must be wiring, declared with its reason
        for (const m of modules) assert.ok(counted.has(m) || /^wiring/.test(unit.unregistered?.[m] ?? ""), `${m} has no resource entry and is not declared wiring`);
        for (const m of counted) assert.ok(modules.has(m), `resources name ${m}, which the unit's RTL lacks`);
        for (const s of shares) assert.ok(s.instances >= 1 && Number.isInteger(s.instances), `${s.module}: ${s.instances} instances`);
      });
      it(`${label}: register-to-register paths, cycle figures and HLS (or why not)`, () => {
        if (!unit.has(shape)) return;
        const m = delayModel("ultrascale+");
        const paths = unit.paths(shape, m);
        assert.ok(paths.length > 0, "no timing path");
        for (const p of paths) {
          const ns = pathDelay(p.shape, m).ns;
          assert.ok(ns > 0 && Number.isFinite(ns), `${p.what}: ${ns} ns`);
        }
        assert.ok(unit.cycles.length > 20, "says where its cycles are counted");
        for (const [k, v] of Object.entries(unit.cycleFigures(shape))) assert.ok(Number.isInteger(v) && v >= 0, `${k} = ${v}`);
        const hls = unit.hls(shape);
        if ("none" in hls) assert.ok(hls.none.length > 20, "says why it has no HLS");
        else assert.match(hls.content, /\btrilut_/, "an HLS function");
      });
    }
  }
});
