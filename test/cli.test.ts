import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGguf } from "../src/model/gguf.js";
import { openSafetensors } from "../src/model/safetensors.js";
import { Rng } from "../src/util/random.js";
import { cli, FIXTURES, type CliRun, loadManifest } from "./helpers.js";

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------




const MANIFEST = loadManifest();
const GGUF_MODELS = MANIFEST.models.filter((m) => m.format === "gguf");
const HF_MODELS = MANIFEST.models.filter((m) => m.format !== "gguf");
const TQ2 = join(FIXTURES, "tiny-llama-tq2_0.gguf");
const TQ1 = join(FIXTURES, "tiny-llama-tq1_0.gguf");

/** The linear weights of one llama block, in the order llama.cpp (and make-model) writes them. */
const BLOCK_LINEAR = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"] as const;

interface InspectJson {
  path: string;
  format: string;
  fileBytes: number;
  architecture: string;
  dimensions: Record<"hidden" | "ffn" | "layers" | "heads" | "kvHeads" | "headDim" | "vocab", number>;
  tensors: {
    name: string;
    type: string;
    shape: [number, number];
    elements: number;
    ternary?: { minus: number; zero: number; plus: number; zeroFraction: number; scale: { uniform: boolean; value: number } };
  }[];
}

interface SimJson {
  tensor: string;
  n: number;
  k: number;
  tokens: number;
  match: boolean;
  mismatches: number;
  cycles: number;
  predictedCycles: number;
  weightsPerCycle: number;
  buildSeconds: number;
  simSeconds: number;
  cached: boolean;
}

interface ScheduleEntry {
  n: number;
  k: number;
  predictedCycles: number;
  image: string;
  descriptors: { addr: number; beats: number }[];
}

let TMP = "";
let counter = 0;
/** A fresh, empty directory under the suite's temp root. */
function freshDir(label: string): string {
  const dir = join(TMP, `${label}-${++counter}`);
  mkdirSync(dir);
  return dir;
}

function ok(r: CliRun, what: string): void {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** A user error: exit 2, exactly one "trilut: ..." line on stderr, no stack, nothing on stdout. */
function assertUserError(r: CliRun, ...expected: (string | RegExp)[]): string {
  const shown = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, 2, shown);
  assert.equal(r.stdout, "", shown);
  assert.ok(r.stderr.endsWith("\n"), shown);
  const lines = r.stderr.slice(0, -1).split("\n");
  assert.equal(lines.length, 1, `expected exactly one line on stderr\n${shown}`);
  const line = lines[0]!;
  assert.ok(line.startsWith("trilut: "), shown);
  assert.ok(!r.stderr.includes("    at "), `stack trace on stderr\n${shown}`);
  assert.ok(!line.includes("internal error"), shown);
  for (const e of expected) {
    if (typeof e === "string") assert.ok(line.includes(e), `stderr should mention ${JSON.stringify(e)}\n${shown}`);
    else assert.match(line, e, shown);
  }
  return line;
}

/**
 * Runs a compile that must fail into DIR/out of a fresh directory, and checks that the failure is
 * a clean user error and that nothing at all (no output, no partial directory) is left behind.
 */
function assertCompileFails(model: string, extra: string[], ...expected: (string | RegExp)[]): string {
  const parent = freshDir("fail");
  const r = cli(["compile", model, "-o", join(parent, "out"), ...extra]);
  const line = assertUserError(r, ...expected);
  assert.deepEqual(readdirSync(parent), [], `compile left files behind after: ${line}`);
  return line;
}

/** Every file under dir (relative path → bytes), sorted by path. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, readFileSync(join(dir, r)));
    }
  };
  walk("");
  return out;
}

function assertSameTree(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  assert.deepEqual([...b.keys()], [...a.keys()], `${what}: file lists differ`);
  for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${what}: ${path} differs`);
}

function makeModelArgs(out: string, format: string, seed: number): string[] {
  return ["make-model", "-o", out, "--format", format, "--hidden", "256", "--ffn", "512", "--layers", "2", "--heads", "4",
    "--kv-heads", "2", "--vocab", "320", "--seed", String(seed)];
}

/** A copy of a fixture under the temp root, patched by `edit`. */
function patchedCopy(src: string, name: string, edit: (buf: Buffer) => Buffer): string {
  const path = join(TMP, name);
  writeFileSync(path, edit(readFileSync(src)));
  return path;
}

/** Absolute file offset of a tensor info's type id field (located by the name it starts with). */
function typeIdOffset(path: string, index: number): number {
  const buf = readFileSync(path);
  const g = openGguf(path);
  try {
    const t = g.tensors[index]!;
    const name = Buffer.from(t.name, "utf8");
    const key = Buffer.alloc(8 + name.length);
    key.writeBigUInt64LE(BigInt(name.length), 0);
    name.copy(key, 8);
    const at = buf.indexOf(key);
    assert.ok(at > 0 && buf.indexOf(key, at + 1) < 0, `tensor info of ${t.name} not found exactly once`);
    const typeAt = at + key.length + 4 + 8 * t.ne.length; // name, n_dims, ne[], type
    assert.equal(buf.readUInt32LE(typeAt), t.typeId);
    return typeAt;
  } finally {
    g.close();
  }
}

function tensorLayout(path: string): { dataStart: number; tensors: { name: string; dataOffset: number; byteLength: number; typeName: string }[] } {
  const g = openGguf(path);
  try {
    return {
      dataStart: g.dataStart,
      tensors: g.tensors.map((t) => ({ name: t.name, dataOffset: t.dataOffset, byteLength: t.byteLength!, typeName: t.typeName })),
    };
  } finally {
    g.close();
  }
}

// ---------------------------------------------------------------------------------------------

