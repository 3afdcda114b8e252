import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import { generateRtl } from "../src/codegen/rtl.js";
import { estimateModules } from "../src/estimate/resources.js";
import { analyticPaths } from "../src/estimate/clock.js";
import { ENGINE_UNITS, unitsOf } from "../src/units/engine.js";
import { definedModules, HLS_SLOTS, hlsParts } from "../src/units/unit.js";
import { hlsPartialPath } from "../src/codegen/hls.js";
import { PACKAGE_ROOT } from "../src/util/templates.js";
import { LOOKUP_STAGES } from "../src/units/lookup.js";
import { QUEUE_DEPTH } from "../src/units/stream-core.js";
import { top } from "../src/units/top.js";
import { BUFFER_LATENCY, LOADED_DELAY } from "../src/units/weight-buffer.js";
import { DEQUANT_LATENCY } from "../src/units/dequant.js";
import { runEnd } from "../src/estimate/cycles/pass.js";
import { CALIBRATION_CONFIGS } from "../scripts/calibration-configs.js";

/** Engines over every structural choice: kind, encoding, G, dequant, weight memory, wide URAM columns. */
function spread(): { name: string; geo: EngineGeometry }[] {
  const engines: { name: string; engine: Record<string, unknown> }[] = CALIBRATION_CONFIGS.map((c) => ({ name: c.name, engine: c.engine }));
  for (const G of [2, 3, 4, 5]) {
    for (const encoding of ["full", "mirrored"]) {
      for (const kind of ["tlmm", "baseline"]) {
        engines.push({ name: `G${G} ${encoding} ${kind}`, engine: { G, encoding, kind, T: 6, P: 4 } });
        engines.push({ name: `G${G} ${encoding} ${kind} dequant bram`, engine: { G, encoding, kind, T: 12, P: 4, dequant: true, weightMemory: "bram", bufferDepth: 1024 } });
      }
    }
  }
  engines.push({ name: "default", engine: {} });
  engines.push({ name: "deep URAM columns", engine: { bufferDepth: 16384 } });
  return engines.map(({ name, engine }) => ({ name, geo: engineGeometry(resolveEngine(engine, name)) }));
}

