import { join } from "node:path";
import { FIGURES, type FigureName } from "../sweep/figures.js";
import { writeOutputs, writesPointsJson } from "../sweep/outputs.js";
import { type SweepPoint, type SweepSummary } from "../sweep/results.js";
import { verifyPoints, type VerifiedPoint } from "../sweep/verify.js";
import { writeReport } from "../report/write.js";
import { runSweep } from "../sweep/run.js";
import { parseShard } from "../sweep/space.js";
import { markComplete, markIncomplete, mergeSweeps } from "../sweep/store.js";
import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { writeDirAtomicAsync } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { printJson, table } from "./output.js";

export interface SweepArgs {
  spec: string;
  out: string;
  shard?: string | undefined;
  jobs: number;
  json: boolean;
  verifyTop?: number | undefined;
  synth?: boolean | undefined;
}

const fmt = (v: number): string =>
  Number.isInteger(v) ? v.toLocaleString("en-US") : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);

function describe(p: SweepPoint): string {
  return Object.entries(p.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
}

const SHOWN: readonly FigureName[] = ["decodeTokensPerSecond", "ttftSeconds", "clockMHz", "lutTotal", "ff", "bram36", "uram", "dsp", "utilization"];

function printSummary(summary: SweepSummary, out: string, rate: number | undefined, pointsJson: boolean): void {
  const dropped = Object.entries(summary.dropped.budget).map(([k, n]) => `${n} over ${k}`);
  if (summary.dropped.invalid) dropped.push(`${summary.dropped.invalid} not buildable`);
  for (const [k, n] of Object.entries(summary.dropped.constraint)) dropped.push(`${n} by the ${k} constraint`);
  console.log(
    `${summary.evaluated.toLocaleString("en-US")} points${rate !== undefined ? ` (${Math.round(rate).toLocaleString("en-US")} points/s)` : ""}, ` +
      `${summary.feasible.toLocaleString("en-US")} kept${dropped.length ? `; dropped: ${dropped.join(", ")}` : ""}`,
  );
  if (summary.atClockEstimate > 0) {
    console.log(
      `${summary.atClockEstimate.toLocaleString("en-US")} of the kept points run at their own clock estimate, below the budget's clock: ` +
        "their times are at that clock (figures clockMHz, clockEstimateMHz; docs/clock.md)",
    );
  }
  const objectives = summary.objectives.map((o) => `${o.goal === "maximize" ? "max" : "min"} ${o.figure}`).join(", ");
  if (summary.best) {
    console.log(`\nbest for ${objectives}:\n  ${describe(summary.best)}`);
    console.log(table(SHOWN.map((f) => FIGURES[f].label), [SHOWN.map((f) => fmt(summary.best!.figures[f]))]));
    const f = summary.best.figures;
    if (f.clockMHz === f.clockEstimateMHz) console.log(`  its times are at ${f.clockMHz} MHz, its own clock estimate, not the budget's clock`);
  }
  const cols = [...new Set([...summary.objectives.map((o) => o.figure), ...SHOWN.slice(0, 3)])];
  console.log(`\nPareto front (${summary.pareto.length} points):`);
  console.log(
    table(
      ["point", ...cols.map((f) => FIGURES[f].label)],
      summary.pareto.slice(0, 20).map((p) => [describe(p), ...cols.map((f) => fmt(p.figures[f]))]),
    ),
  );
  if (summary.pareto.length > 20) console.log(`  ... ${summary.pareto.length - 20} more in ${join(out, "pareto.json")}`);
  console.log(`\nwrote ${out}/points.csv, ${pointsJson ? "points.json, " : ""}pareto.json, summary.json, report.html${summary.plots.length ? `, ${summary.plots.join(", ")}` : ""}`);
}

function printVerified(verified: readonly VerifiedPoint[]): void {
  console.log(`\nverified in Verilator (decoder block 0 of each engine${verified.some((v) => v.synth) ? "; resources analytic / yosys" : ""}):`);
  console.log(
    table(
      ["rank", "point", "mode", "predicted cycles", "measured cycles", "bit-exact", ...(verified.some((v) => v.synth) ? ["LUT", "FF"] : [])],
      verified.map((v) => [
        v.rank,
        Object.entries(v.params).map(([k, x]) => `${k}=${String(x)}`).join(" "),
        `${v.mode} ×${v.tokens}`,
        v.predictedCycles.toLocaleString("en-US"),
        `${v.measuredCycles.toLocaleString("en-US")}${v.cyclesMatch ? "" : " (DIFFERS)"}`,
        v.bitExact ? "yes" : `NO (${v.mismatches})`,
        ...(v.synth ? [`${v.analytic.lut + v.analytic.lutram} / ${v.synth.total.lut + v.synth.total.lutram}`, `${v.analytic.ff} / ${v.synth.total.ff}`] : []),
      ]),
    ),
  );
}

export async function sweepCommand(args: SweepArgs): Promise<number> {
  const shard = args.shard !== undefined ? parseShard(args.shard) : undefined;
  const k = args.verifyTop ?? 0;
  if (!(Number.isInteger(k) && k >= 0)) throw new UserError(`--verify-top ${k}: expected a number of points`);
  if (args.synth && k === 0) throw new UserError("--synth synthesizes the verified points: add --verify-top K");
  const run = await runSweep(args.spec, { out: args.out, shard, jobs: args.jobs, quiet: false, top: k });
  const verified =
    k > 0
      ? await verifyPoints(run.inputs, run.top, {
          synth: args.synth === true,
          out: args.out,
          log: (line) => console.error(line),
        })
      : undefined;
  const ok = verified === undefined || verified.every((v) => v.bitExact && v.cyclesMatch);
  // the report reads a finished sweep; if it fails, the directory is again one to resume
  markComplete(args.out);
  try {
    if (run.summary.best) await writeReport(args.out);
  } catch (err) {
    markIncomplete(args.out);
    throw err;
  }
  if (args.json) {
    printJson({
      ...run.summary,
      evaluatedNow: run.evaluatedNow,
      pointsPerSecond: Math.round(run.pointsPerSecond),
      out: args.out,
      ...(verified ? { verified } : {}),
    });
  } else {
    printSummary(run.summary, args.out, run.evaluatedNow > 0 ? run.pointsPerSecond : undefined, writesPointsJson(run.manifest));
    if (verified) printVerified(verified);
  }
  return ok ? 0 : 1;
}

/** merge replaces only an earlier sweep directory, or fills a new or empty one. */
function checkMergeOutput(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UserError(`merge: ${out}: exists and is not a directory; name a new one`);
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes("sweep.json")) throw new UserError(`merge: ${out}: exists and is not a sweep directory; name a new or empty one`);
}

export async function mergeCommand(args: { dirs: string[]; out: string; json: boolean }): Promise<void> {
  if (args.out === "") throw new UserError("merge: --out: expected a directory name, got an empty one");
  if (args.dirs.some((d) => resolve(d) === resolve(args.out))) throw new UserError(`merge: the output ${args.out} is also an input; name a new directory`);
  checkMergeOutput(args.out);
  // the merged directory, report included, appears whole or not at all
  const { summary, manifest } = await writeDirAtomicAsync(args.out, async (tmp) => {
    const m = mergeSweeps(args.dirs, tmp);
    const { summary: s } = await writeOutputs(tmp, m, Array.from({ length: m.chunks }, (_, c) => c));
    if (s.best) await writeReport(tmp);
    return { summary: s, manifest: m };
  });
  if (args.json) printJson({ ...summary, out: args.out });
  else printSummary(summary, args.out, undefined, writesPointsJson(manifest));
}
