import { join } from "node:path";
import { packageVersion } from "../util/templates.js";
import { writeFileAtomic } from "../util/atomic.js";
import { collectReport, type ReportData } from "./collect.js";
import { reportHtml } from "./html.js";
import { reportMarkdown } from "./markdown.js";

/** Writes DIR/report.html, DIR/report.md and DIR/report.json from what DIR holds. */
export async function writeReport(dir: string, extend?: (d: ReportData) => Promise<ReportData>): Promise<{ data: ReportData; files: string[] }> {
  let data = await collectReport(dir);
  if (extend) data = await extend(data);
  const generator = `trilut ${packageVersion()}`;
  // every file rendered before the first is written: a failure leaves the earlier report whole
  const contents: [string, string][] = [
    ["report.html", reportHtml(data, generator)],
    ["report.md", reportMarkdown(data)],
    ["report.json", JSON.stringify(data, null, 1) + "\n"],
  ];
  for (const [name, text] of contents) writeFileAtomic(join(dir, name), text);
  return { data, files: contents.map(([name]) => name) };
}
