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
