import { printable } from "../util/quote.js";

/** Prints one JSON document (commands with --json). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Formats rows as an aligned text table; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  // cells may hold names read from files: control characters are shown, never sent to the terminal
  const cells = [header, ...rows].map((r) => r.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : printable(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  return cells
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd())
    .join("\n");
}

/**
 * The verdict on a run's outputs: it speaks of outputs only, so "match" is never read as the
 * cycle count matching the model.
 */
export function outputsVerdict(match: boolean, mismatches: number, total?: number): string {
  return match ? "outputs match the reference bit for bit" : `MISMATCH in ${mismatches}${total !== undefined ? ` of ${total}` : ""} outputs`;
}

/**
 * Measured against predicted cycles. The cycle model assumes streams that never stall, so under
 * --backpressure its figure is not a prediction of this run: JSON says so (predictionApplies
 * false, and a note), and the text line says it rather than set the two figures side by side.
 */
export function cyclesReport(cycles: number, predicted: number, backpressure: number): { text: string; json: { predictionApplies: boolean; predictionNote?: string } } {
  const fmt = (v: number): string => v.toLocaleString("en-US");
  if (backpressure === 0) {
    return { text: `cycles ${fmt(cycles)} (predicted ${fmt(predicted)}${cycles === predicted ? "" : `, OFF BY ${fmt(cycles - predicted)}`})`, json: { predictionApplies: true } };
  }
  const note = `predictedCycles is for no backpressure; with --backpressure ${backpressure} streams stall at random and the cycle model does not predict this run`;
  return { text: `cycles ${fmt(cycles)} under backpressure ${backpressure} (the model's ${fmt(predicted)} is for no backpressure and does not apply)`, json: { predictionApplies: false, predictionNote: note } };
}
