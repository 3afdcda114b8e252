import assert from "node:assert/strict";
import { presetBudget } from "../src/budget/budget.js";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { analyticPaths, estimateClock } from "../src/estimate/clock.js";
import { treeStageSteps } from "../src/units/adder-tree.js";
import { pathDelay, SERIES7, ULTRASCALE_PLUS } from "../src/fabric/delays.js";
import { netlistTiming, type YosysNetlist } from "../src/estimate/netlist-timing.js";
import { cli } from "./helpers.js";

function geometry(partial: object): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe("clock estimate: delay model", function () {
  it("times a path: clock to out, a routed net per LUT, the carry chain, the last net and setup", () => {
    const m = ULTRASCALE_PLUS;
    // FF → LUT → 32-bit chain (4 CARRY8, entered from its LUT in the slice) → FF
    const d = pathDelay({ start: "ff", steps: ["lut", { carry: 32 }], end: "ff" }, m);
    close(d.ns, m.ffClockToOut + m.net + m.lut + m.carryEntry + 3 * m.carryPropagate + m.net + m.ffSetup, "ns");
    assert.deepEqual([d.levels, d.luts, d.carries], [5, 1, 4]);
    // the same chain is 8 CARRY4 on 7-series
    assert.equal(pathDelay({ start: "ff", steps: ["lut", { carry: 32 }], end: "ff" }, SERIES7).carries, 8);
  });

  it("keeps MUXF7 → F8 (→ F9 on UltraScale+) in the slice and routes a longer run or a select", () => {
    const steps = ["lut", "muxf", "muxf", "muxf"] as const;
    const us = pathDelay({ start: "ff", steps: [...steps], end: "ff" }, ULTRASCALE_PLUS);
    const x7 = pathDelay({ start: "ff", steps: [...steps], end: "ff" }, SERIES7);
    const m = SERIES7;
    close(us.ns, 0.1 + 0.35 + 0.1 + 3 * 0.08 + 0.35 + 0.05, "UltraScale+: F7, F8, F9 in the slice");
    close(x7.ns, m.ffClockToOut + 2 * m.net + m.lut + 3 * m.muxf + m.net + m.ffSetup, "7-series: the third MUXF is routed");
    const sel = pathDelay({ start: "ff", steps: ["lut", "muxf-select"], end: "ff" }, ULTRASCALE_PLUS);
    close(sel.ns, 0.1 + 0.35 + 0.1 + 0.35 + 0.08 + 0.35 + 0.05, "select is routed");
  });
});

describe("clock estimate: analytic paths", function () {
  it("puts the default kv260 engine's critical path in the pass-start control, meeting 250 MHz", () => {
    const e = estimateClock(geometry({}), presetBudget("kv260"));
    assert.equal(e.targetMHz, 250);
    assert.equal(e.analytic.criticalModule, "trilut_compute");
    assert.match(e.analytic.path, /descriptor queue/);
    assert.equal(e.analytic.levels, 7);
    assert.ok(e.analytic.fmaxMHz > 250 && e.analytic.fmaxMHz < 350, String(e.analytic.fmaxMHz));
    assert.equal(e.analytic.meetsTarget, true);
    assert.equal(e.synth, undefined);
    assert.match(e.note, /estimate/);
    for (const m of ["trilut_adder_tree", "trilut_psum_mem", "trilut_lutram", "trilut_uram72", "trilut_axi_loader"]) {
      assert.ok(e.analytic.modules[m], `a path into ${m}`);
    }
  });

  it("finds the dequantization stage far too deep for 250 MHz", () => {
    const e = estimateClock(geometry({ T: 8, P: 4, c: 1, dequant: true }), presetBudget("kv260"));
    assert.equal(e.analytic.criticalModule, "trilut_psum_mem");
    assert.ok(e.analytic.levels > 20 && e.analytic.fmaxMHz < 100, `${e.analytic.levels} levels, ${e.analytic.fmaxMHz} MHz`);
    assert.equal(e.analytic.meetsTarget, false);
  });

  it("deepens the adder-tree stage with the levels per stage, and slows on 7-series", () => {
    const tree = (L: number): number =>
      estimateClock(geometry({ T: 16, P: 2, c: 2, treeLevelsPerStage: L }), presetBudget("kv260")).analytic.modules["trilut_adder_tree"]!.levels;
    assert.deepEqual([1, 2, 3, 4].map(tree), [3, 5, 9, 13]);
    assert.deepEqual(treeStageSteps(3, 10), ["lut", { carry: 12 }], "a ternary adder");
    const x7 = estimateClock(geometry({ weightMemory: "bram", bufferDepth: 1024 }), { ...presetBudget("zcu102"), family: "7series" });
    assert.ok(x7.analytic.fmaxMHz < 200, String(x7.analytic.fmaxMHz));
    assert.equal(analyticPaths(geometry({ loader: "preload" }), "ultrascale+").some((p) => p.module === "trilut_engine_core"), true);
  });
});

