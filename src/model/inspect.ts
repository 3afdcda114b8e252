/**
 * What is in a model file: dimensions, and per tensor its type, shape, storage cost and, for
 * ternary tensors, the trit distribution and scale layout. Works on any ModelReader; ternary tensors
 * are counted from their packed bytes a chunk at a time, so a multi-GB model needs a few MB.
 */
import { UserError } from "../util/errors.js";
import { describeArchitecture, type ModelArchitecture } from "./architecture.js";
import { GgufModelReader } from "./gguf-model.js";
import { modelWorkload, type Workload } from "./workload.js";
import { countTernary, type ModelDimensions, type ModelReader } from "./reader.js";

export interface InspectTernary {
  readonly minus: number;
  readonly zero: number;
  readonly plus: number;
  readonly zeroFraction: number;
  /** value is the per-tensor scale when uniform, else the largest block scale. */
  readonly scale: { readonly uniform: boolean; readonly value: number };
}

export interface InspectTensor {
  readonly name: string;
  /** Trit counts and scale of a ternary tensor (also nested in `ternary`), absent otherwise. */
  readonly minus?: number;
  readonly zero?: number;
  readonly plus?: number;
  readonly scale?: InspectTernary["scale"];
  readonly type: string;
  readonly shape: readonly [number, number];
  /** All dimensions, outermost first. */
  readonly dims: readonly number[];
  readonly elements: number;
  readonly bytes: number | undefined;
  readonly bitsPerWeight: number | undefined;
  readonly ternary: InspectTernary | undefined;
}

export interface InspectReport {
  readonly path: string;
  readonly format: string;
  readonly fileBytes: number;
  readonly architecture: string | undefined;
  readonly dimensions: ModelDimensions;
  readonly tensors: readonly InspectTensor[];
  /** Activation, tied embeddings, sub-norms; undefined when the file does not describe them. */
  readonly architectureDetails: Omit<ModelArchitecture, "dimensions"> | undefined;
  /** Per-token work for a KV cache of workload.attention.contextLength; undefined with architectureDetails. */
  readonly workload: InspectWorkload | undefined;
  /** Why architectureDetails / workload are missing. */
  readonly architectureError?: string;
}

export interface InspectWorkload extends Omit<Workload, "lmHead"> {
  readonly matmulsPerToken: number;
  readonly weightsPerToken: number;
  readonly lmHeadWeights: number;
  readonly bytesPerToken: number;
}

export interface InspectOptions {
  /** KV cache length for the attention figures (default: the model's context length, else 4096). */
  readonly contextLength?: number;
}

export function inspectModel(reader: ModelReader, opts: InspectOptions = {}): InspectReport {
  const uniform = new Set<string>();
  const tensors = reader.listTensors().map((t): InspectTensor => {
    let ternary: InspectTernary | undefined;
    if (t.ternary) {
      // Counted from the packed bytes a chunk at a time: nothing is decoded.
      const c = countTernary(reader, t.name);
      const total = c.minus + c.zero + c.plus;
      ternary = {
        minus: c.minus,
        zero: c.zero,
        plus: c.plus,
        zeroFraction: total === 0 ? 0 : c.zero / total,
        scale: { uniform: c.scale.uniform, value: c.scale.tensorScale },
      };
      if (c.scale.uniform) uniform.add(t.name);
    }
    return {
      name: t.name,
      ...(ternary ? { minus: ternary.minus, zero: ternary.zero, plus: ternary.plus, scale: ternary.scale } : {}),
      type: t.typeName,
      shape: t.shape,
      dims: t.dims,
      elements: t.elements,
      bytes: t.byteLength,
      bitsPerWeight: t.byteLength === undefined || t.elements === 0 ? undefined : (t.byteLength * 8) / t.elements,
      ternary,
    };
  });
  let architectureDetails: InspectReport["architectureDetails"];
  let workload: InspectWorkload | undefined;
  let architectureError: string | undefined;
  try {
    const arch = describeArchitecture(reader);
    const { dimensions: _dims, ...details } = arch;
    architectureDetails = details;
    const w = modelWorkload(arch, reader.listTensors(), {
      contextLength: opts.contextLength ?? arch.contextLength ?? 4096,
      uniformScales: uniform,
    });
    const { lmHead: _lmHead, ...rest } = w;
    workload = {
      matmulsPerToken: w.totals.matmulsPerToken,
      weightsPerToken: w.totals.weightsPerToken,
      lmHeadWeights: w.totals.lmHeadWeights,
      bytesPerToken: w.totals.bytesPerToken,
      ...rest,
    };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    architectureError = err.message;
  }
  return {
    path: reader.path,
    format: reader.formatLabel,
    fileBytes: reader.fileBytes,
    architecture: reader.architecture,
    dimensions: reader.dimensions(),
    tensors,
    architectureDetails,
    workload,
    ...(architectureError !== undefined ? { architectureError } : {}),
  };
}

