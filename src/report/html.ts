import { type ReportData, type ResourceRow } from "./collect.js";

/**
 * The report as one self-contained HTML file: inline CSS, inline SVG (plots from vega-lite, the
 * waveform from wavedrom), no script and nothing fetched, so it opens offline and in any CI
 * artifact viewer. Every text from outside (file names, parameters) is escaped.
 */
const esc = (s: unknown): string => String(s).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
const num = (v: number): string => (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 }));
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ""): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

function engineSection(d: ReportData): string {
  const rows = Object.entries(d.engine).map(([k, v]) => [esc(k), esc(v)]);
  const b = d.budget;
  const budgetRows = [
    ["device", esc(b.device)],
    ["part", esc(b.part ?? "-")],
    ["family", esc(b.family)],
    ["clock", `${num(b.clockMHz)} MHz`],
    ["clock used", `${num(d.clock.mhz)} MHz${d.clock.limitedBy === "estimate" ? ` <b class="warn">(the engine's clock estimate: below the budget's)</b>` : ` (estimate ${num(d.clock.estimateMHz)} MHz)`}`],
    ["memory", `${num(b.memoryGBps)} GB/s, ${num(b.memoryLatencyNs)} ns latency`],
    ["utilization cap", pct(b.utilizationCap)],
  ];
  const model = d.model
    ? `<p>Model <code>${esc(d.model.name)}</code>: ${esc(d.model.architecture)}, ${d.model.layers} layers, hidden ${num(d.model.hidden)}, FFN ${num(d.model.ffn)}, vocabulary ${num(d.model.vocab)}.</p>`
    : "";
  return section(
    "engine",
    "Engine",
    `${model}<p>${num(d.weightsPerCycle)} ternary weights per cycle.</p><div class="cols">${table(["field", "value"], rows)}${table(["budget", ""], budgetRows)}</div>`,
  );
}

function resourcesSection(d: ReportData): string {
  const keys = ["lut", "lutram", "ff", "carry", "bram36", "uram", "dsp"] as const;
  const row = (r: ResourceRow, name: string): string[] => [esc(name), r.instances ? num(r.instances) : "", ...keys.map((k) => num(r[k]))];
  const b = d.budget;
  const limits: Record<string, number | undefined> = { lut: b.lut, lutram: undefined, ff: b.ff, carry: undefined, bram36: b.bram36, uram: b.uram, dsp: b.dsp };
  const percent = keys.map((k) => (limits[k] === undefined ? "" : `<b>${pct(d.resources.percent[k] ?? 0)}</b>`));
  const rows = [...d.resources.modules.map((m) => row(m, m.module)), row(d.resources.total, "total").map((c, i) => (i === 0 ? "<b>total</b>" : `<b>${c}</b>`)), [`% of ${esc(b.device)}`, "", ...percent]];
  return section(
    "resources",
    "Resources (analytic model, per module, all instances)",
    `${table(["module", "instances", "LUT", "LUTRAM", "FF", "CARRY", "BRAM36", "URAM", "DSP"], rows, "num")}
<p class="note">LUT % counts LUT + LUTRAM against the part's LUTs, as the budget check does; the model is calibrated against yosys (docs/calibration.md). <code>trilut estimate --synth</code> adds synthesized figures.</p>`,
  );
}

function latencySection(d: ReportData): string {
  const e = d.latency;
  if (!e) return section("latency", "Latency", "<p>No latency figures: the model is not available.</p>");
  const ms = (cycles: number): string => ((cycles / (e.clockMHz * 1e6)) * 1e3).toFixed(3);
  const head = `<div class="figures">
<div><span>${e.decodeTokensPerSecond.toFixed(1)}</span>decode tokens/s</div>
${Object.entries(e.ttftSeconds).map(([p, s]) => `<div><span>${(s * 1e3).toFixed(1)} ms</span>TTFT, ${esc(p)}-token prompt</div>`).join("\n")}
<div><span>${pct(e.rooflineFraction)}</span>of the roofline (${e.rooflineTokensPerSecond.toFixed(1)} tokens/s)</div>
<div><span>${num(e.clockMHz)} MHz</span>${e.clockUsed.limitedBy === "estimate" ? "the clock estimate (below the budget's)" : "the budget's clock"}</div>
</div>
<p class="${e.clockUsed.limitedBy === "estimate" ? "warn" : "note"}">${e.clockUsed.limitedBy === "estimate" ? "<b>Note:</b> " : ""}${esc(e.clockUsed.note)}.</p>`;
  const d0 = e.decode;
  const phases = table(
    ["per token (decode, context " + num(e.contextLength) + ")", "cycles", "ms"],
    [
      ["matmuls", num(d0.matmulCycles), ms(d0.matmulCycles)],
      ["attention / KV cache", num(d0.attentionCycles), ms(d0.attentionCycles)],
      ["LM head", num(d0.lmHeadCycles), ms(d0.lmHeadCycles)],
      ["<b>total</b>", `<b>${num(d0.totalCycles)}</b>`, `<b>${ms(d0.totalCycles)}</b>`],
    ],
    "num",
  );
  const first = e.layers.filter((l) => l.layer === e.layers[0]!.layer || l.role === "lm_head");
  const layers = table(
    ["matmul (layer 0 and LM head)", "n × k", "on", "decode cycles", "ms"],
    first.map((l) => [`<code>${esc(l.name)}</code>`, `${num(l.n)} × ${num(l.k)}`, esc(l.on), num(l.decodeCycles), ms(l.decodeCycles)]),
    "num",
  );
  const terms = `<ul class="note">${e.terms.map((t) => `<li>${esc(t)}</li>`).join("")}</ul>`;
  return section("latency", "Latency", `${head}<div class="cols">${phases}${layers}</div>${d.rooflineSvg ? `<figure>${d.rooflineSvg}</figure>` : ""}${terms}`);
}

