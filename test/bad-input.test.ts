/**
 * Bad input, hostile input and tool failures, from the command line (issue 13).
 *
 * THE TABLE. Each row of CASES is one command run as a user would run it:
 *   { name, args, status, stderr, setup?, stdout?, absent? }
 *   - name:   what the row checks (the mocha test title);
 *   - args:   the trilut arguments; the token "$D" is replaced by a fresh temporary directory
 *             (the row's own), "$M" by the bundled tiny llama model, "$H" by the tiny HF BitNet model;
 *   - setup:  optional, writes the row's inputs into $D before the run: `files` maps a name in $D to
 *             its content (a string, bytes, or an object written as JSON);
 *   - status: the exit code expected (2 bad input, 3 a tool failure or time-out, 1 a mismatch);
 *   - stderr: a regex the single line on stderr must match (rows with status 0 may match warnings);
 *   - stdout: optional regex stdout must match;
 *   - absent: optional paths (with $D) that must not exist afterwards (nothing half-written).
 * Every row with a non-zero status also asserts: stderr is exactly one line, starts "trilut: ", and
 * holds no stack trace. Add rows; keep them plain data.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PRESETS } from "../src/budget/budget.js";
import { writeHlsProject } from "../src/codegen/hls-project.js";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { type TernaryTensor } from "../src/model/types.js";
import { commentText, cString, tclWord } from "../src/util/quote.js";
import { renderTemplate } from "../src/util/templates.js";
import { cli, FIXTURES, REPO_ROOT } from "./helpers.js";

export interface BadInputCase {
  name: string;
  args: string[];
  status: number;
  stderr: RegExp;
  stdout?: RegExp;
  setup?: { files: Record<string, string | Uint8Array | object> };
  absent?: string[];
}

const MODEL = join(FIXTURES, "tiny-llama-tq2_0.gguf");
const HF_MODEL = join(FIXTURES, "tiny-bitnet-hf");
const KV260 = PRESETS["kv260"]!;

/** Strings that break out of a naive quote in Tcl, Verilog, C++ or HTML. */
export const HOSTILE = ["a\nexec touch pwned ;# [exec id]", "x]; exec id; [", "[exec id]", "*/ module evil; /*", '"); system("id"); ("', "back\\", "back\\\\", "$env(HOME)", "{unbalanced", "a\r\nb", "??/", "<script>alert(1)</script>", "é\u2028ü", "tab\there"];

export const CASES: BadInputCase[] = [
  // -- item 1: budget strings have a known shape
  { name: "budget device with a newline", args: ["estimate", "$M", "--budget", "$D/b.json"], status: 2, stderr: /b\.json: \/device: must match pattern/, setup: { files: { "b.json": { ...KV260, device: "kv\nexec id" } } } },
  { name: "budget part with Tcl in it", args: ["compile", "$M", "--budget", "$D/b.json", "--hls", "-o", "$D/out"], status: 2, stderr: /b\.json: \/part: must match pattern/, setup: { files: { "b.json": { ...KV260, part: "xck26\nexec touch pwned ;# [exec id]" } } }, absent: ["$D/out"] },
];