export function inspectGguf(path: string, opts: InspectOptions = {}): InspectReport {
  const reader = new GgufModelReader(path);
  try {
    return inspectModel(reader, opts);
  } finally {
    reader.close();
  }
}

/** The report as an aligned text table for a terminal. */
export function formatInspect(report: InspectReport): string {
  const d = report.dimensions;
  const dim = (label: string, v: number | undefined): string => `${label} ${v ?? "?"}`;
  const a = report.architectureDetails;
  const lines = [
    `file          ${report.path} (${report.format}, ${formatBytes(report.fileBytes)})`,
    `architecture  ${report.architecture ?? "(not set)"}` +
      (a
        ? ` (${a.activation === "relu2" ? "ReLU²" : a.activation}-gated FFN, ${a.tiedEmbeddings ? "tied" : "separate"} embeddings` +
          `${a.subNorms ? ", sub-norms" : ""}${a.contextLength !== undefined ? `, context ${a.contextLength}` : ""})`
        : report.architectureError
          ? ` (${report.architectureError})`
          : ""),
    `dimensions    ${[
      dim("hidden", d.hidden),
      dim("ffn", d.ffn),
      dim("layers", d.layers),
      dim("heads", d.heads),
      dim("kv heads", d.kvHeads),
      dim("head dim", d.headDim),
      dim("vocab", d.vocab),
    ].join(", ")}`,
    "",
  ];
  const header = ["tensor", "type", "shape", "bits/w", "-1", "0", "+1", "zero", "scale"];
  const rows = report.tensors.map((t) => {
    const q = t.ternary;
    return [
      t.name,
      t.type,
      t.dims.join(" x "),
      t.bitsPerWeight === undefined ? "?" : t.bitsPerWeight.toFixed(2),
      q ? String(q.minus) : "",
      q ? String(q.zero) : "",
      q ? String(q.plus) : "",
      q ? `${(q.zeroFraction * 100).toFixed(1)}%` : "",
      q ? (q.scale.uniform ? formatScale(q.scale.value) : `per block (max ${formatScale(q.scale.value)})`) : "",
    ];
  });
  // Text columns left-aligned, numeric columns right-aligned.
  const rightAligned = new Set([3, 4, 5, 6, 7]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  lines.push(render(header), render(widths.map((w) => "-".repeat(w))), ...rows.map(render));

  const ternary = report.tensors.filter((t) => t.ternary);
  const ternaryWeights = ternary.reduce((s, t) => s + t.elements, 0);
  const ternaryBytes = ternary.reduce((s, t) => s + (t.bytes ?? 0), 0);
  const totalBytes = report.tensors.reduce((s, t) => s + (t.bytes ?? 0), 0);
  lines.push(
    "",
    `${report.tensors.length} tensors, ${formatBytes(totalBytes)} of tensor data; ` +
      `${ternary.length} ternary tensors, ${ternaryWeights.toLocaleString("en-US")} weights, ${formatBytes(ternaryBytes)}` +
      (ternaryWeights > 0 ? ` (${((ternaryBytes * 8) / ternaryWeights).toFixed(2)} bits/weight)` : ""),
  );
  if (report.workload) lines.push("", ...formatWorkload(report.workload));
  return lines.join("\n") + "\n";
}

/** The per-token workload: the block's matmuls as a table, then the totals. */
function formatWorkload(w: InspectWorkload): string[] {
  const header = ["block matmul", "n", "k", "weights", "type", "scale"];
  const rows = w.block.map((m) => [m.role, String(m.n), String(m.k), m.weights.toLocaleString("en-US"), m.type, m.scale]);
  const lm = w.matmuls[w.matmuls.length - 1];
  if (lm) rows.push([`lm_head (${lm.name})`, String(lm.n), String(lm.k), lm.weights.toLocaleString("en-US"), lm.type, lm.scale]);
  const rightAligned = new Set([1, 2, 3]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const render = (cells: readonly string[]): string =>
    cells.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd();
  const n = (v: number): string => v.toLocaleString("en-US");
  const t = w.totals;
  return [
    render(header),
    render(widths.map((x) => "-".repeat(x))),
    ...rows.map(render),
    "",
    `per token     ${n(t.matmulsPerToken)} matmuls (${n(t.ternaryMatmulsPerToken)} ternary), ${n(t.weightsPerToken)} ternary weights + ` +
      `${n(t.lmHeadWeights)} LM head weights, ${formatBytes(t.bytesPerToken)} of weights ` +
      `(${formatBytes(t.ternaryBytesPerToken)} ternary)`,
    `attention     context ${n(w.attention.contextLength)}: ${formatBytes(w.attention.kvBytesRead)} of KV cache read, ` +
      `${n(w.attention.multiplyAdds)} multiply-adds; ${n(w.norms.count)} RMSNorms over ${n(w.norms.elements)} elements`,
  ];
}

function formatScale(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}
