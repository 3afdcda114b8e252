import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type TritMatrix } from "../src/model/types.js";
import { Rng } from "../src/util/random.js";

/** The repository root (tests run from dist/test). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHARED = process.env["TRILUT_SHARED"] ?? join(REPO_ROOT, "..", "shared");
export const FIXTURES = join(SHARED, "fixtures", "models");

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
