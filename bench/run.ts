/**
 * trilut benchmarks: prints the figures the issues ask for. Run with `npm run bench`.
 * Times are wall-clock on a shared machine: each is the median of several runs, and ratios
 * to a target are printed beside them. Cycle counts are exact.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineGeometry, resolveEngine, DEFAULT_ENGINE } from "../src/engine/config.js";
import { presetBudget } from "../src/budget/budget.js";
import { memoryTiming } from "../src/budget/memory.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { buildSimulator } from "../src/sim/build.js";
import { simulateMatmul } from "../src/sim/simulate.js";
import { Rng } from "../src/util/random.js";
import { PACKAGE_ROOT } from "../src/util/templates.js";
import { runSweep } from "../src/sweep/run.js";
import { specAccuracySection } from "./spec-accuracy.js";
import { blockSection } from "./block.js";

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function line(name: string, value: string, target?: string): void {
  console.log(`${name.padEnd(44)} ${value.padStart(16)}${target ? `   (${target})` : ""}`);
}

function randomLayer(n: number, k: number, seed: number): { n: number; k: number; trits: Int8Array; x: Int8Array } {
  const rng = new Rng(seed);
  const trits = new Int8Array(n * k);
  for (let i = 0; i < trits.length; i++) trits[i] = rng.int(-1, 1);
  const x = new Int8Array(k);
  for (let i = 0; i < k; i++) x[i] = rng.int(-128, 127);
  return { n, k, trits, x };
}

const geo = engineGeometry(DEFAULT_ENGINE);
const work = mkdtempSync(join(tmpdir(), "trilut-bench-"));
console.log(`trilut bench: kv260 default engine (G=${DEFAULT_ENGINE.G} ${DEFAULT_ENGINE.encoding}, T=${DEFAULT_ENGINE.T}, P=${DEFAULT_ENGINE.P}, c=${DEFAULT_ENGINE.c}), 2560×6912 layers\n`);

// 1. simulator build: cold (empty cache, runtime included) and warm (cache hit)
{
  const saved = process.env["TRILUT_CACHE"];
  process.env["TRILUT_CACHE"] = join(work, "cache");
  const cold = await buildSimulator(geo);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push((await buildSimulator(geo)).buildSeconds);
  if (saved === undefined) delete process.env["TRILUT_CACHE"];
  else process.env["TRILUT_CACHE"] = saved;
  line("simulator build, cold (s)", cold.buildSeconds.toFixed(2));
  line("simulator build, warm, in process (s)", median(warm).toFixed(3));
}

// 2. decode on both orientations of the layer, weights streaming at the kv260's 19.2 GB/s
const kv260 = presetBudget("kv260");
const memory = memoryTiming(kv260);
await buildSimulator(geo);
for (const [n, k] of [
  [6912, 2560],
  [2560, 6912],
] as const) {
  const layer = randomLayer(n, k, n);
  const runs: number[] = [];
  let r: Awaited<ReturnType<typeof simulateMatmul>> | undefined;
  for (let i = 0; i < 3; i++) {
    r = await simulateMatmul(geo, layer, layer.x, { memory });
    if (!r.match || r.cycles !== r.predictedCycles) throw new Error(`bench layer ${n}×${k} failed its check`);
    runs.push(r.simSeconds);
  }
  line(`decode cycles, ${n}×${k}`, r!.cycles.toLocaleString("en-US"), `${(r!.cycles / 250).toFixed(0)} µs at 250 MHz`);
  line(`  memory port busy`, `${(r!.memBusyFraction * 100).toFixed(1)}%`, `target ≥ 90%: ${r!.memBusyFraction >= 0.9 ? "met" : "MISSED"}`);
  line(`  simulation speed (cycles/s)`, Math.round(r!.cycles / median(runs)).toLocaleString("en-US"));
}

// 3. prefill of 128 tokens on 2560×6912: lookup-slot utilization. The default engine's 2,048-word
// buffer half holds 24 row groups of 83 steps, fewer than a 27-entry table build takes cycles;
// a deeper buffer (P=14 keeps it at 56 URAM) or G=2 (9 entries) keeps the lookups busy
for (const [name, partial] of [
  ["default (G=3 full, T=28, P=16)", {}],
  ["G=3 full, T=28, P=14, 8192 deep", { P: 14, bufferDepth: 8192 }],
  ["G=2 full, T=36, P=16", { G: 2, T: 36 }],
] as const) {
  const g = engineGeometry(resolveEngine(partial, "bench"));
  const layer = randomLayer(2560, 6912, 128);
  const rng = new Rng(128);
  const x = new Int8Array(128 * 6912);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(-128, 127);
  const r = await simulateMatmul(g, layer, x, { memory, tokens: 128 });
  if (!r.match || r.cycles !== r.predictedCycles) throw new Error(`prefill bench (${name}) failed its check`);
  line(`prefill 128 tokens, 2560×6912, ${name}`, `${(r.computeUtilization * 100).toFixed(1)}%`, `lookup slots used; target ≥ 95%: ${r.computeUtilization >= 0.95 ? "met" : "missed"}`);
  line(`  cycles (${(r.cycles / 250e3).toFixed(2)} ms at 250 MHz)`, r.cycles.toLocaleString("en-US"), `${Math.round(r.cyclesPerSecond).toLocaleString("en-US")} cycles/s simulated`);
}

// 4. end to end: `trilut sim` on a 2560×6912 layer of a model file (warm simulator cache)
{
  const model = join(work, "layer.gguf");
  makeLlamaModel({ path: model, format: "tq2_0", hidden: 2560, ffn: 6912, layers: 1, heads: 20, kvHeads: 5, vocab: 256, seed: 1 });
  const runs: number[] = [];
  const warmBuilds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(
      process.execPath,
      [join(PACKAGE_ROOT, "bin", "trilut.js"), "sim", model, "--tensor", "blk.0.ffn_down.weight", "--device", "kv260", "--json"],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`trilut sim failed: ${r.stderr}`);
    runs.push((performance.now() - t) / 1000);
    warmBuilds.push((JSON.parse(r.stdout) as { buildSeconds: number }).buildSeconds);
  }
  const warm = median(warmBuilds);
  line("simulator build, warm, new process (s)", warm.toFixed(3), `target < 1 s: ${warm < 1 ? "met" : "MISSED"}`);
  line("trilut sim end to end, 2560×6912 (s)", median(runs).toFixed(2), `target < 20 s: ${median(runs) < 20 ? "met" : "MISSED"}`);
}

// 5. reference kernel
{
  const layer = randomLayer(6912, 2560, 7);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    ternaryMatmul(layer, layer.x, 1);
    runs.push((performance.now() - t) / 1000);
  }
  const macs = (6912 * 2560) / median(runs);
  line("reference kernel (M ternary MAC/s)", (macs / 1e6).toFixed(0), `target ≥ 300: ${macs >= 300e6 ? "met" : "MISSED"}`);
}

// 6. trilut estimate on a model with bitnet_b1_58-large dimensions (REFERENCE.md §3)
{
  const model = join(work, "large.gguf");
  makeLlamaModel({ path: model, format: "tq2_0", architecture: "bitnet-b1.58", hidden: 1536, ffn: 4096, layers: 24, heads: 16, kvHeads: 16, vocab: 32002, seed: 1 });
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin", "trilut.js"), "estimate", model, "--device", "kv260", "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`trilut estimate failed: ${r.stderr}`);
  const seconds = (performance.now() - t) / 1000;
  const e = JSON.parse(r.stdout) as { decodeTokensPerSecond: number; rooflineTokensPerSecond: number; ttftSeconds: Record<string, number> };
  line("estimate, bitnet_b1_58-large on kv260: decode", `${e.decodeTokensPerSecond.toFixed(1)} tok/s`, `roofline ${e.rooflineTokensPerSecond.toFixed(1)} tok/s, context 1024`);
  line("  time to first token, 64 / 128 tokens", `${(e.ttftSeconds["64"]! * 1e3).toFixed(0)} / ${(e.ttftSeconds["128"]! * 1e3).toFixed(0)} ms`);
  line("  estimate run time (s)", seconds.toFixed(2));
}

// 7. design-space sweep of examples/bitnet-large-kv260.yaml (262,144 engines): points per second of
// the analytic evaluation, on one thread and on two workers, chunk files and outputs included
{
  const spec = join(PACKAGE_ROOT, "examples", "bitnet-large-kv260.yaml");
  for (const jobs of [1, 2]) {
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = join(work, `sweep-${jobs}-${i}`);
      const run = await runSweep(spec, { out, jobs, quiet: true });
      rates.push(run.pointsPerSecond);
      if (i === 0 && jobs === 1) {
        const b = run.summary.best!;
        line("sweep, bitnet_b1_58-large on kv260: points", `${run.summary.evaluated}`, `${run.summary.feasible} fit`);
        line("  best engine", Object.entries(b.params).filter(([k]) => k !== "budget").map(([k, v]) => `${k}=${String(v)}`).join(" "));
        line("  its decode / TTFT (128 tokens)", `${b.figures.decodeTokensPerSecond.toFixed(1)} tok/s / ${(b.figures.ttftSeconds * 1e3).toFixed(0)} ms`);
      }
    }
    line(`  points per second, ${jobs} thread${jobs > 1 ? "s" : ""}`, Math.round(median(rates)).toLocaleString("en-US"), jobs === 1 ? `target ≥ 100,000 per core: ${median(rates) >= 1e5 ? "met" : "MISSED"}` : undefined);
  }
}

// 8. the number spec's whole-model error against float64 (docs/numerics.md)
specAccuracySection(work);

// 9. one decoder block in hardware on the bitnet_b1_58-large shape (issue 14)
blockSection(work);

rmSync(work, { recursive: true, force: true });
