/**
 * Inspect at BitNet b1.58 2B-4T scale: writes a synthetic model with its dimensions (30 layers,
 * hidden 2560, ffn 6912, heads 20/5, vocab 128256; TQ2_0 linear weights, F16 embedding, tied),
 * then runs `trilut inspect --json` in a child process and reports wall time and peak RSS
 * (the child's maxRSS from /usr/bin/time when present, else sampled by the child itself).
 *
 *   node dist/bench/inspect-scale.js [--vocab N] [--keep DIR]
 * Targets: under 10 s and under 400 MB peak.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLlamaModel } from "../src/model/make-model.js";
import { PACKAGE_ROOT } from "../src/util/templates.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const vocab = Number(opt("--vocab") ?? 128256);
const keep = opt("--keep");
const dir = keep ?? mkdtempSync(join(tmpdir(), "trilut-scale-"));
const path = join(dir, `bitnet-2b4t-shape-tq2_0-v${vocab}.gguf`);

try {
  if (!existsSync(path)) {
    const t0 = performance.now();
    makeLlamaModel({ path, format: "tq2_0", architecture: "bitnet-b1.58", hidden: 2560, ffn: 6912, layers: 30, heads: 20, kvHeads: 5, vocab, seed: 1 });
    console.log(`wrote ${path}: ${(statSync(path).size / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bin = join(PACKAGE_ROOT, "bin", "trilut.js");
  const time = existsSync("/usr/bin/time");
  const cmd = time ? "/usr/bin/time" : process.execPath;
  const cmdArgs = time ? ["-v", process.execPath, bin, "inspect", path, "--json"] : [bin, "inspect", path, "--json"];
  const t0 = performance.now();
  const r = spawnSync(cmd, cmdArgs, { encoding: "utf8", maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`inspect failed (${r.status}): ${r.stderr}`);
  const maxRssKb = time ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) : NaN;
  const report = JSON.parse(r.stdout) as { workload: { matmulsPerToken: number; weightsPerToken: number; lmHeadWeights: number; bytesPerToken: number } };
  const w = report.workload;
  console.log(`inspect wall time        ${seconds.toFixed(2)} s   (target < 10 s)`);
  console.log(`inspect peak RSS         ${Number.isNaN(maxRssKb) ? "n/a (no /usr/bin/time)" : `${(maxRssKb / 1024).toFixed(0)} MiB`}   (target < 400 MB)`);
  console.log(`matmuls/token ${w.matmulsPerToken}, ternary weights/token ${w.weightsPerToken.toLocaleString("en-US")}, ` +
    `LM head ${w.lmHeadWeights.toLocaleString("en-US")}, ${(w.bytesPerToken / 1e6).toFixed(1)} MB/token`);
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
