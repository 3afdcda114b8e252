/**
 * What is in a model file: dimensions, and per tensor its type, shape, storage cost and, for
 * ternary tensors, the trit distribution and scale layout. Works on any ModelReader and decodes one
 * tensor at a time, so inspecting a multi-GB model needs memory for only its largest tensor.
 */
import { GgufModelReader } from "./gguf-model.js";
import type { ModelDimensions, ModelReader } from "./reader.js";
import { countTrits } from "./types.js";

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
}

export function inspectModel(reader: ModelReader): InspectReport {
  const tensors = reader.listTensors().map((t): InspectTensor => {
    let ternary: InspectTernary | undefined;
    if (t.ternary) {
      const tensor = reader.readTernary(t.name); // dropped after counting: one tensor in memory at a time
      const c = countTrits(tensor.trits);
      ternary = {
        ...c,
        zeroFraction: tensor.trits.length === 0 ? 0 : c.zero / tensor.trits.length,
        scale: { uniform: tensor.scale.uniform, value: tensor.scale.tensorScale },
      };
    }
    return {
      name: t.name,
      type: t.typeName,
      shape: t.shape,
      dims: t.dims,
      elements: t.elements,
      bytes: t.byteLength,
      bitsPerWeight: t.byteLength === undefined || t.elements === 0 ? undefined : (t.byteLength * 8) / t.elements,
      ternary,
    };
  });
  return {
    path: reader.path,
    format: reader.formatLabel,
    fileBytes: reader.fileBytes,
    architecture: reader.architecture,
    dimensions: reader.dimensions(),
    tensors,
  };
}

export function inspectGguf(path: string): InspectReport {
  const reader = new GgufModelReader(path);
  try {
    return inspectModel(reader);
  } finally {
    reader.close();
  }
}

/** The report as an aligned text table for a terminal. */
export function formatInspect(report: InspectReport): string {
  const d = report.dimensions;
  const dim = (label: string, v: number | undefined): string => `${label} ${v ?? "?"}`;
  const lines = [
    `file          ${report.path} (${report.format}, ${formatBytes(report.fileBytes)})`,
    `architecture  ${report.architecture ?? "(not set)"}`,
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
  return lines.join("\n") + "\n";
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
