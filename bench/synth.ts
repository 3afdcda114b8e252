/**
 * Synthesis benchmark: yosys (WebAssembly) time for the kv260 default engine and the small test
 * engine, per-module figures, and the cache-hit time. Run with `npm run bench:synth`; the first,
 * cold run of the default engine takes minutes. Set TRILUT_SYNTH_FRESH=1 to synthesize into an empty
 * cache instead of reusing ~/.cache/trilut/synth.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { DEFAULT_ENGINE, engineGeometry, resolveEngine } from "../src/engine/config.js";
import { synthesize, type SynthResult } from "../src/estimate/synth.js";

const fresh = process.env["TRILUT_SYNTH_FRESH"] === "1";
const tmpCache = fresh ? mkdtempSync(join(tmpdir(), "trilut-bench-synth-")) : undefined;
if (tmpCache) process.env["TRILUT_CACHE"] = tmpCache;

function report(label: string, r: SynthResult): void {
  console.log(`\n${label}: ${r.cached ? "cache hit" : `synthesized in ${r.seconds.toFixed(1)} s`} (yosys ${r.yosysVersion}, ${r.yosysFamily})`);
  for (const [name, m] of Object.entries(r.modules).sort(([a], [b]) => a.localeCompare(b))) {
    console.log(
      `  ${name.padEnd(22)} ×${String(r.instances[name]).padEnd(4)} LUT ${m.lut} LUTRAM ${m.lutram} FF ${m.ff} CARRY ${m.carry} ` +
        `BRAM36 ${m.bram36} URAM ${m.uram} DSP ${m.dsp}`,
    );
  }
  const t = r.total;
  console.log(`  total: LUT ${t.lut} LUTRAM ${t.lutram} FF ${t.ff} CARRY ${t.carry} BRAM36 ${t.bram36} URAM ${t.uram} DSP ${t.dsp}`);
}

const kv260 = presetBudget("kv260");
const configs: [string, object][] = [
  ["small preload engine (G=2 T=3 P=2 c=1)", { G: 2, T: 3, P: 2, c: 1, loader: "preload", bufferDepth: 4096, maxRows: 64 }],
  [`kv260 default engine (G=${DEFAULT_ENGINE.G} T=${DEFAULT_ENGINE.T} P=${DEFAULT_ENGINE.P} c=${DEFAULT_ENGINE.c})`, {}],
];
try {
  for (const [label, partial] of configs) {
    const geo = engineGeometry(resolveEngine(partial, "bench"));
    const first = await synthesize(geo, kv260.family);
    report(label, first);
    const t0 = performance.now();
    const hit = await synthesize(geo, kv260.family);
    console.log(`  cache hit: ${(performance.now() - t0).toFixed(1)} ms (cached: ${hit.cached})`);
  }
  console.log(
    "\nper-module time: the engine is synthesized in one yosys run with the hierarchy kept, so the run " +
      "time above covers every module; yosys does not time modules separately.",
  );
} finally {
  if (tmpCache) rmSync(tmpCache, { recursive: true, force: true });
}