function materialize(row: BadInputCase, dir: string): string[] {
  for (const [name, content] of Object.entries(row.setup?.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), typeof content === "string" || content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  return row.args.map((a) => a.replaceAll("$D", dir).replaceAll("$M", MODEL).replaceAll("$H", HF_MODEL));
}

/** Runs the rows of a table (exported so other suites can add tables of their own). */
export function runCases(cases: readonly BadInputCase[]): void {
  for (const row of cases) {
    it(`${row.name}: exit ${row.status}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "trilut-bad-"));
      try {
        const r = cli(materialize(row, dir), dir);
        const stderr = r.stderr.trimEnd();
        assert.equal(r.status, row.status, `exit code (stderr: ${r.stderr})`);
        assert.match(stderr, row.stderr);
        if (row.status !== 0) {
          assert.equal(stderr.split("\n").length, 1, `exactly one line on stderr, got:\n${r.stderr}`);
          assert.match(stderr, /^trilut: /);
          assert.doesNotMatch(stderr, /\n\s+at |internal error/);
        }
        if (row.stdout) assert.match(r.stdout, row.stdout);
        for (const p of row.absent ?? []) assert.ok(!existsSync(p.replaceAll("$D", dir)), `${p} must not exist`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

describe("bad input (issue 13)", function () {
  runCases(CASES);
});

const hasTclsh = ((): boolean => {
  try {
    execFileSync("tclsh", [], { input: "exit 0\n" });
    return true;
  } catch {
    return false;
  }
})();

describe("generated code quotes every input (issue 13, item 1)", function () {
  it("tclWord: tclsh reads back exactly the string, as a bare word, inside quotes and inside brackets", function () {
    if (!hasTclsh) this.skip();
    for (const s of [...HOSTILE, "", "plain", "-flag"]) {
      const w = tclWord(s);
      const script = `set a ${w}\nset b "<${w}>"\nset c [string cat ${w}]\nfconfigure stdout -translation binary\nputs -nonewline [encoding convertto utf-8 "$a\\0$b\\0$c"]\n`;
      const out = execFileSync("tclsh", [], { input: script }).toString("utf8");
      assert.deepEqual(out.split("\0"), [s, `<${s}>`, s], `tclWord(${JSON.stringify(s)}) = ${w}`);
    }
  });

  it("tclWord needs no tclsh to be safe: no newline, no unescaped syntax", () => {
    for (const s of HOSTILE) assert.doesNotMatch(tclWord(s).replace(/\\./gu, ""), /[\n\r[\]{}$";\\\s]/u);
  });

  it("commentText: one line, no comment terminator, no trailing backslash, no trigraph", () => {
    for (const s of HOSTILE) {
      const c = commentText(s);
      assert.doesNotMatch(c, /[\n\r\u2028\u2029\u0085]|\*\/|\/\*|\?\?|\\$/u, `commentText(${JSON.stringify(s)}) = ${c}`);
    }
  });

  it("cString: g++ compiles each literal back to exactly the string's bytes", function () {
    const dir = mkdtempSync(join(tmpdir(), "trilut-cstr-"));
    try {
      const src = `#include <cstdio>\nint main() {\n${HOSTILE.map((s) => `  // ${commentText(s)}\n  std::fputs(${cString(s)}, stdout); std::fputc(0, stdout);`).join("\n")}\n  return 0;\n}\n`;
      writeFileSync(join(dir, "t.cpp"), src);
      try {
        execFileSync("g++", ["-std=c++11", "-trigraphs", "-o", join(dir, "t"), join(dir, "t.cpp")], { stdio: "pipe" });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") this.skip();
        throw err;
      }
      const out = execFileSync(join(dir, "t")).toString("utf8");
      assert.deepEqual(out.split("\0").slice(0, -1), HOSTILE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a plain {{x}} refuses a string that is syntax in the template's language", () => {
    const geo = engineGeometry(resolveEngine({ loader: "axi" }, "test"));
    const context = { version: "0.1.0", cfg: geo.cfg, geo, G: 3, encoding: "full", entryBits: 5, patternBits: 6, rows: [{ entry: 0, bits: "00", comment: "*/ evil /*" }] };
    assert.throws(() => renderTemplate("rtl/trilut_pattern_rom.v.hbs", context), /would write "\*\/ evil \/\*" unquoted/);
    assert.throws(() => renderTemplate("rtl/trilut_pattern_rom.v.hbs", { ...context, rows: [], version: "1\n`define x" }), /unquoted/);
  });

  it("run_hls.tcl: a hostile part, device, tensor name and image path stay data in tclsh", function () {
    if (!hasTclsh) this.skip();
    const geo = engineGeometry(resolveEngine({ loader: "axi", T: 4, P: 4, G: 3 }, "test"));
    for (const evil of HOSTILE) {
      const dir = mkdtempSync(join(tmpdir(), "trilut-tcl-"));
      try {
        const trits = new Int8Array(8 * 24).map((_, i) => (i % 3) - 1);
        const tensor: TernaryTensor = { name: evil, n: 8, k: 24, trits, scale: { blockScales: new Float32Array([1]), uniform: true, tensorScale: 1 } };
        // The budget's schema refuses such strings; the template must hold even without it.
        writeHlsProject(dir, geo, { ...KV260, device: evil, part: evil }, tensor, `mem/${evil}.bin`);
        const stubs = ["open_project", "set_top", "add_files", "open_solution", "create_clock", "config_interface", "csim_design", "csynth_design", "cosim_design"]
          .map((c) => `proc ${c} {args} {}`)
          .join("\n");
        const probe = `rename exec {}\nproc exec {args} { puts stderr "EXEC $args"; exit 9 }\n${stubs}\nproc set_part {p} { set f [open [file join [file dirname [info script]] part.out] wb]; puts -nonewline $f [encoding convertto utf-8 $p]; close $f }\nproc exit {args} { set f [open [file join [file dirname [info script]] args.out] wb]; puts -nonewline $f [encoding convertto utf-8 $::tb_args]; close $f }\n`;
        const script = readFileSync(join(dir, "run_hls.tcl"), "utf8");
        writeFileSync(join(dir, "probe.tcl"), `${probe}\nsource [file join [file dirname [info script]] run_hls.tcl]\n`);
        execFileSync("tclsh", [join(dir, "probe.tcl")], { stdio: "pipe", env: { ...process.env, TRILUT_HLS_STEPS: "csim" } });
        assert.equal(readFileSync(join(dir, "part.out"), "utf8"), evil, script);
        assert.match(readFileSync(join(dir, "args.out"), "utf8"), new RegExp(`/mem/${evil.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.bin results\\.bin`, "u"));
        assert.ok(!existsSync(join(dir, "pwned")));
        for (const line of script.split("\n").filter((l) => l.startsWith("#"))) assert.doesNotMatch(line, /\\$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

void REPO_ROOT;
