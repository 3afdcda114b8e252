import { ToolError } from "../util/errors.js";
import { asStep } from "../util/progress.js";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EngineGeometry } from "../engine/config.js";
import { enginePorts } from "../engine/ports.js";
import { descriptorHeader } from "../codegen/descriptor-header.js";
import { generateRtl, TOP_MODULE, type SourceFile } from "../codegen/rtl.js";
import { PACKAGE_ROOT, packageVersion, renderTemplate } from "../util/templates.js";
import { cacheRoot } from "../util/cache.js";
import { toolchain, type Toolchain } from "./toolchain.js";

const execFileAsync = promisify(execFile);

/** Runs a build tool; on failure, the error names the tool and carries the end of its output. */
export async function runBuildTool(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const output = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new ToolError(`simulator build failed: ${cmd} exited with an error`, output || e.message);
  }
}

export type TraceFormat = "vcd" | "fst";

export interface BuiltSimulator {
  /** The loadable addon (.node). */
  readonly addonPath: string;
  /** True when the addon came from the cache. */
  readonly cached: boolean;
  readonly buildSeconds: number;
  readonly trace: TraceFormat | undefined;
}

export const VERILATOR_FLAGS = ["-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert", "-Wno-fatal"];
export const CXX_FLAGS = ["-O2", "-fPIC", "-std=c++17", "-w"];

function traceFlags(trace: TraceFormat | undefined): string[] {
  return trace === "vcd" ? ["--trace"] : trace === "fst" ? ["--trace-fst"] : [];
}

/** Defines the Verilator runtime must share with the model it links against. */
function runtimeDefines(trace: TraceFormat | undefined): string[] {
  return [
    "-DVM_COVERAGE=0",
    "-DVM_SC=0",
    `-DVM_TRACE=${trace ? 1 : 0}`,
    `-DVM_TRACE_VCD=${trace === "vcd" ? 1 : 0}`,
    `-DVM_TRACE_FST=${trace === "fst" ? 1 : 0}`,
  ];
}

export function hash(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(p);
    h.update("\0");
  }
  return h.digest("hex").slice(0, 24);
}

function bindingSource(geo: EngineGeometry, trace: TraceFormat | undefined): SourceFile {
  const ports = enginePorts(geo).map((p) => ({ ...p, words: Math.max(1, Math.ceil(p.width / 32)) }));
  const content = renderTemplate("sim/addon.cpp.hbs", {
    version: packageVersion(),
    top: TOP_MODULE,
    ports,
    inputs: ports.filter((p) => p.dir === "input"),
    maxWords: Math.max(2, ...ports.map((p) => p.words)),
    traceVcd: trace === "vcd",
    traceFst: trace === "fst",
    traceAny: trace !== undefined,
    beatBytes: geo.beatBytes,
  });
  return { name: "addon.cpp", content };
}

/**
 * The Verilator runtime (verilated.cpp and friends), compiled with -fPIC once per toolchain and
 * trace format and shared by every engine: it is most of a cold build's time.
 */
