import assert from "node:assert/strict";
import { presetBudget } from "../src/budget/budget.js";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { analyticPaths, engineClockMHz, estimateClock } from "../src/estimate/clock.js";
import { estimateLatency } from "../src/estimate/latency.js";
import { treeStageSteps } from "../src/units/adder-tree.js";
import { pathDelay, SERIES7, ULTRASCALE_PLUS } from "../src/fabric/delays.js";
import { netlistTiming, type YosysNetlist } from "../src/estimate/netlist-timing.js";
import { modelWorkload } from "../src/model/workload.js";
import { Rng } from "../src/util/random.js";
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

  it("keeps a dequantizing engine at the integer engine's clock: the pipelined stage's paths are all shorter", () => {
    for (const partial of [{ T: 8, P: 4, c: 1 }, {}]) {
      const plain = estimateClock(geometry(partial), presetBudget("kv260")).analytic;
      const e = estimateClock(geometry({ ...partial, dequant: true }), presetBudget("kv260"));
      assert.equal(e.analytic.fmaxMHz, plain.fmaxMHz);
      assert.equal(e.analytic.path, plain.path);
      assert.equal(e.analytic.meetsTarget, true);
      const dq = analyticPaths(geometry({ ...partial, dequant: true }), "ultrascale+").filter((p) => /dequantiz/.test(p.what));
      assert.ok(dq.length >= 10, `${dq.length} dequantization paths`);
      for (const p of dq) assert.ok(pathDelay(p.shape, ULTRASCALE_PLUS).ns < e.analytic.periodNs, `${p.what}: ${pathDelay(p.shape, ULTRASCALE_PLUS).ns} ns`);
    }
  });

  it("deepens the adder-tree stage with the levels per stage, and slows on 7-series", () => {
    const tree = (L: number): number =>
      estimateClock(geometry({ T: 16, P: 2, c: 2, treeLevelsPerStage: L }), presetBudget("kv260")).analytic.modules["trilut_adder_tree"]!.levels;
    assert.deepEqual([1, 2, 3, 4].map(tree), [3, 5, 9, 13]);
    assert.deepEqual(treeStageSteps(3, 10), ["lut", { carry: 12 }], "a ternary adder");
    const x7 = estimateClock(geometry({ weightMemory: "bram", bufferDepth: 1024 }), { ...presetBudget("zcu102"), family: "7series" });
    assert.ok(x7.analytic.fmaxMHz < 200, String(x7.analytic.fmaxMHz));
    // one engine: its paths name the streaming core's modules, none of the removed preloaded core
    const modules = new Set(analyticPaths(geometry({}), "ultrascale+").map((p) => p.module));
    for (const m of ["trilut_stream_core", "trilut_axi_loader", "trilut_fifo"]) assert.ok(modules.has(m), m);
    assert.equal(modules.has("trilut_engine_core"), false);
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

  it("says which clock the latency uses: the budget's, or out loud the engine's lower estimate (vck190's 300 MHz)", () => {
    type Out = { clockMHz: number; clockUsed: { mhz: number; limitedBy: string; estimateMHz: number; budgetMHz: number; note: string }; clock: { analytic: { fmaxMHz: number } }; decode: { totalCycles: number }; decodeTokensPerSecond: number };
    const json = (extra: string[], device = "kv260"): Out => {
      const r = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", device, "--json", ...extra]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Out;
    };
    const plain = json([]);
    assert.deepEqual([plain.clockUsed.mhz, plain.clockUsed.limitedBy, plain.clockUsed.budgetMHz], [250, "budget", 250]);
    assert.equal(plain.clockUsed.estimateMHz, plain.clock.analytic.fmaxMHz);
    // a dequantizing engine too runs at the budget's clock now that its stage is pipelined
    const dqPlain = json(["--set", "dequant=true"]);
    assert.deepEqual([dqPlain.clockUsed.mhz, dqPlain.clockUsed.limitedBy], [250, "budget"]);
    const dq = json(["--set", "dequant=true"], "vck190");
    const fmax = dq.clock.analytic.fmaxMHz;
    assert.ok(fmax < 300);
    assert.equal(dq.clockMHz, fmax, "not 300");
    assert.deepEqual([dq.clockUsed.mhz, dq.clockUsed.limitedBy, dq.clockUsed.estimateMHz, dq.clockUsed.budgetMHz], [fmax, "estimate", fmax, 300]);
    close(dq.decodeTokensPerSecond, (fmax * 1e6) / dq.decode.totalCycles, "tokens/s at the estimate");
    const text = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "vck190", "--set", "dequant=true"]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`at ${fmax} MHz, memory`));
    assert.match(text.stdout, new RegExp(`NOTE: latency at ${fmax} MHz: the clock estimate is below the budget's 300 MHz`));
    assert.match(text.stdout, new RegExp(`latency and TTFT above use ${fmax} MHz \\(the analytic estimate`));
    const plainText = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "kv260"]);
    assert.match(plainText.stdout, /latency at the budget's 250 MHz \(the clock estimate, [\d.]+ MHz, reaches it\)/);
  });
});

