import { markdownText } from "../util/quote.js";
import { type ReportData } from "./collect.js";

/**
 * The report's summary in Markdown, short enough for a pull-request comment: the engine, its
 * headline figures, resources against the budget, and the simulations' verdicts.
 */
const num = (v: number): string => (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 }));
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
/** Text from the inputs (the title, tensor names, notes) as literal Markdown: never a link, a tag or a broken row. */
const cell = markdownText;

export function reportMarkdown(d: ReportData): string {
  const e = d.engine;
  const lines = [`### trilut: ${cell(d.title)}`, ""];
  lines.push(`Engine **${e.kind} G=${e.G} ${e.encoding} T=${e.T} P=${e.P} c=${e.c}** on **${cell(d.budget.device)}** at ${num(d.clock.mhz)} MHz, ${num(d.weightsPerCycle)} weights/cycle.`, "");
  if (d.clock.limitedBy === "estimate") lines.push(`**Note:** ${cell(d.clock.note)}.`, "");
  lines.push("| figure | value |", "|---|---|");
  if (d.latency) {
    lines.push(`| decode | ${d.latency.decodeTokensPerSecond.toFixed(1)} tokens/s (${pct(d.latency.rooflineFraction)} of the roofline) |`);
    for (const [p, s] of Object.entries(d.latency.ttftSeconds)) lines.push(`| TTFT, ${p}-token prompt | ${(s * 1e3).toFixed(1)} ms |`);
  }
  const t = d.resources.total;
  const p = d.resources.percent;
  lines.push(`| LUT (+LUTRAM) | ${num(t.lut + t.lutram)} (${pct(p["lut"] ?? 0)}) |`);
  lines.push(`| FF | ${num(t.ff)} (${pct(p["ff"] ?? 0)}) |`);
  lines.push(`| BRAM36 / URAM / DSP | ${num(t.bram36)} / ${num(t.uram)} / ${num(t.dsp)} |`);
  if (d.sweep) lines.push(`| sweep | ${num(d.sweep.evaluated)} points, ${num(d.sweep.feasible)} fit, Pareto front of ${d.sweep.pareto.length}${d.sweep.pareto.length >= 30 ? "+" : ""} |`);
  if (d.simulation.length) {
    lines.push("", "| simulation | predicted cycles | measured cycles | bit-exact |", "|---|---:|---:|---|");
    for (const s of d.simulation) {
      lines.push(`| ${cell(s.what)}, ${s.mode} × ${s.tokens} | ${num(s.predictedCycles)} | ${num(s.measuredCycles)}${s.measuredCycles === s.predictedCycles ? "" : " ⚠"} | ${s.bitExact ? "yes" : "**NO**"} |`);
    }
  }
  for (const n of d.notes) lines.push("", `_${cell(n)}_`);
  return lines.join("\n") + "\n";
}
