import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { presetBudget } from "../src/budget/budget.js";
import { generateRtl } from "../src/codegen/rtl.js";
import { estimateClock } from "../src/estimate/clock.js";
import { synthesize, synthesizeSources, type SynthCounts, type SynthResult } from "../src/estimate/synth/synth.js";
import { cli } from "./helpers.js";

const KEYS = ["lut", "ff", "lutram", "carry", "bram36", "uram", "dsp"] as const;

function geometry(partial: object): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}

/** Σ over modules of (one instance's own cells × instances). */
function moduleSum(r: SynthResult): SynthCounts {
  const sum: SynthCounts = { lut: 0, ff: 0, lutram: 0, carry: 0, bram36: 0, uram: 0, dsp: 0 };
  for (const [name, m] of Object.entries(r.modules)) {
    const n = r.instances[name];
    assert.ok(n !== undefined && n >= 1, `instances of ${name}`);
    for (const k of KEYS) sum[k] += m[k] * n;
  }
  return sum;
}

describe("yosys synthesis (--synth)", function () {
  let cache: string;
  let savedCache: string | undefined;
  const small = { G: 2, T: 3, P: 2, c: 1, bufferDepth: 4096, maxRows: 64 };
  const axi = { T: 3, P: 2, c: 1, maxRows: 64, bufferDepth: 8192, weightMemory: "uram" };

  before(function () {
    savedCache = process.env["TRILUT_CACHE"];
    cache = mkdtempSync(join(tmpdir(), "trilut-synth-"));
    process.env["TRILUT_CACHE"] = cache;
  });
  after(function () {
    if (savedCache === undefined) delete process.env["TRILUT_CACHE"];
    else process.env["TRILUT_CACHE"] = savedCache;
    rmSync(cache, { recursive: true, force: true });
  });

  it("reports a small engine per module, totals matching a flattened run, and caches it", async function () {
    const geo = geometry(small);
    const r = await synthesize(geo, "ultrascale+");
    assert.equal(r.cached, false);
    assert.equal(r.yosysFamily, "xcup");
    assert.ok(r.total.lut > 0 && r.total.ff > 0, JSON.stringify(r.total));
    assert.equal(r.total.uram, geo.cfg.P * geo.cfg.c * Math.ceil(geo.cfg.bufferDepth / 4096));
    assert.equal(r.total.dsp, 0);
    for (const m of ["trilut_engine", "trilut_adder_tree", "trilut_lutram", "trilut_precompute", "trilut_compute", "trilut_uram72"]) {
      assert.ok(r.modules[m], `module ${m} in ${Object.keys(r.modules).join(", ")}`);
    }
    assert.equal(r.instances["trilut_uram72"], geo.cfg.P * geo.cfg.c);
    assert.ok(r.modules["trilut_lutram"]!.lutram > 0, "table memory maps to LUTRAM");
    assert.deepEqual(moduleSum(r), r.total);

    // the hierarchical totals are those of the whole design flattened (carry aside: flattening can
    // join chains that crossed module ports, so only the raw CARRY4 count must agree)
    const flat = await synthesize(geo, "ultrascale+", { flatten: true });
    for (const k of ["lut", "ff", "lutram", "bram36", "uram", "dsp"] as const) assert.equal(flat.total[k], r.total[k], k);
    assert.equal(flat.cells["CARRY4"], r.cells["CARRY4"]);

    const t0 = performance.now();
    const again = await synthesize(geo, "ultrascale+");
    const ms = performance.now() - t0;
    assert.equal(again.cached, true);
    assert.ok(ms < 500, `cache hit took ${ms} ms`);
    assert.deepEqual(again.total, r.total);
  });

  it("counts one URAM288 per bank column per 4096 words of an axi engine", async function () {
    const geo = geometry(axi);
    const r = await synthesize(geo, "ultrascale+");
    assert.equal(r.total.uram, geo.cfg.P * geo.cfg.c * Math.ceil(geo.cfg.bufferDepth / 4096));
    assert.equal(r.total.dsp, 0);
    assert.ok(r.modules["trilut_axi_loader"] && r.modules["trilut_fifo"], Object.keys(r.modules).join(", "));
    assert.deepEqual(moduleSum(r), r.total);
  });

  it("times the netlist's longest path, and the analytic estimate finds the same critical module", async function () {
    const geo = geometry(axi);
    const r = await synthesize(geo, "ultrascale+");
    const c = r.timing.critical!;
    assert.ok(c.levels > 0 && c.ns > 1 && c.ns < 10, JSON.stringify(c));
    assert.deepEqual(r.timing.unknown, {}, "every primitive has a delay");
    for (const m of ["trilut_compute", "trilut_adder_tree", "trilut_psum_mem", "trilut_uram72"]) assert.ok(r.timing.byModule[m], m);
    const e = estimateClock(geo, presetBudget("kv260"), r.timing);
    assert.equal(e.synth!.criticalModule, e.analytic.criticalModule);
    assert.ok(Math.abs(e.analytic.periodNs - e.synth!.periodNs) / e.synth!.periodNs < 0.1, `${e.analytic.periodNs} vs ${e.synth!.periodNs} ns`);
    // the figures come again from yosys's cached output when asked to (a new analysis or delay model)
    const again = await synthesize(geo, "ultrascale+", { rederive: true });
    assert.equal(again.cached, true);
    assert.deepEqual(again.timing, r.timing);
  });

  it("adds resources.synth, resources.analytic and resources.budget to estimate --json", function () {
    const set = Object.entries(axi).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const run = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "kv260", ...set, "--synth", "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      resources: { analytic: { total: SynthCounts }; synth: { total: SynthCounts; modules: Record<string, SynthCounts> }; budget: { lut: number; uram: number } };
    };
    for (const k of KEYS) {
      assert.equal(typeof out.resources.synth.total[k], "number", k);
      assert.equal(typeof out.resources.analytic.total[k], "number", k);
    }
    assert.equal(out.resources.synth.total.uram, 4);
    const clock = (out as unknown as { clock: { targetMHz: number; synth: { fmaxMHz: number; levels: number; criticalModule: string } } }).clock;
    assert.equal(clock.targetMHz, 250);
    assert.ok(clock.synth.fmaxMHz > 0 && clock.synth.levels > 0, JSON.stringify(clock.synth));
    assert.ok(out.resources.synth.modules["trilut_adder_tree"]);
    assert.equal(out.resources.budget.lut, 117120);
    const text = cli(["estimate", "models/tiny-tq2_0.gguf", "--device", "kv260", ...set, "--synth"]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /trilut_adder_tree\s+2\s/);
    assert.match(text.stdout, /% of kv260/);
    assert.match(text.stdout, /yosys netlist: \d+ MHz .* (meets|misses) 250 MHz/);
  });

  it("stops yosys past its time limit with one line", async function () {
    const geo = geometry({ ...small, T: 2 });
    const t0 = performance.now();
    await assert.rejects(synthesize(geo, "7series", { timeoutSeconds: 0.5 }), /^ToolError: yosys synthesis of trilut_engine stopped after 0\.5 s$/);
    // stopped at the limit, not when yosys would have finished (seconds later)
    assert.ok(performance.now() - t0 < 3000, `took ${performance.now() - t0} ms`);
  });

  it("reports a syntax error in one line naming the module and yosys's message", async function () {
    const rtl = generateRtl(geometry({ ...small, T: 2 })).map((f) =>
      f.name === "trilut_adder_tree.v" ? { ...f, content: f.content.replace("genvar l, j;", "genvar l, j;\n  this is not verilog;") } : f,
    );
    await assert.rejects(synthesizeSources(rtl, "ultrascale+"), (err: Error) => {
      assert.equal(err.name, "ToolError");
      assert.match(err.message, /^yosys synthesis of trilut_engine failed in module trilut_adder_tree: trilut_adder_tree\.v:\d+: ERROR: syntax error/);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    });
  });

  it("reports a missing submodule in one line naming it", async function () {
    const rtl = generateRtl(geometry({ ...small, T: 2 })).filter((f) => f.name !== "trilut_lutram.v");
    await assert.rejects(
      synthesizeSources(rtl, "ultrascale+"),
      /^ToolError: yosys synthesis of trilut_engine failed in module trilut_lutram: ERROR: Module `\\trilut_lutram' referenced in module .* is not part of the design\.$/,
    );
  });
});