const base = (module: string): string => module.replace(/#\d+$/, "");

describe("hardware units", () => {
  const engines = spread();

  it("every module of the generated RTL has a resource entry and a timing entry, and no entry names a module the RTL lacks", () => {
    for (const { name, geo } of engines) {
      const rtl = new Set(definedModules(generateRtl(geo)));
      const resources = new Set(Object.keys(estimateModules(geo).modules).map(base));
      const timed = new Set(analyticPaths(geo, "ultrascale+").map((p) => p.module));
      const unregistered = new Set(unitsOf(geo).flatMap((u) => Object.keys(u.unregistered ?? {})));
      for (const module of rtl) {
        assert.ok(resources.has(module), `${name}: module ${module} has no resource entry`);
        assert.ok(timed.has(module) || unregistered.has(module), `${name}: module ${module} has no path and is not declared unregistered`);
        assert.ok(!(timed.has(module) && unregistered.has(module)), `${name}: module ${module} has paths yet is declared unregistered`);
      }
      for (const module of [...resources, ...timed]) {
        assert.ok(rtl.has(module), `${name}: ${module} has an entry but the RTL defines no such module`);
      }
    }
  });

  it("a unit's files define only modules the unit itself counts", () => {
    for (const { name, geo } of engines) {
      for (const unit of unitsOf(geo)) {
        const owned = new Set(unit.resources(geo, "ultrascale+").map((s) => base(s.module)));
        for (const module of definedModules(unit.rtl(geo))) assert.ok(owned.has(module), `${name}: unit ${unit.name} defines ${module} without counting it`);
      }
    }
  });

  it("each unit says what it does, where its cycles are counted and what its HLS counterpart is", () => {
    for (const unit of ENGINE_UNITS) {
      for (const field of ["summary", "cycles"] as const) assert.ok(unit[field].length > 10, `${unit.name}: ${field}`);
      const hls = "parts" in unit.hls ? unit.hls.summary : unit.hls.none;
      assert.ok(hls.length > 10, `${unit.name}: hls`);
    }
    assert.equal(new Set(ENGINE_UNITS.map((u) => u.name)).size, ENGINE_UNITS.length, "unit names are unique");
  });

  it("every unit an engine has names HLS partials that exist, or says why it has none", () => {
    for (const { name, geo } of engines) {
      for (const unit of unitsOf(geo)) {
        if ("none" in unit.hls) {
          assert.ok(unit.hls.none.length > 10, `${name}: unit ${unit.name} has no HLS partial and must say why`);
          continue;
        }
        assert.ok(unit.hls.parts.length > 0, `${unit.name}: an HLS counterpart with no partials; say why in \`none\` instead`);
        for (const part of hlsParts(unit, geo)) {
          const file = join(PACKAGE_ROOT, "templates", hlsPartialPath(part.partial));
          assert.ok(existsSync(file), `${name}: unit ${unit.name} names HLS partial ${part.partial}, but ${file} does not exist`);
        }
      }
    }
  });

  it("every HLS partial file is some unit's, and every slot a part fills is a {{> slot}} of the templates", () => {
    const dir = join(PACKAGE_ROOT, "templates", "hls", "units");
    const files = readdirSync(dir).filter((f) => f.endsWith(".cpp.hbs"));
    const named = ENGINE_UNITS.flatMap((u) => ("parts" in u.hls ? u.hls.parts.map((p) => p.partial) : []));
    assert.equal(new Set(named).size, named.length, "no partial is named twice");
    for (const file of files) assert.ok(named.includes(file.replace(/\.cpp\.hbs$/, "")), `templates/hls/units/${file} is no unit's partial`);
    const templates = [join(PACKAGE_ROOT, "templates", "hls", "trilut_engine.cpp.hbs"), ...files.map((f) => join(dir, f))];
    const used = new Set(templates.flatMap((f) => [...readFileSync(f, "utf8").matchAll(/^\{\{> (\w+)\}\}$/gm)].map((m) => m[1]!)));
    for (const slot of HLS_SLOTS) assert.ok(used.has(slot), `slot ${slot} appears in no template`);
    for (const slot of used) assert.ok(slot === "common" || (HLS_SLOTS as readonly string[]).includes(slot), `{{> ${slot}}} is not a slot`);
  });

  it("each unit owns its cycle figures as data: whole cycle counts, and the ones the cycle model reads", () => {
    for (const { name, geo } of engines) {
      for (const unit of ENGINE_UNITS) {
        for (const [figure, value] of Object.entries(unit.cycleFigures(geo))) {
          assert.ok(Number.isInteger(value) && value >= 0, `${name}: ${unit.name}.${figure} = ${value}`);
        }
      }
      const figures = (unit: string): Readonly<Record<string, number>> => ENGINE_UNITS.find((u) => u.name === unit)!.cycleFigures(geo);
      // the figures the pass recurrence and the tile recurrence use (src/estimate/cycles), by their owners
      assert.equal(figures("weight buffer").readLatency, BUFFER_LATENCY);
      assert.equal(figures("weight buffer").loadedDelay, LOADED_DELAY);
      assert.equal(figures("stream core").queueDepth, QUEUE_DEPTH);
      assert.equal(figures("tables").build, geo.entries, `${name}: a build writes E entries, one a cycle`);
      assert.equal(figures("adder tree").stages, geo.treeStages, name);
      assert.equal(figures("lookup").pipeline, figures("adder tree").stages! + LOOKUP_STAGES, name);
      // a pass's end past its last issue (runEnd): the pipeline, leaving, and the drain's read
      assert.equal(runEnd(geo, 0, 0), figures("lookup").pipeline! + figures("lookup").passExit! + figures("partial sums").drainRead!, name);
      // a dequantizing pass ends when its last sweep's results leave the stage's pipeline
      if (geo.cfg.dequant) {
        assert.equal(figures("dequantization").latency, DEQUANT_LATENCY, name);
        assert.equal(runEnd(geo, 0, 0, true), runEnd(geo, 0, 0) + DEQUANT_LATENCY, name);
      }
    }
    assert.deepEqual(top.cycleFigures(engines[0]!.geo), {}, "the top is wiring: no cycles of its own");
  });

  it("the per-module table sums to the total", () => {
    for (const { name, geo } of engines) {
      const est = estimateModules(geo);
      for (const key of Object.keys(est.total) as (keyof typeof est.total)[]) {
        const sum = Object.entries(est.modules).reduce((s, [m, r]) => s + r[key] * est.instances[m]!, 0);
        assert.equal(sum, est.total[key], `${name}: ${key}`);
      }
    }
  });
});
