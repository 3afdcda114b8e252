import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { sweepStale, writeDirAtomic, writeDirAtomicAsync } from "../src/util/atomic.js";
import { step } from "../src/util/progress.js";
import { loadSweepModel, workloadAt } from "../src/sweep/model.js";
import { modelWorkload } from "../src/model/workload.js";
import { cli, FIXTURES, REPO_ROOT, type CliRun } from "./helpers.js";

/**
 * Issue 13, items 3, 4, 6 and 7 (outputs whole or not at all, no hangs, progress and JSON): a table
 * of commands that must fail, each asserting exit 2, one line, no stack trace, bounded time, and
 * that no output appeared or changed and no partial sibling is left; then the cases a table
 * cannot hold (interrupts, resuming, stale partials).
 */
const TQ2 = join(FIXTURES, "tiny-llama-tq2_0.gguf");
const TENSOR = "blk.0.attn_q.weight";

/** Every file under `dir` with its size and mtime: what "unchanged" compares. */
function snapshot(dir: string): string {
  if (!existsSync(dir)) return "(absent)";
  if (!statSync(dir).isDirectory()) return `file ${statSync(dir).size} ${statSync(dir).mtimeMs}`;
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out.push(`${p.slice(dir.length)} ${s.size} ${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out.join("\n");
}

function partials(dir: string): string[] {
  return readdirSync(dir).filter((e) => /\.\d+\.(partial|tmp)/.test(e));
}

function assertOneLine(r: CliRun, pattern: RegExp, what: string): void {
  const shown = `${what}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, 2, shown);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, shown);
  assert.ok(!r.stderr.includes("    at "), shown);
  assert.match(r.stderr, pattern, shown);
}

