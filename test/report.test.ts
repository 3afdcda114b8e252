import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLlamaModel } from "../src/model/make-model.js";
import { presetBudget } from "../src/budget/budget.js";
import { DEFAULT_ENGINE } from "../src/engine/config.js";
import { type ReportData } from "../src/report/collect.js";
import { reportMarkdown } from "../src/report/markdown.js";
import { cli } from "./helpers.js";
import { readPng } from "./png.js";

/** A headless browser, if the machine has one (the set-up installs Debian's chromium as root). */
function findBrowser(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    if (spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0) return name;
  }
  return undefined;
}

/** Nothing a browser would fetch: no scripts, stylesheets, images or fonts from anywhere. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /<script\b/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /\b(src|href)="(?!#)[^"]+"/i, "only in-page links");
  assert.doesNotMatch(html, /url\(/i);
}

describe("report.md quotes what comes from the inputs", () => {
  it("a hostile tensor name stays one literal table cell: no new row, link, tag or emphasis", () => {
    const row = { module: "total", instances: 1, lut: 1, lutram: 0, ff: 1, carry: 0, bram36: 0, uram: 0, dsp: 0 };
    const hostile = "x|y\n| forged | row |<script>alert(1)</script> *b* [l](http://e) `c` _i_";
    const data = {
      kind: "compile", title: "m_1.gguf", model: undefined, engine: DEFAULT_ENGINE, weightsPerCycle: 1, budget: presetBudget("kv260"),
      clock: { mhz: 250, limitedBy: "budget", note: "" }, resources: { modules: [row], total: row, percent: {} }, latency: undefined,
      rooflineSvg: undefined, notes: [], simulation: [{ what: hostile, mode: "decode", tokens: 1, predictedCycles: 10, measuredCycles: 10, bitExact: true }],
    } as unknown as ReportData;
    const md = reportMarkdown(data);
    const simRows = md.split("\n").filter((l) => l.includes("decode × 1"));
    assert.equal(simRows.length, 1);
    // the newline is shown as the text \x0a, its backslash escaped in turn
    assert.equal(
      simRows[0],
      "| x\\|y\\\\x0a\\| forged \\| row \\|\\<script\\>alert\\(1\\)\\</script\\> \\*b\\* \\[l\\]\\(http://e\\) \\`c\\` \\_i\\_, decode × 1 | 10 | 10 | yes |",
    );
    assert.ok(!md.includes("| forged |"), "no forged row");
    // "_" inside a word is not emphasis and stays readable
    assert.match(md, /^### trilut: m_1\.gguf/);
  });
});

describe("trilut report", function () {
  let dir: string;
  let model: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "trilut-report-"));
    model = join(dir, "m.gguf");
    makeLlamaModel({ path: model, format: "tq2_0", architecture: "llama", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 9 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("compile writes a self-contained report; trilut report adds a measured run", function () {
    const out = join(dir, "compiled");
    const c = cli(["compile", model, "--device", "kv260", "--set", "T=8", "--set", "P=4", "-o", out]);
    assert.equal(c.status, 0, c.stderr);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assertSelfContained(html);
    for (const part of ["Engine", "Resources", "Latency", "trilut_adder_tree", "decode tokens/s", "TTFT, 128-token prompt", "roofline"]) assert.ok(html.includes(part), part);
    assert.ok(!html.includes('id="simulation"'), "compile does not simulate");
    const r = cli(["report", out]);
    assert.equal(r.status, 0, r.stderr);
    const data = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { simulation: { predictedCycles: number; measuredCycles: number; bitExact: boolean }[] };
    assert.equal(data.simulation.length, 1);
    assert.equal(data.simulation[0]!.measuredCycles, data.simulation[0]!.predictedCycles);
    assert.ok(data.simulation[0]!.bitExact);
    // the waveform of the first cycles, drawn by wavedrom from the simulation's VCD
    const withSim = readFileSync(join(out, "report.html"), "utf8");
    assertSelfContained(withSim);
    assert.match(withSim, /<h3>The first cycles: blk\.0\.attn_q\.weight, one decode token, cycles \d+–\d+<\/h3><figure class="wave"><svg/);
    for (const signal of ["desc_valid", "x_valid", "y_valid"]) assert.ok(withSim.includes(`>${signal}<`), signal);
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.match(md, /^### trilut: m\.gguf on kv260/);
    assert.match(md, /\| decode \| [\d.]+ tokens\/s/);
    assert.match(md, /\| blk\.0\.attn_q\.weight, decode × 1 \| [\d,]+ \| [\d,]+ \| yes \|/);
  });

  it("a sweep's report holds its plots and Pareto front", function () {
    writeFileSync(join(dir, "s.yaml"), "model: m.gguf\nbudgets: [kv260]\naxes: {G: [2, 3], T: [4, 8], P: [2, 4]}\nobjectives: [decodeTokensPerSecond, lutTotal]\n");
    const out = join(dir, "swept");
    const s = cli(["sweep", join(dir, "s.yaml"), "-o", out]);
    assert.equal(s.status, 0, s.stderr);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assertSelfContained(html);
    assert.ok(html.includes("Pareto front"));
    assert.ok((html.match(/<svg/g) ?? []).length >= 4, "three trade-off plots and the roofline");
  });

  it("a directory without results says what it expected", function () {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const r = cli(["report", empty]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nothing to report: expected engine\.json \(written by trilut compile\) or sweep\.json \(trilut sweep\)/);
  });

  it("renders in headless Chromium: plots and tables drawn, screenshot saved", function () {
    const browser = findBrowser();
    if (!browser) {
      console.log("      (skipped: no chromium on this machine; the set-up installs Debian's chromium when run as root)");
      this.skip();
    }
    const out = join(dir, "compiled");
    if (!existsSync(join(out, "report.html"))) this.skip();
    const page = `file://${join(out, "report.html")}`;
    const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"];
    const dom = spawnSync(browser!, [...flags, "--dump-dom", page], { encoding: "utf8", timeout: 120_000 });
    assert.equal(dom.status, 0, dom.stderr);
    // the DOM after load: the roofline's marks and the tables are there
    assert.match(dom.stdout, /<svg[^>]*class="marks"/);
    assert.match(dom.stdout, /<td>trilut_adder_tree<\/td>/);
    assert.match(dom.stdout, /<figure class="wave"><svg/);
    const shot = join(out, "report.png");
    const s = spawnSync(browser!, [...flags, `--screenshot=${shot}`, "--window-size=1200,3000", page], { encoding: "utf8", timeout: 120_000 });
    assert.equal(s.status, 0, s.stderr);
    const png = readPng(shot);
    assert.deepEqual([png.width, png.height], [1200, 3000]);
    // something was drawn: a blank page is all white
    let ink = 0;
    for (let i = 0; i < png.pixels.length; i += png.channels) if (png.pixels[i]! < 200 || png.pixels[i + 1]! < 200 || png.pixels[i + 2]! < 200) ink++;
    const share = ink / (png.width * png.height);
    assert.ok(share > 0.01, `only ${(share * 100).toFixed(2)}% of the screenshot is drawn`);
  });
});
