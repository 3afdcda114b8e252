/**
 * Seeded mutation fuzzing of the model readers: a fixture's bytes get bit flips, truncations,
 * huge length fields or random splices, and the whole inspect path (header, tensor list,
 * architecture, workload, every ternary tensor decoded) must end in a read or trilut's own
 * UserError, never another exception, and within a time bound. Shared by the test suite
 * (a few thousand cases per format) and the stress benchmark (many more).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGguf } from "../src/model/gguf.js";
import { inspectModel } from "../src/model/inspect.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { withModel } from "../src/model/open.js";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { FIXTURES } from "./helpers.js";

export interface FuzzTarget {
  readonly name: string;
  /** Files of the model, by name inside its directory. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The file mutations aim at, and where its header (metadata, not tensor data) ends. */
  readonly mainFile: string;
  readonly headerEnd: number;
  /** What to open: a file name, or "" for the directory itself. */
  readonly open: string;
}

export interface FuzzOutcome {
  readonly cases: number;
  readonly read: number;
  readonly rejected: number;
  /** Anything but a read or a UserError: the case's description and the error. */
  readonly failures: string[];
  readonly slowestMs: number;
  /** What the slowest case was. */
  readonly slowest: string;
  readonly seconds: number;
}

function ggufTarget(name: string, path: string): FuzzTarget {
  const file = openGguf(path);
  const headerEnd = file.dataStart;
  file.close();
  return { name, files: new Map([["model.gguf", readFileSync(path)]]), mainFile: "model.gguf", headerEnd, open: "model.gguf" };
}

/** The formats trilut reads, each from a file a third-party tool (or, for I2_S, trilut) wrote. */
export function fuzzTargets(): FuzzTarget[] {
  const hfDir = join(FIXTURES, "tiny-bitnet-hf");
  const safetensors = readFileSync(join(hfDir, "model.safetensors"));
  const hf: FuzzTarget = {
    name: "HF BitNet safetensors",
    files: new Map([
      ["config.json", readFileSync(join(hfDir, "config.json"))],
      ["model.safetensors", safetensors],
    ]),
    mainFile: "model.safetensors",
    headerEnd: 8 + Number(new DataView(safetensors.buffer, safetensors.byteOffset).getBigUint64(0, true)),
    open: "",
  };
  const scratch = mkdtempSync(join(tmpdir(), "trilut-fuzz-i2s-"));
  try {
    const i2s = join(scratch, "m.gguf");
    makeLlamaModel({ path: i2s, format: "i2_s", architecture: "bitnet-b1.58", hidden: 256, ffn: 512, layers: 1, heads: 4, kvHeads: 2, vocab: 64, seed: 9 });
    return [
      ggufTarget("GGUF TQ2_0", join(FIXTURES, "tiny-llama-tq2_0.gguf")),
      ggufTarget("GGUF TQ1_0", join(FIXTURES, "tiny-llama-tq1_0.gguf")),
      ggufTarget("GGUF I2_S", i2s),
      hf,
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Where cases are written: memory (/dev/shm) where there is one, since every case writes its
 * files and a disk-backed tmpdir makes each write cost milliseconds, most of a case's time.
 */
export function scratchRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

const HUGE = [0xffffffffn, 0xffffffffffffffffn, 0x7fffffffffffffffn, 1n << 40n, 1n << 32n];

/** One seeded mutation of `bytes`; returns the new bytes and what was done. */
function mutate(rng: Rng, bytes: Uint8Array, headerEnd: number): { bytes: Uint8Array; what: string } {
  // most mutations land in the header, where lengths, counts, offsets and types live
  const where = (): number => (rng.float() < 0.75 ? rng.int(0, Math.max(0, headerEnd - 1)) : rng.int(0, bytes.length - 1));
  const out = new Uint8Array(bytes);
  switch (rng.int(0, 3)) {
    case 0: {
      const flips = rng.int(1, 8);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        const pos = where();
        out[pos]! ^= 1 << rng.int(0, 7);
        at.push(pos);
      }
      return { bytes: out, what: `bit flips at ${at.join(",")}` };
    }
    case 1: {
      const length = rng.int(0, bytes.length - 1);
      return { bytes: bytes.subarray(0, length), what: `truncated to ${length}` };
    }
    case 2: {
      const pos = Math.min(where(), bytes.length - 8);
      const value = HUGE[rng.int(0, HUGE.length - 1)]!;
      const width = rng.float() < 0.5 ? 4 : 8;
      const view = new DataView(out.buffer);
      if (width === 8) view.setBigUint64(pos, value, true);
      else view.setUint32(pos, Number(value & 0xffffffffn), true);
      return { bytes: out, what: `u${width * 8} ${value} at ${pos}` };
    }
    default: {
      const pos = where();
      const run = rng.int(1, 16);
      for (let i = pos; i < Math.min(out.length, pos + run); i++) out[i] = rng.int(0, 255);
      return { bytes: out, what: `${run} random bytes at ${pos}` };
    }
  }
}

/** Runs the inspect path on the model at `path`: "read", "rejected" (UserError), or throws. */
function exercise(path: string): "read" | "rejected" {
  try {
    withModel(path, (model) => inspectModel(model));
    return "read";
  } catch (err) {
    if (err instanceof UserError) return "rejected";
    throw err;
  }
}

/** Counts a fuzz run: cases read or rejected, failures (anything else, or too slow), the slowest case. */
export class FuzzTally {
  read = 0;
  rejected = 0;
  slowestMs = 0;
  slowest = "";
  readonly failures: string[] = [];
  private readonly started = performance.now();

  constructor(private readonly timeLimitMs: number) {}

  /** Runs and times one case: `run` says how it ended; an exception it throws is a failure. */
  record(what: string, run: () => "read" | "rejected"): void {
    const t0 = performance.now();
    try {
      if (run() === "read") this.read++;
      else this.rejected++;
    } catch (err) {
      this.failures.push(`${what}: ${(err as Error).stack ?? String(err)}`);
    }
    const ms = performance.now() - t0;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowest = what;
    }
    if (ms > this.timeLimitMs) this.failures.push(`${what}: took ${ms.toFixed(0)} ms (limit ${this.timeLimitMs} ms)`);
  }

  outcome(cases: number): FuzzOutcome {
    const { read, rejected, failures, slowestMs, slowest } = this;
    return { cases, read, rejected, failures, slowestMs, slowest, seconds: (performance.now() - this.started) / 1000 };
  }
}

export function fuzz(target: FuzzTarget, cases: number, seed: number, timeLimitMs: number): FuzzOutcome {
  const dir = mkdtempSync(join(scratchRoot(), "trilut-fuzz-"));
  const rng = new Rng(seed);
  const tally = new FuzzTally(timeLimitMs);
  try {
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < cases; i++) {
      // one case in ten mutates a side file (config.json) instead, where there is one
      const sideFiles = [...target.files.keys()].filter((f) => f !== target.mainFile);
      const victim = sideFiles.length > 0 && rng.float() < 0.1 ? sideFiles[rng.int(0, sideFiles.length - 1)]! : target.mainFile;
      const original = target.files.get(victim)!;
      const m = mutate(rng, original, victim === target.mainFile ? target.headerEnd : original.length);
      for (const [name, bytes] of target.files) writeFileSync(join(dir, name), name === victim ? m.bytes : bytes);
      tally.record(`${victim}: ${m.what}`, () => exercise(join(dir, target.open)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally.outcome(cases);
}