describe("bad outputs (issue 13: nothing half-written, no hangs)", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "trilut-bad-output-"));
    writeFileSync(join(dir, "nothing-fits.yaml"), `model: ${TQ2}\nbudgets: [kv260]\naxes: {T: [64], P: [64]}\nobjectives: [decodeTokensPerSecond]\n`);
    writeFileSync(join(dir, "small.yaml"), `model: ${TQ2}\nbudgets: [kv260]\naxes: {T: [2, 4]}\nobjectives: [decodeTokensPerSecond]\n`);
    writeFileSync(join(dir, "a-file"), "not a directory\n");
    // an earlier good compile, which every failing compile below must leave as it was
    const good = cli(["compile", TQ2, "--device", "kv260", "--tensor", TENSOR, "-o", join(dir, "good"), "--no-report"]);
    assert.equal(good.status, 0, good.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  interface Row {
    readonly what: string;
    readonly args: (dir: string) => string[];
    /** The output path the command names (must not appear or change). */
    readonly out: (dir: string) => string;
    readonly error: RegExp;
  }
  const rows: Row[] = [
    { what: "compile under /proc", args: () => ["compile", TQ2, "--device", "kv260", "-o", "/proc/trilut-x/out"], out: () => "/proc/trilut-x", error: /\/proc\/trilut-x: cannot create the output directory \(ENOENT/ },
    { what: "compile into /proc itself", args: () => ["compile", TQ2, "--device", "kv260", "-o", "/proc/out"], out: () => "/proc/out", error: /\/proc\/out: cannot create the output directory/ },
    { what: "sweep under /proc", args: (d) => ["sweep", join(d, "small.yaml"), "-o", "/proc/trilut-x/s"], out: () => "/proc/trilut-x", error: /\/proc\/trilut-x\/s: cannot create the sweep directory/ },
    { what: "sweep into a file", args: (d) => ["sweep", join(d, "small.yaml"), "-o", join(d, "a-file")], out: (d) => join(d, "a-file"), error: /a-file: exists and is not a directory/ },
    { what: "sim --out under /proc, refused before simulating", args: () => ["sim", TQ2, "--device", "kv260", "--tensor", TENSOR, "--out", "/proc/trilut-x/y.i32"], out: () => "/proc/trilut-x", error: /--out \/proc\/trilut-x\/y\.i32: the directory \/proc\/trilut-x does not exist/ },
    { what: "sim --trace into a missing directory", args: (d) => ["sim", TQ2, "--device", "kv260", "--tensor", TENSOR, "--trace", join(d, "nope", "t.vcd")], out: (d) => join(d, "nope"), error: /--trace .*t\.vcd: the directory .*nope does not exist/ },
    { what: "ref --out into a missing directory", args: (d) => ["ref", TQ2, "--tensor", TENSOR, "--input", join(d, "a-file"), "--out", join(d, "nope", "y.i32")], out: (d) => join(d, "nope"), error: /--out .*y\.i32: the directory .*nope does not exist/ },
    { what: "compile of an unknown tensor over a good output", args: (d) => ["compile", TQ2, "--device", "kv260", "--tensor", "nope", "-o", join(d, "good")], out: (d) => join(d, "good"), error: /nope/ },
    { what: "a sweep where nothing fits leaves no directory", args: (d) => ["sweep", join(d, "nothing-fits.yaml"), "-o", join(d, "s-none")], out: (d) => join(d, "s-none"), error: /no point of the sweep fits kv260/ },
    { what: "merge into a file", args: (d) => ["merge", join(d, "good"), "-o", join(d, "a-file")], out: (d) => join(d, "a-file"), error: /a-file: exists and is not a directory/ },
  ];
  for (const row of rows) {
    it(`${row.what}: exit 2, one line, nothing written`, function () {
      const out = row.out(dir);
      const before = snapshot(out);
      const started = performance.now();
      const r = cli(row.args(dir));
      assert.ok(performance.now() - started < 20_000, `${row.what}: took ${Math.round(performance.now() - started)} ms`);
      assertOneLine(r, row.error, row.what);
      assert.equal(snapshot(out), before, `${row.what}: the output changed`);
      assert.deepEqual(partials(dir), [], `${row.what}: a partial sibling is left`);
    });
  }

  it("an earlier output survives a failure after files were written, and no partial is left", async function () {
    const target = join(dir, "kept");
    writeDirAtomic(target, (tmp) => writeFileSync(join(tmp, "a"), "old"));
    assert.throws(() => writeDirAtomic(target, (tmp) => (writeFileSync(join(tmp, "a"), "new"), assert.fail("the report step failed"))));
    await assert.rejects(writeDirAtomicAsync(target, async (tmp) => (writeFileSync(join(tmp, "a"), "new"), Promise.reject(new Error("report")))));
    assert.equal(readFileSync(join(target, "a"), "utf8"), "old");
    assert.deepEqual(partials(dir), []);
    await writeDirAtomicAsync(target, async (tmp) => writeFileSync(join(tmp, "a"), "new"));
    assert.equal(readFileSync(join(target, "a"), "utf8"), "new");
  });

  it("sweeps away the partial siblings of dead processes, not of live ones", function () {
    const stale = join(dir, ".out.999999999.partial");
    const live = join(dir, `.out.${process.ppid}.partial`);
    mkdirSync(stale);
    mkdirSync(live);
    writeFileSync(join(dir, ".x.json.999999999.tmp"), "");
    sweepStale(dir);
    assert.ok(!existsSync(stale));
    assert.ok(!existsSync(join(dir, ".x.json.999999999.tmp")));
    assert.ok(existsSync(live));
    rmSync(live, { recursive: true });
  });

  it("compile writes its report inside the new directory; --json prints one document", function () {
    const out = join(dir, "with-report");
    const r = cli(["compile", TQ2, "--device", "kv260", "--tensor", TENSOR, "-o", out, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { out: string; tensors: { name: string }[]; report: string[] };
    assert.equal(doc.out, out);
    assert.deepEqual(doc.tensors.map((t) => t.name), [TENSOR]);
    for (const f of doc.report) assert.ok(existsSync(f), f);
    assert.deepEqual(partials(dir), []);
    const rep = cli(["report", out, "--no-sim", "--json"]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal((JSON.parse(rep.stdout) as { kind: string }).kind, "compile");
  });

  it("ref and make-model --json print one document", function () {
    const model = join(dir, "m.gguf");
    const made = cli(["make-model", "-o", model, "--hidden", "256", "--ffn", "512", "--layers", "1", "--heads", "4", "--kv-heads", "2", "--vocab", "32", "--json"]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal((JSON.parse(made.stdout) as { path: string }).path, model);
    writeFileSync(join(dir, "x.i8"), new Uint8Array(256));
    const ref = cli(["ref", model, "--tensor", TENSOR, "--input", join(dir, "x.i8"), "--out", join(dir, "y.i32"), "--json"]);
    assert.equal(ref.status, 0, ref.stderr);
    assert.deepEqual(JSON.parse(ref.stdout), { out: join(dir, "y.i32"), tensor: TENSOR, tokens: 1, n: 256, k: 256, bytes: 1024 });
  });

  it("an interrupted sweep says it resumes, is marked INCOMPLETE, and is refused by report and merge", async function () {
    this.timeout(120_000);
    // a million context lengths: checked and started within seconds (the range was quadratic)
    const spec = join(dir, "long.yaml");
    writeFileSync(spec, "model: {hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 4, vocab: 1000}\nbudgets: [kv260]\naxes: {context: {from: 1, to: 1000000}}\nobjectives: [decodeTokensPerSecond]\n");
    const out = join(dir, "s-long");
    const started = performance.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "trilut.js"), "sweep", spec, "-o", out], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    while (!existsSync(join(out, "chunks")) || readdirSync(join(out, "chunks")).filter((f) => f.endsWith(".json")).length === 0) {
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(performance.now() - started < 30_000, "no chunk within 30 s");
    }
    child.kill("SIGINT");
    assert.equal(await exited, 130);
    assert.match(stderr, /interrupted; .*s-long keeps \d+ of 245 chunks and is marked INCOMPLETE: run the same command again to resume/);
    assert.ok(existsSync(join(out, "INCOMPLETE")));
    assert.deepEqual(partials(dir), []);
    assertOneLine(cli(["report", out]), /the sweep did not finish \(INCOMPLETE is present\)/, "report");
    assertOneLine(cli(["merge", out, "-o", join(dir, "merged")]), /the sweep did not finish/, "merge");
    assert.ok(!existsSync(join(dir, "merged")));
  });

  it("a sweep finishes without the marker and merges into a directory that appears whole", function () {
    const out = join(dir, "s-small");
    const r = cli(["sweep", join(dir, "small.yaml"), "-o", out, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(join(out, "INCOMPLETE")));
    const m = cli(["merge", out, "-o", join(dir, "s-merged")]);
    assert.equal(m.status, 0, m.stderr);
    assert.equal(readFileSync(join(dir, "s-merged", "points.csv"), "utf8"), readFileSync(join(out, "points.csv"), "utf8"));
    assert.ok(existsSync(join(dir, "s-merged", "report.html")));
    assert.deepEqual(partials(dir), []);
  });

  it("one workload serves every context length: workloadAt equals the workload built at that length", function () {
    const dims = { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 1000, arch: "llama" as const, weights: "TQ2_0", lmHead: "F16" };
    const unit = loadSweepModel(dims, undefined).unitWorkload;
    const at = loadSweepModel(dims, [777]);
    // built directly at 777 through the report's path (which uses workloadAt too) and by hand
    const direct = workloadAt(unit, 777);
    assert.equal(direct.attention.contextLength, 777);
    assert.equal(direct.attention.kvBytesRead, 2 * 2 * 2 * 64 * 777 * 2);
    assert.equal(direct.attention.multiplyAdds, 2 * 2 * 256 * 777);
    assert.equal(direct.attention.exponentials, 2 * 4 * 777);
    assert.equal(direct.totals.bytesPerTokenWithKv, unit.totals.bytesPerToken + direct.attention.kvBytesRead);
    assert.deepEqual(workloadAt(at.unitWorkload, 1), unit);
    assert.deepEqual(direct, modelWorkload(at.architecture, [], { contextLength: 777, assumeType: "TQ2_0", assumeLmHeadType: "F16" }));
  });

  it("progress: one line per step off a terminal, a cli-progress bar on one, nothing on stdout", function () {
    const sink = (tty: boolean): { stream: NodeJS.WriteStream; text: () => string } => {
      let text = "";
      const w = new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
      Object.assign(w, { isTTY: tty, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
      return { stream: w, text: () => text };
    };
    const plain = sink(false);
    step("building the Verilator simulator", 90, plain.stream).done();
    assert.equal(plain.text(), "trilut: building the Verilator simulator (usually ~90 s)\n");
    const tty = sink(true);
    const s = step("building the Verilator simulator", 90, tty.stream);
    s.done();
    assert.match(tty.text(), /building the Verilator simulator \[/);
  });
});