describe("trilut command line", function () {
  // cold Verilator builds of the kv260 engine take up to a few minutes on 2 cores
  this.timeout(300_000);

  before(() => {
    TMP = mkdtempSync(join(tmpdir(), "trilut-cli-"));
  });
  after(() => {
    if (TMP) rmSync(TMP, { recursive: true, force: true });
  });

  describe("make-model and inspect", () => {
    for (const format of ["tq1_0", "tq2_0"] as const) {
      it(`${format}: writes the requested llama model, and inspect --json reports it`, () => {
        const path = join(TMP, `made-${format}.gguf`);
        const r = cli(makeModelArgs(path, format, 3));
        ok(r, "make-model");
        assert.ok(statSync(path).size > 0);

        const ins = cli(["inspect", path, "--json"]);
        ok(ins, "inspect --json");
        const report = JSON.parse(ins.stdout) as InspectJson; // the whole of stdout is one JSON document
        assert.equal(typeof report, "object");
        assert.ok(!Array.isArray(report));
        assert.equal(report.architecture, "llama");
        assert.equal(report.fileBytes, statSync(path).size);
        assert.deepEqual(report.dimensions, { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, headDim: 64, vocab: 320 });

        const kvDim = 2 * 64;
        const shapes: Record<(typeof BLOCK_LINEAR)[number], [number, number]> = {
          attn_q: [256, 256],
          attn_k: [kvDim, 256],
          attn_v: [kvDim, 256],
          attn_output: [256, 256],
          ffn_gate: [512, 256],
          ffn_up: [512, 256],
          ffn_down: [256, 512],
        };
        const ternaryNames: string[] = [];
        for (let l = 0; l < 2; l++) {
          for (const w of BLOCK_LINEAR) {
            const name = `blk.${l}.${w}.weight`;
            ternaryNames.push(name);
            const t = report.tensors.find((x) => x.name === name);
            assert.ok(t, `missing ${name}`);
            assert.equal(t.type, format.toUpperCase());
            assert.deepEqual(t.shape, shapes[w], name);
            const [n, k] = t.shape;
            assert.equal(t.elements, n * k);
            assert.ok(t.ternary, `${name} has no trit counts`);
            assert.equal(t.ternary.minus + t.ternary.zero + t.ternary.plus, n * k, name);
            // every trit value occurs (about a third each with the default zero fraction)
            for (const c of [t.ternary.minus, t.ternary.zero, t.ternary.plus]) assert.ok(c > n * k * 0.25 && c < n * k * 0.42, name);
            assert.ok(t.ternary.scale.value > 0);
          }
        }
        // exactly those tensors are ternary, in llama.cpp order
        assert.deepEqual(report.tensors.filter((t) => t.ternary).map((t) => t.name), ternaryNames);
        for (const name of ["token_embd.weight", "output.weight", "output_norm.weight", "blk.0.attn_norm.weight"]) {
          assert.ok(report.tensors.some((t) => t.name === name && !t.ternary), name);
        }

        // the text form names the same model
        const text = cli(["inspect", path]);
        ok(text, "inspect");
        assert.match(text.stdout, /architecture\s+llama/);
        assert.ok(text.stdout.includes("blk.1.ffn_down.weight"));
      });

      it(`${format}: the same seed gives a byte-identical file, another seed a different one`, () => {
        const dir = freshDir(`seed-${format}`);
        const [a, b, c] = ["a.gguf", "b.gguf", "c.gguf"].map((f) => join(dir, f)) as [string, string, string];
        ok(cli(makeModelArgs(a, format, 3)), "make-model a");
        ok(cli(makeModelArgs(b, format, 3)), "make-model b");
        ok(cli(makeModelArgs(c, format, 4)), "make-model c");
        assert.ok(readFileSync(a).equals(readFileSync(b)), "same seed, different bytes");
        assert.ok(!readFileSync(a).equals(readFileSync(c)), "different seeds, same bytes");
      });
    }

    it("refuses impossible dimensions without writing a file", () => {
      const dir = freshDir("bad-dims");
      const args = makeModelArgs(join(dir, "x.gguf"), "tq2_0", 1);
      args[args.indexOf("--hidden") + 1] = "100";
      assertUserError(cli(args), "hidden", "256");
      assert.deepEqual(readdirSync(dir), []);
    });

    describe("--format hf-bitnet", () => {
      /** make-model arguments for a BitNet b1.58 checkpoint directory (hidden 256, ffn 768, 3 layers, 4/1 heads). */
      const hfArgs = (out: string, seed: number, format = "hf-bitnet"): string[] => [
        "make-model", "-o", out, "--format", format, "--arch", "bitnet-b1.58", "--hidden", "256", "--ffn", "768", "--layers", "3",
        "--heads", "4", "--kv-heads", "1", "--vocab", "96", "--seed", String(seed),
      ];
      const HF_LINEAR = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

      /** A packed U8 [n/4, k] weight unpacked by REFERENCE.md §4's formula, independently of the reader. */
      function unpack(dir: string, name: string): { n: number; k: number; trits: Int8Array } {
        const f = openSafetensors(join(dir, "model.safetensors"));
        try {
          const info = f.tensor(name);
          assert.equal(info.dtype, "U8");
          const [rows, k] = info.shape as [number, number];
          const packed = f.readBytes(name);
          const n = 4 * rows;
          const trits = new Int8Array(n * k);
          for (let r = 0; r < n; r++) {
            const q = Math.floor(r / rows);
            const p = r % rows;
            for (let j = 0; j < k; j++) trits[r * k + j] = ((packed[p * k + j]! >> (2 * q)) & 3) - 1;
          }
          return { n, k, trits };
        } finally {
          f.close();
        }
      }

      it("writes a BitNet checkpoint directory that inspect reports with the requested shape", () => {
        const dir = join(freshDir("hf-make"), "ckpt");
        const r = cli(hfArgs(dir, 5));
        ok(r, "make-model");
        assert.match(r.stdout, /wrote .*ckpt: 56 tensors, 2,260,992 ternary weights/);
        assert.deepEqual(readdirSync(dir).sort(), ["config.json", "model.safetensors"]);
        const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
        assert.deepEqual(config["architectures"], ["BitNetForCausalLM"]);
        assert.equal(config["model_type"], "bitnet");
        assert.equal(config["hidden_act"], "relu2");
        assert.equal(config["tie_word_embeddings"], true);
        assert.equal(config["torch_dtype"], "bfloat16");
        assert.deepEqual(config["quantization_config"], { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" });

        const ins = cli(["inspect", dir, "--json"]);
        ok(ins, "inspect --json");
        const report = JSON.parse(ins.stdout) as InspectJson & {
          architectureDetails: { activation: string; tiedEmbeddings: boolean; subNorms: boolean };
          workload: { matmulsPerToken: number; weightsPerToken: number; block: { role: string; n: number; k: number; scale: string }[] };
        };
        assert.equal(report.architecture, "bitnet");
        assert.match(report.format, /Hugging Face safetensors \(1 shard\)/);
        assert.deepEqual(report.dimensions, { hidden: 256, ffn: 768, layers: 3, heads: 4, kvHeads: 1, headDim: 64, vocab: 96 });
        assert.deepEqual(
          [report.architectureDetails.activation, report.architectureDetails.tiedEmbeddings, report.architectureDetails.subNorms],
          ["relu2", true, true],
        );
        // seven ternary matmuls per layer, each the requested shape, plus the tied LM head
        const shapes: Record<string, [number, number]> = {
          "self_attn.q_proj": [256, 256], "self_attn.k_proj": [64, 256], "self_attn.v_proj": [64, 256], "self_attn.o_proj": [256, 256],
          "mlp.gate_proj": [768, 256], "mlp.up_proj": [768, 256], "mlp.down_proj": [256, 768],
        };
        const ternary = report.tensors.filter((t) => t.ternary);
        assert.equal(ternary.length, 3 * 7);
        for (let l = 0; l < 3; l++) {
          for (const w of HF_LINEAR) {
            const t = ternary.find((x) => x.name === `model.layers.${l}.${w}.weight`);
            assert.ok(t?.ternary, `${l} ${w}`);
            assert.equal(t.type, "U8-packed");
            assert.deepEqual(t.shape, shapes[w]);
            assert.equal(t.ternary.minus + t.ternary.zero + t.ternary.plus, t.elements);
            assert.equal(t.ternary.scale.uniform, true);
            assert.ok(t.ternary.scale.value > 0);
          }
        }
        assert.equal(report.workload.matmulsPerToken, 3 * 7 + 1);
        assert.deepEqual(report.workload.block.map((m) => [m.role, m.n, m.k, m.scale]), [
          ["q", 256, 256, "per-tensor"], ["k", 64, 256, "per-tensor"], ["v", 64, 256, "per-tensor"], ["o", 256, 256, "per-tensor"],
          ["gate", 768, 256, "per-tensor"], ["up", 768, 256, "per-tensor"], ["down", 256, 768, "per-tensor"],
        ]);
        assert.equal(report.workload.weightsPerToken, 3 * (2 * 256 * 256 + 2 * 64 * 256 + 3 * 768 * 256));
        for (const name of ["model.embed_tokens.weight", "model.norm.weight", "model.layers.2.self_attn.attn_sub_norm.weight", "model.layers.2.mlp.ffn_sub_norm.weight"]) {
          assert.ok(report.tensors.some((t) => t.name === name && !t.ternary), name);
        }
        assert.ok(!report.tensors.some((t) => t.name === "lm_head.weight"));
      });

      it("ref on it equals a plain x · Tᵀ, and it holds the GGUF model's trits for the same seed", () => {
        const root = freshDir("hf-ref");
        const dir = join(root, "ckpt");
        const gguf = join(root, "same.gguf");
        ok(cli(hfArgs(dir, 9)), "make-model hf-bitnet");
        ok(cli(hfArgs(gguf, 9, "tq2_0")), "make-model tq2_0");
        const rng = new Rng(3);
        const checks: Array<[string, string]> = [["model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight"], ["model.layers.2.mlp.down_proj.weight", "blk.2.ffn_down.weight"]];
        for (const [name, ggufName] of checks) {
          const { n, k, trits } = unpack(dir, name);
          const m = 3;
          const x = Int8Array.from({ length: m * k }, () => rng.int(-128, 127));
          const input = join(root, "x.i8");
          writeFileSync(input, x);
          const expected = new Int32Array(m * n);
          for (let r = 0; r < m; r++) {
            for (let o = 0; o < n; o++) {
              let acc = 0;
              for (let j = 0; j < k; j++) acc += x[r * k + j]! * trits[o * k + j]!;
              expected[r * n + o] = acc;
            }
          }
          const out = join(root, "y.i32");
          ok(cli(["ref", dir, "--tensor", name, "--input", input, "--out", out]), `ref ${name}`);
          assert.ok(readFileSync(out).equals(Buffer.from(expected.buffer)), `${name}: y differs from x · Tᵀ`);
          const outGguf = join(root, "y-gguf.i32");
          ok(cli(["ref", gguf, "--tensor", ggufName, "--input", input, "--out", outGguf]), `ref ${ggufName}`);
          assert.ok(readFileSync(outGguf).equals(readFileSync(out)), `${ggufName} and ${name} differ`);
        }
        // scales and inspect's trit counts agree with the GGUF model's too
        const hfReport = JSON.parse(cli(["inspect", dir, "--json"]).stdout) as InspectJson;
        const ggufReport = JSON.parse(cli(["inspect", gguf, "--json"]).stdout) as InspectJson;
        for (const [name, ggufName] of checks) {
          const a = hfReport.tensors.find((t) => t.name === name)!.ternary!;
          const b = ggufReport.tensors.find((t) => t.name === ggufName)!.ternary!;
          assert.deepEqual([a.minus, a.zero, a.plus, a.scale.value], [b.minus, b.zero, b.plus, b.scale.value], name);
        }
      });

      it("the same seed gives byte-identical directories, another seed different ones", () => {
        const root = freshDir("hf-seed");
        const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d)) as [string, string, string];
        ok(cli(hfArgs(a, 4)), "make-model a");
        ok(cli(hfArgs(b, 4)), "make-model b");
        ok(cli(hfArgs(c, 6)), "make-model c");
        for (const f of ["config.json", "model.safetensors"]) {
          assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `same seed, different ${f}`);
        }
        assert.ok(!readFileSync(join(a, "model.safetensors")).equals(readFileSync(join(c, "model.safetensors"))), "different seeds, same bytes");
        // writing over an earlier checkpoint replaces it
        ok(cli(hfArgs(c, 4)), "make-model c again");
        assert.ok(readFileSync(join(a, "model.safetensors")).equals(readFileSync(join(c, "model.safetensors"))));
      });

      it("refuses llama (also the default --arch), odd sizes and foreign directories, writing nothing", () => {
        const root = freshDir("hf-bad");
        const llama = hfArgs(join(root, "llama"), 1);
        llama[llama.indexOf("--arch") + 1] = "llama";
        assertUserError(cli(llama), "hf-bitnet", "BitNetForCausalLM", "--arch bitnet-b1.58, not llama");
        const unstated = hfArgs(join(root, "unstated"), 1).filter((_, i, all) => all[i] !== "--arch" && all[i - 1] !== "--arch");
        assertUserError(cli(unstated), "--arch bitnet-b1.58, not llama");
        const odd = hfArgs(join(root, "odd"), 1);
        odd[odd.indexOf("--ffn") + 1] = "770";
        assertUserError(cli(odd), "ffn (770) must be a multiple of 4");
        const mine = join(root, "mine");
        mkdirSync(mine);
        writeFileSync(join(mine, "notes.txt"), "keep me\n");
        const file = join(root, "file.bin");
        writeFileSync(file, "mine too\n");
        const before = snapshot(root);
        assertUserError(cli(hfArgs(mine, 1)), "not a Hugging Face checkpoint directory");
        assertUserError(cli(hfArgs(file, 1)), "not a directory");
        assertSameTree(before, snapshot(root), "the user's files");
        assert.deepEqual(readdirSync(root).sort(), ["file.bin", "mine"]);
      });
    });

    for (const m of GGUF_MODELS) {
      it(`inspect --json of ${m.file} agrees with the manifest`, () => {
        const r = cli(["inspect", join(FIXTURES, m.file), "--json"]);
        ok(r, "inspect");
        const report = JSON.parse(r.stdout) as InspectJson;
        assert.equal(report.architecture, m.architecture);
        assert.equal(report.dimensions.hidden, m.hidden);
        assert.equal(report.dimensions.ffn, m.ffn);
        assert.equal(report.dimensions.layers, m.layers);
        assert.equal(report.dimensions.heads, m.heads);
        assert.equal(report.dimensions.kvHeads, m.kv_heads);
        assert.equal(report.dimensions.vocab, m.vocab);
        for (const e of m.tensors) {
          const t = report.tensors.find((x) => x.name === e.tensor);
          assert.ok(t?.ternary, e.tensor);
          assert.equal(t.type, e.type);
          assert.deepEqual(t.shape, [e.n, e.k]);
          assert.deepEqual([t.ternary.minus, t.ternary.zero, t.ternary.plus], [e.minus, e.zero, e.plus], e.tensor);
          assert.equal(t.ternary.scale.value, e.scale, e.tensor);
        }
      });
    }
  });

  describe("ref", () => {
    for (const m of GGUF_MODELS) {
      for (const check of m.matmul) {
        it(`${m.file} ${check.tensor}: reproduces the fixture's y byte for byte`, () => {
          const dir = freshDir("ref");
          const out = join(dir, "y.i32");
          const args = ["ref", join(FIXTURES, m.file), "--tensor", check.tensor, "--input", join(FIXTURES, check.input), "--out", out];
          ok(cli(args), "ref");
          const expected = readFileSync(join(FIXTURES, check.expected));
          assert.equal(expected.length, check.tokens * check.n * 4);
          assert.ok(readFileSync(out).equals(expected), "y differs from the fixture");
          // an explicit, agreeing --tokens changes nothing
          const out2 = join(dir, "y2.i32");
          ok(cli([...args.slice(0, -1), out2, "--tokens", String(check.tokens)]), "ref --tokens");
          assert.ok(readFileSync(out2).equals(expected));
        });
      }
    }

    for (const m of HF_MODELS) {
      const dir = join(FIXTURES, m.file);
      for (const check of m.matmul) {
        it(`${m.file} (a Hugging Face directory) ${check.tensor}: reproduces the fixture's y byte for byte`, () => {
          const out = join(freshDir("hf"), "y.i32");
          ok(cli(["ref", dir, "--tensor", check.tensor, "--input", join(FIXTURES, check.input), "--out", out]), "ref");
          const expected = readFileSync(join(FIXTURES, check.expected));
          assert.equal(expected.length, check.tokens * check.n * 4);
          assert.ok(readFileSync(out).equals(expected), "y differs from the fixture");
        });
      }

      it(`${m.file}: inspect --json agrees with the manifest and compile builds every ternary tensor`, () => {
        const r = cli(["inspect", dir, "--json"]);
        ok(r, "inspect");
        const report = JSON.parse(r.stdout) as InspectJson;
        assert.equal(report.architecture, m.architecture);
        assert.match(report.format, /Hugging Face safetensors/);
        assert.deepEqual(
          [report.dimensions.hidden, report.dimensions.ffn, report.dimensions.layers, report.dimensions.heads, report.dimensions.kvHeads, report.dimensions.vocab],
          [m.hidden, m.ffn, m.layers, m.heads, m.kv_heads, m.vocab],
        );
        for (const e of m.tensors) {
          const t = report.tensors.find((x) => x.name === e.tensor);
          assert.ok(t?.ternary, e.tensor);
          assert.equal(t.type, e.type);
          assert.deepEqual(t.shape, [e.n, e.k]);
          assert.deepEqual([t.ternary.minus, t.ternary.zero, t.ternary.plus], [e.minus, e.zero, e.plus], e.tensor);
          assert.equal(t.ternary.scale.value, e.scale, e.tensor);
        }
        assert.equal(report.tensors.filter((t) => t.ternary).length, m.tensors.length);
        const out = join(freshDir("hf-compile"), "out");
        ok(cli(["compile", dir, "--device", "kv260", "-o", out]), "compile");
        const schedule = JSON.parse(readFileSync(join(out, "schedule.json"), "utf8")) as unknown;
        assert.ok(JSON.stringify(schedule).includes(m.tensors[0]!.tensor));
      });

      it(`a directory without config.json is refused with one line saying what was expected`, () => {
        const empty = freshDir("no-config");
        assertUserError(cli(["inspect", empty]), "config.json");
        assertCompileFails(empty, ["--device", "kv260"], "config.json");
      });
    }
  });

  describe("sim", () => {
    for (const m of GGUF_MODELS) {
      for (const check of m.matmul) {
        it(`${m.file} ${check.tensor} on the kv260 engine: bit-exact, cycles as predicted`, () => {
          const out = join(freshDir("sim"), "y.i32");
          const args = ["sim", join(FIXTURES, m.file), "--tensor", check.tensor, "--device", "kv260"];
          const r = cli([...args, "--input", join(FIXTURES, check.input), "--out", out, "--json"]);
          ok(r, "sim");
          const s = JSON.parse(r.stdout) as SimJson;
          assert.equal(s.tensor, check.tensor);
          assert.deepEqual([s.n, s.k, s.tokens], [check.n, check.k, check.tokens]);
          assert.equal(s.match, true);
          assert.equal(s.mismatches, 0);
          assert.ok(Number.isInteger(s.cycles) && s.cycles > 0);
          assert.equal(s.cycles, s.predictedCycles);
          assert.equal(s.weightsPerCycle, 3 * 28 * 16); // the kv260 default engine: G·T·P
          assert.ok(typeof s.buildSeconds === "number" && s.buildSeconds >= 0);
          assert.ok(typeof s.simSeconds === "number" && s.simSeconds >= 0);
          assert.equal(typeof s.cached, "boolean");
          assert.ok(readFileSync(out).equals(readFileSync(join(FIXTURES, check.expected))), "written y differs from the fixture");
        });
      }
    }

    it("a small mirrored G=2 engine under backpressure: bit-exact, slower than the stall-free prediction", () => {
      const check = GGUF_MODELS[0]!.matmul[0]!;
      const out = join(freshDir("sim-bp"), "y.i32");
      const r = cli([
        "sim", join(FIXTURES, GGUF_MODELS[0]!.file), "--tensor", check.tensor, "--device", "kv260",
        "--input", join(FIXTURES, check.input), "--out", out, "--json",
        "--set", "G=2", "--set", "encoding=mirrored", "--set", "T=7", "--set", "P=3", "--set", "c=1",
        "--backpressure", "0.3", "--seed", "5",
      ]);
      ok(r, "sim with backpressure");
      const s = JSON.parse(r.stdout) as SimJson;
      assert.equal(s.match, true);
      assert.equal(s.mismatches, 0);
      assert.equal(s.weightsPerCycle, 2 * 7 * 3);
      assert.ok(s.predictedCycles > 0);
      assert.ok(s.cycles > s.predictedCycles, `${s.cycles} cycles under backpressure, predicted ${s.predictedCycles} without`);
      assert.ok(readFileSync(out).equals(readFileSync(join(FIXTURES, check.expected))));
    });

    it("without --json prints a human verdict; random activations by default", () => {
      const r = cli(["sim", TQ2, "--tensor", "blk.0.attn_k.weight", "--device", "kv260", "--tokens", "2"]);
      ok(r, "sim");
      assert.match(r.stdout, /blk\.0\.attn_k\.weight \(128×256, 2 tokens\) on kv260: outputs match the reference bit for bit/);
      assert.match(r.stdout, /cycles [\d,]+ \(predicted [\d,]+\)/);
    });

    it("refuses bad activations, tensors and backpressure with one line", () => {
      const check = GGUF_MODELS[0]!.matmul[0]!;
      const model = join(FIXTURES, GGUF_MODELS[0]!.file);
      const input = join(FIXTURES, check.input);
      const base = ["sim", model, "--device", "kv260"];
      assertUserError(cli([...base, "--tensor", check.tensor, "--input", input, "--tokens", String(check.tokens + 1)]), "--tokens");
      const short = join(TMP, "short.i8");
      writeFileSync(short, readFileSync(input).subarray(0, check.k - 1));
      assertUserError(cli([...base, "--tensor", check.tensor, "--input", short]), `k = ${check.k}`);
      assertUserError(cli([...base, "--tensor", "no.such.weight"]), "no.such.weight", "blk.0.attn_q.weight");
      assertUserError(cli([...base, "--tensor", "token_embd.weight"]), "not ternary");
      assertUserError(cli([...base, "--tensor", check.tensor, "--backpressure", "1"]), "--backpressure");
      assertUserError(cli(["sim", model, "--tensor", check.tensor]), "budget");
    });
  });

  describe("compile", () => {
    let dirA = "";
    let dirB = "";

    before(() => {
      const parent = freshDir("compile");
      dirA = join(parent, "a");
      dirB = join(parent, "b");
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", dirA]), "compile a");
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", dirB]), "compile b");
    });

    it("writes the RTL, engine.json, schedule.json and one weight image per ternary tensor", () => {
      // rtl/block/ holds the whole block accelerator's own complete file set (test/cli-block.test.ts)
      assert.ok(readdirSync(join(dirA, "rtl", "block")).includes("trilut_block.v"));
      const rtl = readdirSync(join(dirA, "rtl")).filter((f) => f !== "block").sort();
      assert.ok(rtl.includes("trilut_engine.v"));
      assert.ok(rtl.length > 1 && rtl.every((f) => f.endsWith(".v")), rtl.join(", "));
      const top = readFileSync(join(dirA, "rtl", "trilut_engine.v"), "utf8");
      assert.match(top, /module\s+trilut_engine\b/);
      // every module the RTL instantiates from trilut_* is among the written files
      const defined = new Set<string>();
      for (const f of rtl) for (const m of readFileSync(join(dirA, "rtl", f), "utf8").matchAll(/^\s*module\s+(\w+)/gm)) defined.add(m[1]!);
      for (const f of rtl) {
        for (const m of readFileSync(join(dirA, "rtl", f), "utf8").matchAll(/^\s*(trilut_\w+)\s*(?:#\s*\(|\w+\s*\()/gm)) {
          assert.ok(defined.has(m[1]!), `${f} instantiates ${m[1]}, which no written file defines`);
        }
      }

      const engine = JSON.parse(readFileSync(join(dirA, "engine.json"), "utf8")) as {
        engine: Record<string, unknown>;
        geometry: Record<string, number>;
        budget: { device: string };
        resources: Record<string, number>;
      };
      for (const f of ["G", "encoding", "T", "P", "c", "bufferDepth", "weightMemory"]) assert.ok(f in engine.engine, `engine.json lacks engine.${f}`);
      assert.equal(engine.budget.device, "kv260");
      assert.equal(engine.engine["weightMemory"], "uram");
      const { G, T, P } = engine.engine as { G: number; T: number; P: number };
      assert.equal(engine.geometry["weightsPerCycle"], G * T * P);
      assert.equal("loader" in engine.engine, false, "one engine: no loader to choose");
      const beatBytes = engine.geometry["beatBytes"]!;
      assert.equal(beatBytes * 8, engine.engine["memBits"]);

      const inspect = JSON.parse(cli(["inspect", TQ2, "--json"]).stdout) as InspectJson;
      const ternary = inspect.tensors.filter((t) => t.ternary);
      const schedule = JSON.parse(readFileSync(join(dirA, "schedule.json"), "utf8")) as { tensors: Record<string, ScheduleEntry> };
      assert.deepEqual(Object.keys(schedule.tensors).sort(), ternary.map((t) => t.name).sort());
      const images = new Set<string>();
      for (const t of ternary) {
        const s = schedule.tensors[t.name]!;
        assert.deepEqual([s.n, s.k], t.shape, t.name);
        assert.ok(Number.isInteger(s.predictedCycles) && s.predictedCycles > 0, t.name);
        assert.match(s.image, /^mem\/[^/]+\.bin$/);
        images.add(s.image);
        // tiles sit back to back, each rounded up to 4 KB so no burst crosses a 4 KB boundary
        let addr = 0;
        for (const d of s.descriptors) {
          assert.equal(d.addr, addr, `${t.name}: tile address`);
          assert.ok(d.beats > 0);
          addr += Math.ceil((d.beats * beatBytes) / 4096) * 4096;
        }
        assert.equal(statSync(join(dirA, s.image)).size, addr, `${t.name}: image size`);
      }
      assert.equal(images.size, ternary.length, "two tensors share an image");
      assert.deepEqual(readdirSync(join(dirA, "mem")).map((f) => `mem/${f}`).sort(), [...images].sort());
      assert.deepEqual(readdirSync(dirA).sort(), ["engine.json", "mem", "report.html", "report.json", "report.md", "rtl", "schedule.json"]);
    });

    it("is deterministic: two runs write byte-identical directories", () => {
      // engine.json names the model (the same file both times) but never the output directory
      for (const dir of [dirA, dirB]) assert.ok(!readFileSync(join(dir, "engine.json"), "utf8").includes(dir));
      assertSameTree(snapshot(dirA), snapshot(dirB), "two compiles");
    });

    it("--tensor limits the output to the named tensors", () => {
      const dir = join(freshDir("one"), "out");
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", dir, "--tensor", "blk.1.ffn_down.weight"]), "compile --tensor");
      const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as { tensors: Record<string, ScheduleEntry> };
      assert.deepEqual(Object.keys(schedule.tensors), ["blk.1.ffn_down.weight"]);
      const image = schedule.tensors["blk.1.ffn_down.weight"]!.image;
      assert.deepEqual(readdirSync(join(dir, "mem")), [image.slice("mem/".length)]);
      assert.ok(readFileSync(join(dir, image)).equals(readFileSync(join(dirA, image))), "image differs from the full compile's");
      assertSameTree(snapshot(join(dir, "rtl")), snapshot(join(dirA, "rtl")), "rtl");

      const two = join(freshDir("two"), "out");
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", two, "--tensor", "blk.0.attn_q.weight", "--tensor", "blk.0.attn_k.weight"]), "compile two");
      const s2 = JSON.parse(readFileSync(join(two, "schedule.json"), "utf8")) as { tensors: Record<string, ScheduleEntry> };
      assert.deepEqual(Object.keys(s2.tensors).sort(), ["blk.0.attn_k.weight", "blk.0.attn_q.weight"]);
    });

    it("TQ1_0 models compile too", () => {
      const dir = join(freshDir("tq1"), "out");
      ok(cli(["compile", TQ1, "--device", "kv260", "-o", dir]), "compile tq1_0");
      const schedule = JSON.parse(readFileSync(join(dir, "schedule.json"), "utf8")) as { tensors: Record<string, ScheduleEntry> };
      assert.equal(Object.keys(schedule.tensors).length, 14);
    });

    it("plans block RAM for the weight buffer on a part without URAM (zcu102)", () => {
      const dir = join(freshDir("zcu102"), "out");
      ok(cli(["compile", TQ2, "--device", "zcu102", "-o", dir, "--tensor", "blk.0.attn_q.weight"]), "compile zcu102");
      const engine = JSON.parse(readFileSync(join(dir, "engine.json"), "utf8")) as {
        engine: { weightMemory: string };
        resources: { uram: number; bram36: number };
      };
      assert.equal(engine.engine.weightMemory, "bram");
      assert.equal(engine.resources.uram, 0);
      assert.ok(engine.resources.bram36 > 0);

      // so does a kv260-shaped engine file that does not insist on URAM
      const file = join(TMP, "kv260-shape.json");
      writeFileSync(file, JSON.stringify({ G: 3, encoding: "full", T: 28, P: 16, c: 2 }));
      const dir2 = join(freshDir("zcu102f"), "out");
      ok(cli(["compile", TQ2, "--device", "zcu102", "--engine", file, "-o", dir2, "--tensor", "blk.0.attn_q.weight"]), "compile zcu102 --engine");
      assert.equal((JSON.parse(readFileSync(join(dir2, "engine.json"), "utf8")) as { engine: { weightMemory: string } }).engine.weightMemory, "bram");
    });

    it("accepts a budget file", () => {
      const budget = join(TMP, "budget-ok.json");
      writeFileSync(budget, JSON.stringify({ device: "mine", lut: 200000, ff: 400000, bram36: 300, uram: 80, dsp: 100, clockMHz: 200, memoryGBps: 10 }));
      const dir = join(freshDir("budget"), "out");
      ok(cli(["compile", TQ2, "--budget", budget, "-o", dir, "--tensor", "blk.0.attn_q.weight"]), "compile --budget");
      const engine = JSON.parse(readFileSync(join(dir, "engine.json"), "utf8")) as { budget: { device: string; utilizationCap: number } };
      assert.equal(engine.budget.device, "mine");
      assert.equal(engine.budget.utilizationCap, 0.9); // the schema's default
    });

    it("a failed compile into an existing output leaves the old output untouched, with no partial directory", () => {
      const parent = freshDir("keep");
      const dir = join(parent, "out");
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", dir]), "good compile");
      const before = snapshot(dir);

      // fails while planning (before anything is written)
      assertUserError(cli(["compile", TQ2, "--device", "kv260", "--set", "G=7", "-o", dir]), "/G");
      // fails half way through writing: the header is fine but the last ternary tensor holds invalid trits
      const { tensors } = tensorLayout(TQ2);
      const victim = tensors.filter((t) => t.typeName === "TQ2_0").at(-1)!;
      const corrupt = patchedCopy(TQ2, "bad-trits.gguf", (buf) => {
        buf.fill(0xff, victim.dataOffset, victim.dataOffset + 64); // 2-bit code 3 in the first block's qs
        return buf;
      });
      assertUserError(cli(["compile", corrupt, "--device", "kv260", "-o", dir]), victim.name, "code 3");
      // and an unknown tensor name
      assertUserError(cli(["compile", TQ2, "--device", "kv260", "-o", dir, "--tensor", "nope"]), "nope");

      assertSameTree(before, snapshot(dir), "the old output");
      assert.deepEqual(readdirSync(parent), ["out"], "a partial directory was left behind");
    });

    it("never replaces a file or a directory that is not an earlier output", () => {
      const parent = freshDir("foreign");
      const file = join(parent, "model.gguf");
      writeFileSync(file, "not yours to delete\n");
      const mine = join(parent, "mine");
      mkdirSync(join(mine, "sub"), { recursive: true });
      writeFileSync(join(mine, "sub", "notes.txt"), "keep me\n");
      const before = snapshot(parent);
      assertUserError(cli(["compile", TQ2, "--device", "kv260", "-o", file, "--tensor", "blk.0.attn_q.weight"]), "not a directory");
      assertUserError(cli(["compile", TQ2, "--device", "kv260", "-o", mine, "--tensor", "blk.0.attn_q.weight"]), "not a trilut output");
      assertSameTree(before, snapshot(parent), "the user's files");
      // an empty directory is fine to fill
      const empty = join(parent, "empty");
      mkdirSync(empty);
      ok(cli(["compile", TQ2, "--device", "kv260", "-o", empty, "--tensor", "blk.0.attn_q.weight"]), "compile into an empty directory");
      assert.ok(existsSync(join(empty, "engine.json")));
    });
  });

  describe("bad input: one line, exit 2, no output", () => {
    it("truncated GGUF files (header, tensor infos, tensor data), for inspect and compile", () => {
      for (const model of [TQ2, TQ1]) {
        const size = statSync(model).size;
        const { dataStart, tensors } = tensorLayout(model);
        const middle = tensors[Math.floor(tensors.length / 2)]!;
        const cuts: [string, number][] = [
          ["empty", 0],
          ["inside the magic", 3],
          ["inside the version", 6],
          ["inside the counts", 20],
          ["inside the metadata", 100],
          ["inside the tensor infos", dataStart - 40],
          ["at the start of the data", dataStart],
          ["inside a tensor's data", middle.dataOffset + Math.floor(middle.byteLength / 2)],
          ["one byte short", size - 1],
        ];
        for (const [where, at] of cuts) {
          const path = patchedCopy(model, `cut-${at}.gguf`, (buf) => buf.subarray(0, at));
          const what = `${model} cut ${where} (at byte ${at})`;
          try {
            assertUserError(cli(["inspect", path]), /truncated|end/);
            assertUserError(cli(["inspect", path, "--json"]), /truncated|end/);
            assertCompileFails(path, ["--device", "kv260"], /truncated|end/);
          } catch (err) {
            (err as Error).message = `${what}: ${(err as Error).message}`;
            throw err;
          }
        }
      }
    });

    it("wrong magic, for inspect and compile", () => {
      const path = patchedCopy(TQ2, "magic.gguf", (buf) => {
        buf.write("GGML", 0, "latin1");
        return buf;
      });
      assertUserError(cli(["inspect", path]), "GGUF", "magic");
      assertCompileFails(path, ["--device", "kv260"], "GGUF", "magic");
      const text = join(TMP, "text.gguf");
      writeFileSync(text, "this is not a model at all\n");
      assertUserError(cli(["inspect", text]), "magic");
    });

    it("an unknown tensor type id, for inspect and compile", () => {
      const first = typeIdOffset(TQ2, 0);
      const p1 = patchedCopy(TQ2, "type-first.gguf", (buf) => {
        buf.writeUInt32LE(9999, first);
        return buf;
      });
      assertUserError(cli(["inspect", p1]), "9999", "token_embd.weight");
      assertUserError(cli(["inspect", p1, "--json"]), "9999");
      assertCompileFails(p1, ["--device", "kv260"], "9999");

      // a ternary tensor's id patched to 36: a bitnet.cpp type id, unknown in a llama file
      const { tensors } = tensorLayout(TQ2);
      const q = tensors.findIndex((t) => t.name === "blk.0.attn_q.weight");
      const at = typeIdOffset(TQ2, q);
      const p2 = patchedCopy(TQ2, "type-36.gguf", (buf) => {
        buf.writeUInt32LE(36, at);
        return buf;
      });
      assertUserError(cli(["inspect", p2]), "36", "blk.0.attn_q.weight");
      assertCompileFails(p2, ["--device", "kv260"], "36");
    });

    it("a missing model file", () => {
      assertUserError(cli(["inspect", join(TMP, "nothing-here.gguf")]), "nothing-here.gguf");
      assertCompileFails(join(TMP, "nothing-here.gguf"), ["--device", "kv260"], "nothing-here.gguf");
    });

    it("an unknown --tensor name: the message lists existing names", () => {
      const line = assertCompileFails(TQ2, ["--device", "kv260", "--tensor", "blk.9.attn_q.weight"], "blk.9.attn_q.weight");
      assert.ok(line.includes("blk.0.attn_q.weight") && line.includes("blk.0.ffn_down.weight"), line);
      assertCompileFails(TQ2, ["--device", "kv260", "--tensor", "blk.0.attn_q.weight", "--tensor", "oops"], "oops", "blk.0.attn_q.weight");
      assertCompileFails(TQ2, ["--device", "kv260", "--tensor", "token_embd.weight"], "token_embd.weight", "not ternary");
      const out = join(freshDir("ref-unknown"), "y.i32");
      const refLine = assertUserError(
        cli(["ref", TQ2, "--tensor", "blk.0.attn_z.weight", "--input", join(FIXTURES, GGUF_MODELS[0]!.matmul[0]!.input), "--out", out]),
        "blk.0.attn_z.weight",
      );
      assert.ok(refLine.includes("blk.0.attn_q.weight"), refLine);
      assert.ok(!existsSync(out));
    });

    it("invalid budgets: missing field, wrong type, bad JSON, unknown device, both or neither", () => {
      const good = { device: "mine", lut: 200000, ff: 400000, bram36: 300, uram: 80, dsp: 100, clockMHz: 200, memoryGBps: 10 };
      const write = (name: string, content: string): string => {
        const p = join(TMP, name);
        writeFileSync(p, content);
        return p;
      };
      const { memoryGBps: _, ...missing } = good;
      assertCompileFails(TQ2, ["--budget", write("b-missing.json", JSON.stringify(missing))], "memoryGBps", "missing");
      assertCompileFails(TQ2, ["--budget", write("b-type.json", JSON.stringify({ ...good, lut: "lots" }))], "/lut");
      assertCompileFails(TQ2, ["--budget", write("b-neg.json", JSON.stringify({ ...good, uram: -1 }))], "/uram");
      assertCompileFails(TQ2, ["--budget", write("b-extra.json", JSON.stringify({ ...good, luts: 5 }))], "luts");
      assertCompileFails(TQ2, ["--budget", write("b-syntax.json", "{ \"device\": ")], "JSON");
      assertCompileFails(TQ2, ["--budget", join(TMP, "no-budget.json")], "no-budget.json");
      assertCompileFails(TQ2, ["--device", "kv999"], "kv999", "kv260");
      assertCompileFails(TQ2, ["--device", "kv260", "--budget", write("b-good.json", JSON.stringify(good))], "--device", "--budget");
      assertCompileFails(TQ2, [], "--device");
      assertUserError(cli(["sim", TQ2, "--tensor", "blk.0.attn_q.weight", "--device", "kv999"]), "kv999");
    });

    it("invalid engines: G=7, encoding=half, T=40 with c=2, unknown field, malformed --set", () => {
      const dev = ["--device", "kv260"];
      assertCompileFails(TQ2, [...dev, "--set", "G=7"], "/G");
      assertCompileFails(TQ2, [...dev, "--set", "encoding=half"], "/encoding", "mirrored");
      assertCompileFails(TQ2, [...dev, "--set", "T=40", "--set", "c=2"], "/T", "c = 2");
      assertCompileFails(TQ2, [...dev, "--set", "T=x"], "/T");
      assertCompileFails(TQ2, [...dev, "--set", "G"], "key=value");
      assertCompileFails(TQ2, [...dev, "--set", "Q=3"], "Q");
      const unknown = join(TMP, "engine-unknown.json");
      writeFileSync(unknown, JSON.stringify({ G: 3, T: 28, lanes: 4 }));
      assertCompileFails(TQ2, [...dev, "--engine", unknown], "lanes", "engine-unknown.json");
      const broken = join(TMP, "engine-broken.json");
      writeFileSync(broken, "{ G: 3 }");
      assertCompileFails(TQ2, [...dev, "--engine", broken], "JSON");
      assertCompileFails(TQ2, [...dev, "--engine", join(TMP, "no-engine.json")], "no-engine.json");
      // the same checks guard sim
      assertUserError(cli(["sim", TQ2, "--tensor", "blk.0.attn_q.weight", ...dev, "--set", "G=7"]), "/G");
    });

    it("an engine that names the removed loader: one line saying the streaming engine is the only one", () => {
      const dev = ["--device", "kv260"];
      const removed = "the preload engine was removed and the streaming engine is the only one";
      assertCompileFails(TQ2, [...dev, "--set", "loader=preload"], "/loader", removed);
      const file = join(TMP, "engine-loader.json");
      writeFileSync(file, JSON.stringify({ G: 3, loader: "axi" }));
      assertCompileFails(TQ2, [...dev, "--engine", file], "engine-loader.json", "/loader", removed);
      assertUserError(cli(["sim", TQ2, "--tensor", "blk.0.attn_q.weight", ...dev, "--set", "loader=axi"]), "/loader", removed);
      const spec = join(TMP, "sweep-loader.json");
      writeFileSync(spec, JSON.stringify({ model: { path: TQ2 }, budgets: ["kv260"], engine: { loader: "preload" } }));
      assertUserError(cli(["sweep", spec, "-o", join(TMP, "sweep-loader")]), "sweep-loader.json", "/engine/loader", removed);
      assert.ok(!existsSync(join(TMP, "sweep-loader")));
    });

    it("engines that do not fit the budget", () => {
      const line = assertCompileFails(TQ2, ["--device", "kv260", "--set", "P=64", "--set", "T=28", "--set", "c=2"], "URAM", "kv260");
      assert.match(line, /\b128\b/, "names what the engine needs");
      assert.match(line, /\b57\b/, "names the limit");
      assertCompileFails(TQ2, ["--device", "zcu102", "--set", "weightMemory=uram"], "URAM", "zcu102");
      const uramFile = join(TMP, "engine-uram.json");
      writeFileSync(uramFile, JSON.stringify({ weightMemory: "uram" }));
      assertCompileFails(TQ2, ["--device", "zcu102", "--engine", uramFile], "URAM");
    });

    it("ref: input not a whole number of rows of k, --tokens disagreeing, unreadable input", () => {
      const check = GGUF_MODELS[0]!.matmul[0]!;
      const model = join(FIXTURES, GGUF_MODELS[0]!.file);
      const input = join(FIXTURES, check.input);
      const dir = freshDir("ref-bad");
      const out = join(dir, "y.i32");
      const ragged = join(dir, "ragged.i8");
      writeFileSync(ragged, readFileSync(input).subarray(0, check.k + 5));
      assertUserError(cli(["ref", model, "--tensor", check.tensor, "--input", ragged, "--out", out]), `k = ${check.k}`, String(check.k + 5));
      const empty = join(dir, "empty.i8");
      writeFileSync(empty, "");
      assertUserError(cli(["ref", model, "--tensor", check.tensor, "--input", empty, "--out", out]), "empty.i8");
      assertUserError(
        cli(["ref", model, "--tensor", check.tensor, "--input", input, "--tokens", String(check.tokens + 1), "--out", out]),
        "--tokens",
        String(check.tokens),
      );
      assertUserError(cli(["ref", model, "--tensor", check.tensor, "--input", join(dir, "absent.i8"), "--out", out]), "absent.i8");
      assertUserError(cli(["ref", model, "--tensor", "token_embd.weight", "--input", input, "--out", out]), "not ternary");
      assert.deepEqual(readdirSync(dir).sort(), ["empty.i8", "ragged.i8"], "ref wrote output on failure");
    });

    it("command line mistakes: unknown command, missing arguments", () => {
      assertUserError(cli(["frobnicate"]));
      assertUserError(cli(["inspect"]));
      assertUserError(cli(["compile", TQ2, "--device", "kv260"]), "out");
      assertUserError(cli(["ref", TQ2, "--tensor", "blk.0.attn_q.weight"]));
    });
  });
});