/** A two-level netlist in yosys's write_json form: the top and one submodule instance. */
function smallNetlist(): YosysNetlist {
  const lut = { I0: "input", I1: "input", O: "output" };
  const ff = { C: "input", CE: "input", D: "input", R: "input", Q: "output" };
  const carry = { CI: "input", CYINIT: "input", DI: "input", S: "input", CO: "output", O: "output" };
  const z4 = ["0", "0", "0", "0"];
  return {
    modules: {
      trilut_engine: {
        ports: { clk: { direction: "input", bits: [2] }, x: { direction: "input", bits: [3] }, y: { direction: "output", bits: [20] } },
        cells: {
          r0: { type: "FDRE", port_directions: ff, connections: { C: [2], CE: ["1"], R: ["0"], D: [3], Q: [10] } },
          u: {
            type: "$paramod$1234\\sub",
            port_directions: { clk: "input", a: "input", q: "output" },
            connections: { clk: [2], a: [10], q: [11] },
          },
          l2: { type: "LUT2", port_directions: lut, connections: { I0: [11], I1: [11], O: [12] } },
          r2: { type: "FDRE", port_directions: ff, connections: { C: [2], CE: ["1"], R: ["0"], D: [12], Q: [20] } },
        },
      },
      "$paramod$1234\\sub": {
        ports: { clk: { direction: "input", bits: [2] }, a: { direction: "input", bits: [5] }, q: { direction: "output", bits: [6] } },
        cells: {
          la: { type: "LUT2", port_directions: lut, connections: { I0: [5], I1: [5], O: [7] } },
          c0: { type: "CARRY4", port_directions: carry, connections: { CI: ["0"], CYINIT: ["0"], DI: z4, S: [7, "0", "0", "0"], O: [30, 31, 32, 33], CO: [34, 35, 36, 37] } },
          c1: { type: "CARRY4", port_directions: carry, connections: { CI: [37], CYINIT: ["0"], DI: z4, S: z4, O: [40, 41, 42, 43], CO: [44, 45, 46, 47] } },
          rq: { type: "FDRE", port_directions: ff, connections: { C: [2], CE: ["1"], R: ["0"], D: [43], Q: [6] } },
        },
      },
    },
  };
}

describe("clock estimate: the netlist's longest path", function () {
  it("walks through a submodule: FF → LUT → two CARRY4 → FF, named by module", () => {
    const m = ULTRASCALE_PLUS;
    const t = netlistTiming(smallNetlist(), "trilut_engine", m);
    const c = t.critical!;
    assert.equal(c.toModule, "sub");
    assert.equal(c.fromModule, "trilut_engine");
    assert.equal(c.to, "u.rq");
    assert.equal(c.from, "r0");
    assert.deepEqual(c.shape, { start: "ff", steps: ["lut", { carry: 8 }], end: "ff" });
    // the second CARRY4 rides the first's carry out: half a CARRY8's propagation, no routing
    close(c.ns, m.ffClockToOut + m.net + m.lut + m.carryEntry + m.carryPropagate / 2 + m.net + m.ffSetup, "ns");
    assert.equal(c.levels, 2, "one CARRY8's worth of chain and a LUT");
    const top = t.byModule["trilut_engine"]!;
    close(top.ns, m.ffClockToOut + m.net + m.lut + m.net + m.ffSetup, "top path");
    assert.deepEqual(t.unknown, {});
  });
});

describe("clock estimate: estimate command", function () {
  it("prints the clock as an estimate with the budget's clock as target, and clock in --json", () => {
    const text = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "kv260"]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /clock, an ESTIMATE from logic depth .*target 250 MHz/);
    assert.match(text.stdout, /analytic: \d+ MHz \([\d.]+ ns, \d+ logic levels\) in trilut_compute: .*; meets 250 MHz/);
    const run = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "kv260", "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { clock: { targetMHz: number; analytic: { fmaxMHz: number; levels: number; criticalModule: string }; note: string }; clockMHz: number };
    assert.equal(out.clock.targetMHz, 250);
    assert.equal(out.clockMHz, 250, "the existing field is unchanged");
    assert.equal(typeof out.clock.analytic.fmaxMHz, "number");
    assert.equal(out.clock.analytic.criticalModule, "trilut_compute");
    assert.match(out.clock.note, /estimate/);
  });
});
