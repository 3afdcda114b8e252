import { asStep } from "../util/progress.js";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EngineGeometry } from "../engine/config.js";
import { cacheRoot } from "../util/cache.js";
import { ToolError } from "../util/errors.js";
import { generateHls, HLS_ENGINE, HLS_TESTBENCH } from "../codegen/hls.js";

const execFileAsync = promisify(execFile);

/**
 * Plain g++, as a user without the vendor tools would build the engine: the same sources Vitis
 * HLS gets, with the package's own stream type in place of hls::stream.
 */
export const HLS_CXX_FLAGS = ["-O2", "-std=c++17", "-DTRILUT_PLAIN_CXX", "-w"];

export interface BuiltHls {
  /** The testbench executable (trilut_tb DESCRIPTORS ACTS IMAGE RESULTS [EXPECTED]). */
  readonly exePath: string;
  readonly cached: boolean;
  /** Seconds this call spent: the g++ build, or only the cache lookup. */
  readonly compileSeconds: number;
}

let cxxVersion: { cxx: string; version: string } | undefined;

function compiler(): { cxx: string; version: string } {
  if (cxxVersion) return cxxVersion;
  const cxx = process.env["CXX"] ?? "g++";
  let version = "";
  try {
    version = execFileSync(cxx, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!.trim();
  } catch {
    throw new ToolError(`C++ compiler "${cxx}" not found: install g++ (the HLS backend builds the engine with it)`);
  }
  cxxVersion = { cxx, version };
  return cxxVersion;
}

/**
 * Builds the HLS engine and its testbench with g++, or finds them in the cache (under
 * $TRILUT_CACHE or ~/.cache/trilut, keyed by the sources, the compiler and its flags).
 */
export async function buildHls(geo: EngineGeometry): Promise<BuiltHls> {
  const started = performance.now();
  const sources = generateHls(geo);
  const { cxx, version } = compiler();
  const h = createHash("sha256");
  for (const part of [...sources.flatMap((f) => [f.name, f.content]), version, ...HLS_CXX_FLAGS]) {
    h.update(part);
    h.update("\0");
  }
  const dir = join(cacheRoot(), "hls", h.digest("hex").slice(0, 24));
  const exePath = join(dir, "trilut_tb");
  const seconds = (): number => (performance.now() - started) / 1000;
  if (existsSync(exePath)) return { exePath, cached: true, compileSeconds: seconds() };

  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of sources) writeFileSync(join(tmp, f.name), f.content);
    await asStep(`building the HLS engine with ${cxx}`, 30, () =>
      execFileAsync(cxx, [...HLS_CXX_FLAGS, `-I${tmp}`, join(tmp, HLS_ENGINE), join(tmp, HLS_TESTBENCH), "-o", join(tmp, "trilut_tb")], {
        maxBuffer: 64 * 1024 * 1024,
      }),
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    const output = (e.stderr ?? "").trim().split("\n").slice(-30).join("\n");
    throw new ToolError(`HLS engine build failed: ${cxx} exited with an error`, output || e.message);
  }
  mkdirSync(join(dir, ".."), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    // another process published the same build first: keep theirs
    rmSync(tmp, { recursive: true, force: true });
  }
  return { exePath, cached: false, compileSeconds: seconds() };
}