describe("clock estimate: the clock latency uses", function () {
  const kv260 = presetBudget("kv260");

  it("runs an engine at its own estimate when it is below the budget's clock, and says so", () => {
    const geo = geometry({ T: 8, P: 4, c: 1, dequant: true });
    const fast = { ...kv260, clockMHz: 350 };
    const c = engineClockMHz(geo, fast);
    const fmax = estimateClock(geo, fast).analytic.fmaxMHz;
    assert.ok(fmax < 350);
    assert.deepEqual([c.mhz, c.limitedBy, c.estimateMHz, c.budgetMHz], [fmax, "estimate", fmax, 350]);
    assert.match(c.criticalPath, /descriptor queue in trilut_compute/);
  });

  it("runs the default engine, whose estimate exceeds the budget's clock, at the budget's clock", () => {
    const geo = geometry({});
    const c = engineClockMHz(geo, kv260);
    assert.equal(c.limitedBy, "budget");
    assert.equal(c.mhz, 250);
    assert.equal(c.estimateMHz, estimateClock(geo, kv260).analytic.fmaxMHz);
    assert.ok(c.estimateMHz > 250);
  });

  it("caches the estimate by exactly the fields the paths read: equal to estimateClock on random engines and their one-field variants", () => {
    const rng = new Rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;
    const draw = (): Record<string, unknown> => ({
      kind: pick(["tlmm", "tlmm", "baseline"]),
      G: rng.int(2, 5),
      encoding: pick(["full", "mirrored"]),
      T: rng.int(1, 40),
      P: rng.int(1, 32),
      c: rng.int(1, 4),
      actBits: pick([8, 8, 6]),
      bufferDepth: pick([256, 512, 1024, 4096, 8192]),
      weightMemory: pick(["uram", "bram"]),
      treeLevelsPerStage: rng.int(1, 4),
      memBits: pick([128, 256, 512, 1024]),
      dequant: rng.int(0, 2) === 0,
    });
    const build = (partial: Record<string, unknown>): EngineGeometry | undefined => {
      try {
        return geometry(partial);
      } catch {
        return undefined; // an invalid combination
      }
    };
    // each engine, then the same engine with one field changed: a field the cache key left out
    // would answer the variant with the first engine's figure
    const checkOne = (geo: EngineGeometry, device: string, what: string): void => {
      const budget = presetBudget(device);
      const want = estimateClock(geo, budget).analytic;
      const got = engineClockMHz(geo, budget);
      assert.equal(got.estimateMHz, want.fmaxMHz, what);
      assert.equal(got.criticalPath, `${want.path} in ${want.criticalModule}`, what);
      assert.equal(got.mhz, Math.min(budget.clockMHz, want.fmaxMHz), what);
    };
    let checked = 0;
    const other: Record<string, (v: unknown) => unknown> = {
      kind: (v) => (v === "tlmm" ? "baseline" : "tlmm"),
      G: (v) => ((v as number) % 4) + 2,
      encoding: (v) => (v === "full" ? "mirrored" : "full"),
      T: (v) => (v as number) + rng.int(1, 20),
      P: (v) => (v as number) + rng.int(1, 20),
      c: (v) => (v as number) + 1,
      actBits: (v) => (v === 8 ? 6 : 8),
      bufferDepth: (v) => (v as number) * 2,
      weightMemory: (v) => (v === "uram" ? "bram" : "uram"),
      treeLevelsPerStage: (v) => ((v as number) % 4) + 1,
      memBits: (v) => ((v as number) === 1024 ? 128 : (v as number) * 2),
      dequant: (v) => !v,
    };
    for (let i = 0; i < 150; i++) {
      const base = draw();
      const geo = build(base);
      if (!geo) continue;
      const device = pick(["kv260", "zcu102", "vck190"]);
      checkOne(geo, device, `engine ${i} on ${device}`);
      for (const [field, change] of Object.entries(other)) {
        const variant = build({ ...base, [field]: change(base[field]) });
        if (!variant) continue;
        checkOne(variant, device, `engine ${i} with ${field} changed, on ${device}`);
        checked++;
      }
    }
    assert.ok(checked > 200, `${checked} variants checked`);
  });

  it("turns cycles into seconds at that clock, with the memory counted in its cycles", () => {
    const arch = {
      name: "t", source: "given" as const, tiedEmbeddings: false, activation: "silu" as const, subNorms: false, contextLength: 512,
      dimensions: { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 4, headDim: 64, vocab: 64 },
    };
    const workload = modelWorkload(arch, [], { contextLength: 128, assumeType: "I2_S" });
    const geo = geometry({ T: 8, P: 4, c: 1, dequant: true });
    const opts = { promptLengths: [16], contextLength: 128 };
    const fast = { ...kv260, clockMHz: 350 }; // above the engine's estimate
    const e = estimateLatency(workload, geo, fast, opts);
    const c = engineClockMHz(geo, fast);
    assert.equal(e.clockMHz, c.mhz);
    assert.equal(e.clockUsed.limitedBy, "estimate");
    assert.match(e.clockUsed.note, new RegExp(`^latency at ${c.mhz} MHz: the clock estimate is below the budget's 350 MHz`));
    assert.ok(e.terms[0]!.startsWith(`clock: latency at ${c.mhz} MHz`));
    close(e.decode.seconds, e.decode.totalCycles / (c.mhz * 1e6), "seconds at the engine's clock");
    // the same engine on a budget already at its clock: the same cycles, the same seconds
    const atClock = estimateLatency(workload, geo, { ...kv260, clockMHz: c.mhz }, opts);
    assert.equal(atClock.clockUsed.limitedBy, "budget");
    assert.equal(atClock.decode.totalCycles, e.decode.totalCycles);
    assert.equal(atClock.prefill["16"]!.totalCycles, e.prefill["16"]!.totalCycles);
  });
});
