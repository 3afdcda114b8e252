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
  const files = ["report.html", "report.md", "report.json"];
  writeFileAtomic(join(dir, files[0]!), reportHtml(data, generator));
  writeFileAtomic(join(dir, files[1]!), reportMarkdown(data));
  writeFileAtomic(join(dir, files[2]!), JSON.stringify(data, null, 1) + "\n");
  return { data, files };
}