function sweepSection(d: ReportData): string {
  const s = d.sweep;
  if (!s) return "";
  const objectives = s.objectives.map((o) => `${o.goal} ${o.figure}`).join(", ");
  const describe = (p: { params: Record<string, unknown> }): string =>
    Object.entries(p.params)
      .map(([k, v]) => `${esc(k)}=${esc(v)}`)
      .join(" ");
  const figs = [...new Set([...s.objectives.map((o) => o.figure), "decodeTokensPerSecond", "ttftSeconds", "clockMHz", "lutTotal"])];
  const front = table(
    ["point", ...figs],
    s.pareto.map((p) => [describe(p), ...figs.map((f) => num(p.figures[f as keyof typeof p.figures]))]),
    "num",
  );
  const dropped = [
    ...Object.entries(s.dropped.budget).map(([k, n]) => `${num(n)} over ${esc(k)}`),
    ...(s.dropped.invalid ? [`${num(s.dropped.invalid)} not buildable`] : []),
    ...Object.entries(s.dropped.constraint).map(([k, n]) => `${num(n)} by the ${esc(k)} constraint`),
  ].join(", ");
  return section(
    "sweep",
    "Sweep",
    `<p>${num(s.evaluated)} points evaluated, ${num(s.feasible)} fit${dropped ? ` (dropped: ${dropped})` : ""}. Objectives: ${esc(objectives)}.
Every point is ranked at its own clock (the clockMHz column)${s.atClockEstimate > 0 ? `; <b class="warn">${num(s.atClockEstimate)} kept point${s.atClockEstimate === 1 ? " runs" : "s run"} at their clock estimate, below the budget's clock</b>` : ""}.
The best point, whose engine this report describes: <code>${s.best ? describe(s.best) : "-"}</code>.</p>
${s.plots.map((p) => `<figure>${p.svg}<figcaption>${esc(p.name)}</figcaption></figure>`).join("\n")}
<h3>Pareto front${s.pareto.length >= 30 ? " (first 30)" : ""}</h3>${front}`,
  );
}

function simulationSection(d: ReportData): string {
  if (d.simulation.length === 0 && !d.waveform) return "";
  const rows = d.simulation.map((r) => [
    esc(r.what),
    `${esc(r.mode)} × ${r.tokens}`,
    num(r.predictedCycles),
    num(r.measuredCycles),
    r.predictedCycles === r.measuredCycles ? "equal" : `<b class="bad">differs</b>`,
    r.bitExact ? "yes" : `<b class="bad">NO</b>`,
  ]);
  const sims = rows.length ? table(["run (Verilator)", "mode", "predicted cycles", "measured cycles", "cycle model", "bit-exact"], rows, "num") : "";
  const wave = d.waveform
    ? `<h3>The first cycles: ${esc(d.waveform.what)}, cycles ${d.waveform.from}–${d.waveform.to}</h3><figure class="wave">${d.waveform.svg}</figure>`
    : "";
  return section("simulation", "Simulation", sims + wave);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 1.5em 0.6em 0; font-size: 13px; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
table.num td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f5f5f5; }
.cols { display: flex; flex-wrap: wrap; align-items: flex-start; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0; }
.figures div { background: #f4f7fb; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.figures span { display: block; font-size: 1.5em; font-weight: 600; }
.note { color: #666; font-size: 12px; } .bad { color: #c00; } .warn { color: #a05a00; }
figure { margin: 1em 0; overflow-x: auto; } figcaption { color: #666; font-size: 12px; }
code { background: #f3f3f3; padding: 0 0.2em; border-radius: 3px; }
nav a { margin-right: 1em; }
`;

export function reportHtml(d: ReportData, generator: string): string {
  const sections = [engineSection(d), resourcesSection(d), latencySection(d), sweepSection(d), simulationSection(d)].filter(Boolean);
  const nav = [...sections.join("").matchAll(/<section id="(\w+)"><h2>([^<]+)<\/h2>/g)].map((m) => `<a href="#${m[1]}">${m[2]!.split(" (")[0]}</a>`).join("");
  const notes = d.notes.length ? `<ul class="note">${d.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trilut report: ${esc(d.title)}</title>
<style>${STYLE}</style></head>
<body>
<h1>trilut report: ${esc(d.title)}</h1>
<p class="note">Written by ${esc(generator)}. Figures are the analytic models' (exact cycles, calibrated resources) unless marked measured.</p>
<nav>${nav}</nav>
${notes}
${sections.join("\n")}
</body></html>
`;
}
