import { type TopLevelSpec } from "vega-lite";
import { type Budget } from "../budget/budget.js";
import { type EngineGeometry } from "../engine/config.js";
import { type LatencyEstimate } from "../estimate/latency.js";
import { type Workload } from "../model/workload.js";
import { renderVegaLite } from "../util/vega.js";

/**
 * The bandwidth roofline of an engine, drawn with vega-lite: attainable ternary weights per second
 * against intensity (weights per byte read from memory). The memory roof is bandwidth × intensity,
 * the compute roof the engine's P·T·G weights per cycle × clock. A decode token streams every weight
 * once (intensity = weights per stored byte); a prompt of p tokens reuses each loaded weight p times.
 * The points are what the latency model gives for the model's ternary matmuls. Both roof and points
 * are at the clock the latency model used (the budget's, or the engine's lower clock estimate).
 */
export async function rooflineSvg(geo: EngineGeometry, budget: Budget, workload: Workload, latency: LatencyEstimate): Promise<string> {
  const peak = geo.weightsPerCycle * latency.clockMHz * 1e6;
  const bw = budget.memoryGBps * 1e9;
  const weights = workload.totals.weightsPerToken;
  const bytesPerWeight = geo.indexBits / 8 / geo.cfg.G;
  const ridge = peak / bw;
  const xs = [0.25, 1, ridge, 4 * ridge, 1024].filter((x, i, a) => a.indexOf(x) === i).sort((a, b) => a - b);
  const roof = xs.map((x) => ({ intensity: x, rate: Math.min(peak, bw * x), series: "roof" }));
  const cycleSeconds = 1 / (latency.clockMHz * 1e6);
  const points = [
    { intensity: 1 / bytesPerWeight, rate: weights / (latency.decode.matmulCycles * cycleSeconds), label: "decode" },
    ...Object.entries(latency.prefill).map(([p, ph]) => ({
      intensity: Number(p) / bytesPerWeight,
      rate: (Number(p) * weights) / (ph.matmulCycles * cycleSeconds),
      label: `prefill ${p}`,
    })),
  ];
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "roofline: ternary weights per second", subtitle: `${budget.memoryGBps} GB/s, ${geo.weightsPerCycle} weights/cycle at ${latency.clockMHz} MHz${latency.clockUsed.limitedBy === "estimate" ? " (its clock estimate, below the budget's)" : ""}` },
    width: 460,
    height: 280,
    layer: [
      {
        data: { values: roof },
        mark: { type: "line", color: "#555" },
        encoding: {
          x: { field: "intensity", type: "quantitative", scale: { type: "log" }, title: "weights per byte of memory traffic" },
          y: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "weights per second", axis: { format: "~s" } },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 80, color: "#d62728" },
        encoding: { x: { field: "intensity", type: "quantitative" }, y: { field: "rate", type: "quantitative" } },
      },
      {
        // label decode and the longest prompt: the prompts' points sit close together
        data: { values: [points[0]!, points[points.length - 1]!].filter((p, i, a) => a.indexOf(p) === i) },
        mark: { type: "text", dx: 8, align: "left", baseline: "middle" },
        encoding: { x: { field: "intensity", type: "quantitative" }, y: { field: "rate", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
  return renderVegaLite(spec);
}