async function runtimeObjects(tc: Toolchain, trace: TraceFormat | undefined): Promise<string[]> {
  const sources = ["verilated.cpp", "verilated_threads.cpp"];
  if (trace === "vcd") sources.push("verilated_vcd_c.cpp");
  if (trace === "fst") sources.push("verilated_fst_c.cpp");
  const key = hash([tc.verilatorVersion, tc.cxxVersion, ...CXX_FLAGS, ...runtimeDefines(trace)]);
  const dir = join(cacheRoot(), "runtime", key);
  const objects = sources.map((s) => join(dir, s.replace(/\.cpp$/, ".o")));
  if (objects.every((o) => existsSync(o))) return objects;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const include = join(tc.verilatorRoot, "include");
  const compiled = Promise.all(
    sources.map((s) =>
      runBuildTool(tc.cxx, [
        ...CXX_FLAGS,
        ...runtimeDefines(trace),
        `-I${include}`,
        `-I${join(include, "vltstd")}`,
        "-c",
        join(include, s),
        "-o",
        join(tmp, s.replace(/\.cpp$/, ".o")),
      ]),
    ),
  );
  try {
    await compiled;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  publish(tmp, dir);
  return objects;
}

/** Moves a finished build into the cache; if another process got there first, keeps theirs. */
export function publish(tmp: string, dir: string): void {
  mkdirSync(join(dir, ".."), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Builds the engine's Verilator model into a Node addon, or finds it in the cache. The cache key
 * covers everything that goes into the build: the RTL, the binding and host sources, the tool
 * versions and the flags.
 */
export async function buildSimulator(geo: EngineGeometry, trace?: TraceFormat): Promise<BuiltSimulator> {
  const started = performance.now();
  const tc = toolchain();
  const rtl = generateRtl(geo);
  const binding = bindingSource(geo, trace);
  const descriptor = descriptorHeader(geo);
  const hostHeaders = ["trilut_memory.h", "trilut_stream_host.h"].map((f) =>
    readFileSync(join(PACKAGE_ROOT, "sim", f), "utf8"),
  );
  const key = hash([
    ...rtl.flatMap((f) => [f.name, f.content]),
    binding.content,
    descriptor.content,
    ...hostHeaders,
    tc.verilatorVersion,
    tc.cxxVersion,
    process.versions.napi ?? "",
    ...VERILATOR_FLAGS,
    ...CXX_FLAGS,
    ...traceFlags(trace),
  ]);
  const dir = join(cacheRoot(), "sim", key);
  const addonPath = join(dir, "trilut_sim.node");
  if (existsSync(addonPath)) {
    return { addonPath, cached: true, buildSeconds: (performance.now() - started) / 1000, trace };
  }

  const tmp = `${dir}.${process.pid}.tmp`;
  try {
    await asStep(`building the Verilator simulator of the engine (G=${geo.cfg.G} T=${geo.cfg.T} P=${geo.cfg.P})`, 90, () =>
      compileAddon(tc, rtl, binding, [descriptor], trace, tmp),
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  publish(tmp, dir);
  return { addonPath, cached: false, buildSeconds: (performance.now() - started) / 1000, trace };
}

async function compileAddon(
  tc: Toolchain,
  rtl: SourceFile[],
  binding: SourceFile,
  /** Generated headers the binding includes. */
  headers: SourceFile[],
  trace: TraceFormat | undefined,
  tmp: string,
): Promise<void> {
  const runtime = runtimeObjects(tc, trace);
  // awaited below; until then a failure must not surface as an unhandled rejection
  runtime.catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
  const rtlDir = join(tmp, "rtl");
  mkdirSync(rtlDir, { recursive: true });
  for (const f of rtl) writeFileSync(join(rtlDir, f.name), f.content);
  for (const f of [binding, ...headers]) writeFileSync(join(tmp, f.name), f.content);
  const obj = join(tmp, "obj");
  await runBuildTool(
    tc.verilator,
    [
      "--cc",
      "--build",
      "-j",
      "2",
      ...VERILATOR_FLAGS,
      ...traceFlags(trace),
      "--top-module",
      TOP_MODULE,
      "--Mdir",
      obj,
      "-CFLAGS",
      CXX_FLAGS.join(" "),
      ...rtl.map((f) => join(rtlDir, f.name)),
    ]);
  const include = join(tc.verilatorRoot, "include");
  const objects = await runtime;
  await runBuildTool(
    tc.cxx,
    [
      ...CXX_FLAGS,
      "-shared",
      ...runtimeDefines(trace),
      "-DNODE_GYP_MODULE_NAME=trilut_sim",
      `-I${tmp}`,
      `-I${obj}`,
      `-I${include}`,
      `-I${join(include, "vltstd")}`,
      `-I${join(PACKAGE_ROOT, "sim")}`,
      `-I${tc.nodeInclude}`,
      join(tmp, binding.name),
      join(obj, `V${TOP_MODULE}__ALL.a`),
      ...objects,
      "-o",
      join(tmp, "trilut_sim.node"),
      "-lpthread",
      ...(trace === "fst" ? ["-lz"] : []),
    ]);
  // keep only what loading needs; the object directory is large
  for (const entry of readdirSync(tmp)) {
    if (entry !== "trilut_sim.node" && entry !== "rtl") rmSync(join(tmp, entry), { recursive: true, force: true });
  }
}
