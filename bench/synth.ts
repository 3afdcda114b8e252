/**
 * Synthesis benchmark: yosys (WebAssembly) time for the small test engine and the kv260 default
 * engine, whole and module by module, and the time of a cache hit. Run with `npm run bench:synth`;
 * a cold run takes several minutes. Set TRILUT_SYNTH_FRESH=1 to synthesize the whole engines into
 * an empty cache instead of reusing ~/.cache/trilut/synth (the per-module runs are never cached).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { DEFAULT_ENGINE, engineGeometry, resolveEngine } from "../src/engine/config.js";
import { estimateClock } from "../src/estimate/clock.js";
import { moduleSynthesisTimes } from "../src/estimate/synth/synth-module.js";
import { synthesize, type SynthResult } from "../src/estimate/synth/synth.js";

const fresh = process.env["TRILUT_SYNTH_FRESH"] === "1";
const tmpCache = fresh ? mkdtempSync(join(tmpdir(), "trilut-bench-synth-")) : undefined;
if (tmpCache) process.env["TRILUT_CACHE"] = tmpCache;

function report(label: string, r: SynthResult): void {
  console.log(`\n${label}: ${r.cached ? `cache hit (synthesized in ${r.seconds.toFixed(1)} s)` : `synthesized in ${r.seconds.toFixed(1)} s`} (yosys ${r.yosysVersion}, ${r.yosysFamily})`);
  for (const [name, m] of Object.entries(r.modules).sort(([a], [b]) => a.localeCompare(b))) {
    console.log(
      `  ${name.padEnd(22)} ×${String(r.instances[name]).padEnd(4)} LUT ${m.lut} LUTRAM ${m.lutram} FF ${m.ff} CARRY ${m.carry} ` +
        `BRAM36 ${m.bram36} URAM ${m.uram} DSP ${m.dsp}`,
    );
  }
  const t = r.total;
  console.log(`  total: LUT ${t.lut} LUTRAM ${t.lutram} FF ${t.ff} CARRY ${t.carry} BRAM36 ${t.bram36} URAM ${t.uram} DSP ${t.dsp}`);
  const c = r.timing.critical;
  if (c) console.log(`  longest path: ${c.ns.toFixed(2)} ns (${(1000 / c.ns).toFixed(0)} MHz, ${c.levels} levels) ending in ${c.toModule}`);
}

/** Times a cache hit of the figures, and one of yosys's output alone (the figures derived again). */
async function cacheHits(geo: ReturnType<typeof engineGeometry>, family: "ultrascale+"): Promise<void> {
  let t0 = performance.now();
  const hit = await synthesize(geo, family);
  console.log(`  cache hit: ${(performance.now() - t0).toFixed(1)} ms (cached: ${hit.cached})`);
  // yosys's gzipped output without the derived figures: what a new analysis or delay model costs
  t0 = performance.now();
  await synthesize(geo, family, { rederive: true });
  console.log(`  cache hit of yosys's output only (netlist parsed and timed again): ${(performance.now() - t0).toFixed(0)} ms`);
}

const kv260 = presetBudget("kv260");
const family = "ultrascale+";
const configs: [string, object][] = [
  ["small engine (G=2 T=3 P=2 c=1)", { G: 2, T: 3, P: 2, c: 1, bufferDepth: 4096, maxRows: 64 }],
  [`kv260 default engine (G=${DEFAULT_ENGINE.G} T=${DEFAULT_ENGINE.T} P=${DEFAULT_ENGINE.P} c=${DEFAULT_ENGINE.c})`, {}],
];
try {
  for (const [label, partial] of configs) {
    const geo = engineGeometry(resolveEngine(partial, "bench"));
    const first = await synthesize(geo, family);
    report(label, first);
    await cacheHits(geo, family);
    const clock = estimateClock(geo, kv260, first.timing);
    console.log(
      `  clock estimate: analytic ${clock.analytic.fmaxMHz} MHz (${clock.analytic.levels} levels, ${clock.analytic.criticalModule}), ` +
        `netlist ${clock.synth?.fmaxMHz} MHz (${clock.synth?.levels} levels, ${clock.synth?.criticalModule}); target ${kv260.clockMHz} MHz`,
    );
  }

  const geo = engineGeometry(resolveEngine({}, "bench"));
  console.log("\nkv260 default engine, module by module (out of context, submodules as black boxes):");
  const times = await moduleSynthesisTimes(geo, family, {
    onModule: (t) => console.log(`  ${t.module.padEnd(22)} ${t.seconds.toFixed(1).padStart(6)} s  ${t.cells} cells`),
  });
  const sum = times.modules.reduce((a, t) => a + t.seconds, 0);
  // the quickest run synthesizes next to nothing: what every run pays to start yosys, elaborate the
  // engine and set up synth_xilinx's cell libraries
  const floor = Math.min(...times.modules.map((t) => t.seconds));
  console.log(
    `  fixed cost per run (the quickest, a module of a few cells): ${floor.toFixed(1)} s, of which reading and ` +
      `elaborating the engine ${times.elaborationSeconds.toFixed(1)} s; above it, per module:`,
  );
  for (const t of [...times.modules].sort((a, b) => b.seconds - a.seconds)) {
    console.log(`  ${t.module.padEnd(22)} ${(t.seconds - floor).toFixed(1).padStart(6)} s`);
  }
  console.log(
    `  sum of the runs ${sum.toFixed(1)} s; above the fixed cost ${(sum - times.modules.length * floor).toFixed(1)} s ` +
      `(the whole engine in one run: see above)`,
  );
} finally {
  if (tmpCache) rmSync(tmpCache, { recursive: true, force: true });
}
