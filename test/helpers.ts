import type { Context, Suite } from "mocha";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type TritMatrix } from "../src/model/types.js";
import { type EngineGeometry } from "../src/engine/config.js";
import { generateRtl } from "../src/codegen/rtl.js";
import assert from "node:assert/strict";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";

/** The repository root (tests run from dist/test). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Model files written by third-party tools (llama.cpp's gguf package, safetensors), copied in with their manifest. */
export const FIXTURES = join(REPO_ROOT, "test", "fixtures", "models");

export function randomTrits(rng: Rng, n: number, k: number, zeroFraction = 1 / 3): TritMatrix {
  const trits = new Int8Array(n * k);
  for (let i = 0; i < trits.length; i++) {
    const u = rng.float();
    trits[i] = u < zeroFraction ? 0 : u < (1 + zeroFraction) / 2 ? 1 : -1;
  }
  return { n, k, trits };
}

export function randomActs(rng: Rng, count: number): Int8Array {
  const x = new Int8Array(count);
  for (let i = 0; i < count; i++) x[i] = rng.int(-128, 127);
  return x;
}

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the trilut command line as a user would. */
export function cli(args: string[], cwd = REPO_ROOT): CliRun {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin", "trilut.js"), ...args], { cwd, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** shared/fixtures/models/manifest.json: what third-party tools wrote and the results expected. */
export interface ManifestTensor {
  tensor: string;
  type: string;
  n: number;
  k: number;
  scale: number;
  minus: number;
  zero: number;
  plus: number;
}

export interface ManifestMatmul {
  tensor: string;
  tokens: number;
  n: number;
  k: number;
  input: string;
  expected: string;
}

export interface ManifestModel {
  file: string;
  format: string;
  architecture: string;
  hidden: number;
  ffn: number;
  layers: number;
  heads: number;
  kv_heads: number;
  vocab: number;
  tensors: ManifestTensor[];
  matmul: ManifestMatmul[];
}

export function loadManifest(): { models: ManifestModel[] } {
  return JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as { models: ManifestModel[] };
}

/** Verilator's -Wall lint of an engine's generated RTL: its output, empty when clean. */
export function lintRtl(geo: EngineGeometry): string {
  const dir = mkdtempSync(join(tmpdir(), "trilut-lint-"));
  try {
    const files = generateRtl(geo).map((f) => {
      writeFileSync(join(dir, f.name), f.content);
      return join(dir, f.name);
    });
    return execFileSync("verilator", ["--lint-only", "-Wall", "--top-module", "trilut_engine", ...files], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts fn throws a one-line UserError whose message matches every pattern. */
export function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.ok(!err.message.includes("\n"), `message must be one line: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

/**
 * y = x · Tᵀ for m rows of int8 activations against an n × k trit matrix, written here apart from
 * src/ref so that reader tests check the fixtures against something independent.
 */
export function plainMatmul(x: Int8Array, trits: Int8Array, m: number, n: number, k: number): Int32Array {
  const y = new Int32Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let o = 0; o < n; o++) {
      let acc = 0;
      for (let j = 0; j < k; j++) acc += x[r * k + j]! * trits[o * k + j]!;
      y[r * n + o] = acc;
    }
  }
  return y;
}

/**
 * Marks a suite slow: it runs only with TRILUT_SLOW=1 (`npm run test:slow`, and CI's second step,
 * .ci/run), and shows as pending otherwise. The decoder units' yosys calibrations are such suites:
 * each synthesis takes 10–180 s on a cold cache, 15 minutes together.
 */
export function slowSuite(suite: Suite): void {
  suite.beforeAll(function (this: Context) {
    if (!process.env["TRILUT_SLOW"]) this.skip();
  });
}
