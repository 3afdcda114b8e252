/**
 * Bad input, hostile input and tool failures, from the command line (issue 13).
 *
 * THE TABLE. Each row of CASES is one command run as a user would run it:
 *   { name, args, status, stderr, setup?, stdout?, absent? }
 *   - name:   what the row checks (the mocha test title);
 *   - args:   the trilut arguments; the token "$D" is replaced by a fresh temporary directory
 *             (the row's own), "$M" by the bundled tiny llama model, "$H" by the tiny HF BitNet model,
 *             "$F" by the directory of hostile models this file writes once (see hostileModels);
 *   - env:    optional environment variables for the run (e.g. a missing tool);
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
import { FIXTURES, REPO_ROOT, type CliRun } from "./helpers.js";
import { spawnSync } from "node:child_process";
import { writeGguf } from "../src/model/gguf-writer.js";
import { gv, type GgufTypedValue } from "../src/model/gguf-value.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { configFor } from "../src/plan/plan.js";
import { estimateResources } from "../src/estimate/resources.js";
import { synthesize } from "../src/estimate/synth/synth.js";
import { readTensor, seededActivations } from "../src/sim/inputs.js";
import { fixScales, scaledMatmul, tensorScales } from "../src/engine/scales.js";
import { ternaryMatmul } from "../src/ref/kernel.js";

export interface BadInputCase {
  name: string;
  args: string[];
  status: number;
  stderr: RegExp;
  stdout?: RegExp;
  setup?: { files: Record<string, string | Uint8Array | object> };
  absent?: string[];
  env?: Record<string, string>;
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
  // -- item 2: refused with one line instead of a silent wrong result
  { name: "budget lut 1e308", args: ["estimate", "$M", "--budget", "$D/b.json"], status: 2, stderr: /b\.json: \/lut: must be <= 100000000 \(1e\+308 is out of range\)/, setup: { files: { "b.json": { ...KV260, lut: 1e308 } } } },
  { name: "budget memoryGBps 1e300", args: ["estimate", "$M", "--budget", "$D/b.json"], status: 2, stderr: /b\.json: \/memoryGBps: must be <= 100000 /, setup: { files: { "b.json": { ...KV260, memoryGBps: 1e300 } } } },
  { name: "--set __proto__=1", args: ["estimate", "$M", "--device", "kv260", "--set", "__proto__=1"], status: 2, stderr: /--set __proto__=1: unknown engine field "__proto__"/ },
  { name: "--set constructor=1", args: ["estimate", "$M", "--device", "kv260", "--set", "constructor=1"], status: 2, stderr: /unknown engine field "constructor"/ },
  { name: "compile a model without ternary tensors", args: ["compile", "$F/float-only.gguf", "--device", "kv260", "-o", "$D/out"], status: 2, stderr: /float-only\.gguf: no ternary tensors to compile/, absent: ["$D/out"] },
  { name: "a 3-D ternary tensor", args: ["inspect", "$F/three-d.gguf"], status: 2, stderr: /three-d\.gguf: ternary tensor "blk\.0\.attn_q\.weight" has 3 dimensions \[2, 64, 256\]/ },
  { name: "an unknown general.architecture", args: ["estimate", "$F/mistral.gguf", "--device", "kv260"], status: 2, stderr: /mistral\.gguf: general\.architecture "mistral" is not supported \(llama, bitnet/ },
  { name: "hidden_act gelu", args: ["sim", "$F/gelu-hf", "--scope", "matmuls", "--block", "0", "--device", "kv260"], status: 2, stderr: /gelu-hf: hidden_act "gelu" is not supported by the host model \(silu, relu2\)/ },
  { name: "an HF weight with a scale declared I8", args: ["inspect", "$F/i8-hf"], status: 2, stderr: /model\.safetensors: tensor "[^"]+\.weight" has a weight_scale but is I8 of shape \[\d+, \d+\]; a packed ternary weight is U8/ },

  // -- item 5: exit codes and messages
  { name: "deeply nested GGUF arrays", args: ["inspect", "$F/deep-arrays.gguf"], status: 2, stderr: /deep-arrays\.gguf.*nests arrays more than 16 deep/ },
  { name: "compile -o \"\"", args: ["compile", "$M", "--device", "kv260", "-o", ""], status: 2, stderr: /^trilut: --out: expected a directory name, got an empty one$/ },
  { name: "sweep -o an existing file", args: ["sweep", join(REPO_ROOT, "examples", "bitnet-large-kv260.yaml"), "-o", "$D/f"], status: 2, stderr: /\/f: exists and is not a directory/, setup: { files: { f: "x" } } },
  { name: "sim --out under a missing directory", args: ["sim", "$M", "--tensor", "blk.0.attn_q.weight", "--device", "kv260", "--out", "$D/nonexist/y.i32"], status: 2, stderr: /--out .*\/nonexist\/y\.i32: the directory .*\/nonexist does not exist/, absent: ["$D/nonexist"] },
  { name: "ref --out into a file as directory", args: ["ref", "$M", "--tensor", "blk.0.attn_q.weight", "--input", "$D/x.i8", "--out", "$D/x.i8/y.i32"], status: 2, stderr: /--out .*x\.i8\/y\.i32: .*x\.i8 is not a directory/, setup: { files: { "x.i8": new Uint8Array(256) } } },
  { name: "verify naming an unknown tensor", args: ["verify", "$D/v.yaml"], status: 2, stderr: /v\.yaml: \/checks\/0: .*no-such\.weight/, setup: { files: { "v.yaml": `checks:\n  - {model: ${MODEL}, tensor: no-such.weight, device: kv260}\n` } } },
  { name: "verify naming a block past the model", args: ["verify", "$D/v.yaml"], status: 2, stderr: /v\.yaml: \/checks\/0: block 7: the model has blocks 0\.\.1/, setup: { files: { "v.yaml": `checks:\n  - {model: ${MODEL}, block: 7, device: kv260}\n` } } },
  { name: "T=1e9", args: ["estimate", "$M", "--device", "kv260", "--set", "T=1e9"], status: 2, stderr: /\/T: must be <= 256 \(1000000000 is out of range\)/ },
  { name: "T=1.5 is still not an integer", args: ["estimate", "$M", "--device", "kv260", "--set", "T=1.5"], status: 2, stderr: /\/T: must be integer/ },
  { name: "a tensor name with control characters", args: ["sim", "$M", "--tensor", "evil\n\u001b[2Jname", "--device", "kv260"], status: 2, stderr: /evil\\x0a\\x1b\[2Jname/ },
  { name: "a YAML warning", args: ["verify", "$D/v.yaml"], status: 2, stderr: /v\.yaml: not valid YAML or JSON \(Unresolved tag: !foo/, setup: { files: { "v.yaml": "checks: !foo\n  - {model: m.gguf, tensor: t}\n" } } },
  { name: "Verilator missing is a tool failure", args: ["sim", "$M", "--tensor", "blk.0.attn_q.weight", "--device", "kv260"], env: { TRILUT_VERILATOR: "/nonexistent/verilator" }, status: 3, stderr: /^trilut: verilator not found/ },
  { name: "g++ missing is a tool failure", args: ["sim", "$M", "--tensor", "blk.0.attn_q.weight", "--device", "kv260", "--backend", "hls"], env: { CXX: "/nonexistent/g++" }, status: 3, stderr: /^trilut: C\+\+ compiler "\/nonexistent\/g\+\+" not found/ },
];

function materialize(row: BadInputCase, dir: string): string[] {
  for (const [name, content] of Object.entries(row.setup?.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), typeof content === "string" || content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  return row.args.map((a) => a.replaceAll("$D", dir).replaceAll("$M", MODEL).replaceAll("$H", HF_MODEL).replaceAll("$F", hostileDir));
}

/** Runs the rows of a table (exported so other suites can add tables of their own). */
export function runCases(cases: readonly BadInputCase[]): void {
  for (const row of cases) {
    it(`${row.name}: exit ${row.status}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "trilut-bad-"));
      try {
        const r = run(materialize(row, dir), dir, row.env);
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

/** Runs trilut as cli() does, with extra environment variables. */
function run(args: string[], cwd: string, env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin", "trilut.js"), ...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let hostileDir = "";

/** Models no converter writes but a hostile or careless user can: written once for the table. */
function hostileModels(dir: string): void {
  const trits = (n: number, k: number): Int8Array => Int8Array.from({ length: n * k }, (_, i) => ((i * 7) % 3) - 1);
  const llama = (arch: string): [string, GgufTypedValue][] => [
    ["general.architecture", gv.str(arch)],
    [`${arch}.embedding_length`, gv.u32(256)],
    [`${arch}.block_count`, gv.u32(1)],
    [`${arch}.feed_forward_length`, gv.u32(512)],
    [`${arch}.attention.head_count`, gv.u32(4)],
    [`${arch}.vocab_size`, gv.u32(64)],
  ];
  writeGguf(join(dir, "float-only.gguf"), { metadata: llama("llama"), tensors: [{ name: "blk.0.attn_q.weight", type: "F32", shape: [256, 256], data: new Float32Array(256 * 256) }] });
  writeGguf(join(dir, "three-d.gguf"), { metadata: llama("llama"), tensors: [{ name: "blk.0.attn_q.weight", type: "TQ2_0", ne: [256, 64, 2], data: { trits: trits(128, 256), scales: 0.5 } }] });
  writeGguf(join(dir, "mistral.gguf"), { metadata: llama("mistral"), tensors: [{ name: "blk.0.attn_q.weight", type: "TQ2_0", shape: [256, 256], data: { trits: trits(256, 256), scales: 0.5 } }] });
  writeGguf(join(dir, "collide.gguf"), {
    metadata: llama("llama"),
    tensors: ["x/y", "x_y", "x~2fy"].map((name, i) => ({ name, type: "TQ2_0" as const, shape: [8, 256], data: { trits: Int8Array.from({ length: 8 * 256 }, (_, j) => (((j + i) * 7) % 3) - 1), scales: 1 + i } })),
  });
  // GGUF v3 with one key whose value nests arrays 20,000 deep (a recursive reader overflows its stack)
  const depth = 20000;
  const key = new TextEncoder().encode("deep");
  const bytes = new Uint8Array(4 + 4 + 8 + 8 + 8 + key.length + 4 + depth * 12 + 12);
  const v = new DataView(bytes.buffer);
  let at = 0;
  bytes.set(new TextEncoder().encode("GGUF"), 0);
  at = 4;
  v.setUint32(at, 3, true); at += 4;
  v.setBigUint64(at, 0n, true); at += 8;
  v.setBigUint64(at, 1n, true); at += 8;
  v.setBigUint64(at, BigInt(key.length), true); at += 8;
  bytes.set(key, at); at += key.length;
  v.setUint32(at, 9, true); at += 4;
  for (let i = 0; i < depth; i++) {
    v.setUint32(at, 9, true); at += 4;
    v.setBigUint64(at, 1n, true); at += 8;
  }
  v.setUint32(at, 4, true); at += 4;
  v.setBigUint64(at, 0n, true);
  writeFileSync(join(dir, "deep-arrays.gguf"), bytes);
  // HF checkpoints: one whose config asks for GELU, one whose packed weight is declared I8
  for (const name of ["gelu-hf", "i8-hf"]) {
    makeLlamaModel({ path: join(dir, name), format: "hf-bitnet", architecture: "bitnet-b1.58", hidden: 256, ffn: 512, layers: 1, heads: 4, kvHeads: 2, vocab: 64, seed: 1 });
  }
  const config = join(dir, "gelu-hf", "config.json");
  writeFileSync(config, JSON.stringify({ ...(JSON.parse(readFileSync(config, "utf8")) as object), hidden_act: "gelu" }));
  const st = join(dir, "i8-hf", "model.safetensors");
  const raw = readFileSync(st);
  const header = raw.subarray(8, 8 + Number(raw.readBigUInt64LE(0)));
  const i = header.indexOf('"dtype":"U8"');
  assert.ok(i >= 0, "a U8 tensor in the checkpoint");
  header.write('"dtype":"I8"', i, "latin1");
  writeFileSync(st, raw);
}

describe("bad input (issue 13)", function () {
  before(function () {
    hostileDir = mkdtempSync(join(tmpdir(), "trilut-hostile-"));
    hostileModels(hostileDir);
  });
  after(() => rmSync(hostileDir, { recursive: true, force: true }));

  runCases(CASES);

  it("two tensors whose names once sanitized to one file name get one image each", function () {
    const out = mkdtempSync(join(tmpdir(), "trilut-collide-"));
    try {
      const r = run(["compile", join(hostileDir, "collide.gguf"), "--device", "kv260", "--set", "T=4", "--set", "P=4", "--no-report", "-o", join(out, "c")], out);
      assert.equal(r.status, 0, r.stderr);
      const schedule = JSON.parse(readFileSync(join(out, "c", "schedule.json"), "utf8")) as { tensors: Record<string, { image: string }> };
      const images = Object.values(schedule.tensors).map((t) => t.image);
      assert.deepEqual(Object.keys(schedule.tensors).sort(), ["x/y", "x_y", "x~2fy"].sort());
      assert.equal(new Set(images).size, 3, images.join(", "));
      const contents = images.map((img) => readFileSync(join(out, "c", img)).toString("hex"));
      assert.equal(new Set(contents).size, 3, "each image holds its own tensor");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
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
    const geo = engineGeometry(resolveEngine({}, "test"));
    const context = { version: "0.1.0", cfg: geo.cfg, geo, G: 3, encoding: "full", entryBits: 5, patternBits: 6, rows: [{ entry: 0, bits: "00", comment: "*/ evil /*" }] };
    assert.throws(() => renderTemplate("rtl/trilut_pattern_rom.v.hbs", context), /would write "\*\/ evil \/\*" unquoted/);
    assert.throws(() => renderTemplate("rtl/trilut_pattern_rom.v.hbs", { ...context, rows: [], version: "1\n`define x" }), /unquoted/);
  });

  it("run_hls.tcl: a hostile part, device, tensor name and image path stay data in tclsh", function () {
    if (!hasTclsh) this.skip();
    const geo = engineGeometry(resolveEngine({ T: 4, P: 4, G: 3 }, "test"));
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
        const probe = `set ::probe_dir [file dirname [info script]]\nrename exec {}\nproc exec {args} { puts stderr "EXEC $args"; exit 9 }\n${stubs}\nproc set_part {p} { set f [open [file join $::probe_dir part.out] wb]; puts -nonewline $f [encoding convertto utf-8 $p]; close $f }\nproc exit {args} { set f [open [file join $::probe_dir args.out] wb]; puts -nonewline $f [encoding convertto utf-8 $::tb_args]; close $f }\n`;
        const script = readFileSync(join(dir, "run_hls.tcl"), "utf8");
        writeFileSync(join(dir, "probe.tcl"), `${probe}\nsource [file join [file dirname [info script]] run_hls.tcl]\n`);
        execFileSync("tclsh", [join(dir, "probe.tcl")], { cwd: dir, stdio: "pipe", env: { ...process.env, TRILUT_HLS_STEPS: "csim" } });
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


describe("no silent wrong result in simulation and estimates (issue 13, item 2)", function () {
  const small = ["--device", "kv260", "--set", "T=4", "--set", "P=4"];

  it("sim --backpressure says the cycle model's figure is for no backpressure, in text and JSON", function () {
    const json = run(["sim", MODEL, "--tensor", "blk.0.attn_k.weight", ...small, "--backpressure", "0.3", "--json"], REPO_ROOT);
    assert.equal(json.status, 0, json.stderr);
    const j = JSON.parse(json.stdout) as { match: boolean; cycles: number; predictedCycles: number; predictionApplies: boolean; predictionNote: string };
    assert.equal(j.match, true);
    assert.notEqual(j.cycles, j.predictedCycles, "backpressure stalls this run");
    assert.equal(j.predictionApplies, false);
    assert.match(j.predictionNote, /predictedCycles is for no backpressure/);
    const text = run(["sim", MODEL, "--tensor", "blk.0.attn_k.weight", ...small, "--backpressure", "0.3"], REPO_ROOT);
    assert.equal(text.status, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /: match\b/);
    assert.match(text.stdout, /outputs match the reference bit for bit/);
    assert.match(text.stdout, /under backpressure 0\.3 \(the model's [\d,]+ is for no backpressure and does not apply\)/);
    const free = JSON.parse(run(["sim", MODEL, "--tensor", "blk.0.attn_k.weight", ...small, "--json"], REPO_ROOT).stdout) as { predictionApplies: boolean; cycles: number; predictedCycles: number };
    assert.equal(free.predictionApplies, true);
    assert.equal(free.cycles, free.predictedCycles);
  });

  it("sim --tensor with dequant=true runs the dequantization stage on the tensor's scales", function () {
    const dir = mkdtempSync(join(tmpdir(), "trilut-dq-"));
    try {
      const name = "blk.0.attn_q.weight";
      const out = join(dir, "y.i32");
      const r = run(["sim", MODEL, "--tensor", name, "--device", "kv260", "--set", "dequant=true", "--set", "G=4", "--set", "T=8", "--set", "P=4", "--out", out], REPO_ROOT);
      assert.equal(r.status, 0, r.stderr);
      const tensor = readTensor(MODEL, name);
      const scaled = tensorScales(tensor);
      const x = seededActivations(1, tensor.k);
      const expected = scaledMatmul(scaled, fixScales(scaled), x, 1);
      const y = new Int32Array(new Uint8Array(readFileSync(out)).buffer);
      assert.deepEqual([...y], [...expected], "the engine's output is the reference's dequantized output");
      assert.notDeepEqual([...y], [...ternaryMatmul(tensor, x, 1)], "not the raw integer sums");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the analytic URAM count charges only the columns T's indices use (T=4 P=4: 4 URAM, as yosys)", async function () {
    const geo = engineGeometry(configFor(KV260, { overrides: { T: 4, P: 4 }, where: "test" }));
    assert.equal(geo.cfg.c, 2, "the default c leaves a column of each bank unused");
    const analytic = estimateResources(geo, "ultrascale+");
    assert.equal(analytic.uram, 4);
    const synth = await synthesize(geo, "ultrascale+");
    assert.equal(synth.total.uram, analytic.uram);
    assert.equal(synth.instances["trilut_uram72"], 4);
    assert.ok(Math.abs(analytic.lut - synth.total.lut) / synth.total.lut < 0.1, `LUT analytic ${analytic.lut}, yosys ${synth.total.lut}`);
    assert.ok(Math.abs(analytic.ff - synth.total.ff) / synth.total.ff < 0.05, `FF analytic ${analytic.ff}, yosys ${synth.total.ff}`);
  });
});
