import { asStep } from "../../util/progress.js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { version as yosysVersion } from "@yowasp/yosys";
import { type Budget } from "../../budget/budget.js";
import { generateRtl, type SourceFile, TOP_MODULE } from "../../codegen/rtl.js";
import { type EngineGeometry } from "../../engine/config.js";
import { cacheRoot } from "../../util/cache.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { ToolError, UserError } from "../../util/errors.js";
import { delayModel } from "../../fabric/delays.js";
import { moduleBaseName, netlistTiming, type NetlistPath, type YosysNetlist } from "../netlist-timing.js";
import { runYosys } from "./yosys.js";
import { type ModuleResources } from "../../fabric/resources.js";

/**
 * Resources of synthesized logic, in the units of a part's datasheet.
 *
 * - `lut`: LUTs used as logic (LUT1..LUT6; yosys's INV is a LUT1).
 * - `lutram`: LUTs used as memory — distributed RAM and shift registers — counted as the LUTs each
 *   primitive occupies (UG574 / UG474: RAM32X1S, RAM64X1S, SRL16E, SRLC32E 1; RAM32X1D, RAM64X1D,
 *   RAM128X1S 2; RAM32M, RAM64M, RAM128X1D, RAM256X1S 4; RAM32M16, RAM64M8, RAM256X1D, RAM512X1S 8).
 *   A part's CLB LUT count covers both: compare `lut + lutram` with the budget's LUTs.
 * - `ff`: flip-flops and latches (FD*, LD*).
 * - `carry`: carry-chain primitives of the family: CARRY8 for UltraScale+ (converted, see
 *   {@link carryCount}), CARRY4 for 7-series.
 * - `bram36`: RAMB36 (and FIFO36) = 1, RAMB18 (FIFO18) = 0.5.
 * - `uram`: URAM288. `dsp`: DSP48E1/DSP48E2.
 *
 * MUXF7/F8/F9 are in-slice multiplexers, not LUTs, and are not counted (Vivado lists them apart).
 */
export type SynthCounts = ModuleResources;

export interface SynthResult {
  /** The budget's family, and the yosys `synth_xilinx -family` it was synthesized for. */
  family: Budget["family"];
  yosysFamily: "xcup" | "xc7";
  yosysVersion: string;
  /** Every instance of every module under the top (the top's own hierarchy totals). */
  total: SynthCounts;
  /**
   * Per module, for ONE instance and its own cells only (submodule instances excluded), keyed by
   * the hw/ module name; a module elaborated with several parameter sets gets `name#2`, `name#3`...
   */
  modules: Record<string, SynthCounts>;
  /** How many times each module of `modules` is instantiated under the top. */
  instances: Record<string, number>;
  /** Raw yosys cell counts of the whole design, by primitive. */
  cells: Record<string, number>;
  /** Cell types that map to none of the resources (MUXF7, MUXF8, ...), for the curious. */
  uncounted: Record<string, number>;
  /** The longest paths of the mapped netlist under a rough delay model (docs/clock.md). */
  timing: SynthTiming;
  /** Wall time of the yosys run that produced the figures (not of a cache hit). */
  seconds: number;
  /** Yosys did not run: the figures (or yosys's output they come from) were in the cache. */
  cached: boolean;
  notes: string[];
}

/**
 * Logic depth of the synthesized engine: the longest register-to-register path of yosys's mapped
 * netlist, and the longest ending in each module, timed with the delay model of the family
 * (src/fabric/delays.ts). An estimate: yosys does not place or route.
 */
export interface SynthTiming {
  model: "ultrascale+" | "7series";
  critical: NetlistPath | undefined;
  byModule: Record<string, NetlistPath>;
  /** Primitive types the walk did not know (timed as one LUT each). */
  unknown: Record<string, number>;
}

export interface SynthOptions {
  /** Stop yosys after this long (default 600 s). */
  timeoutSeconds?: number;
  /**
   * Flatten the mapped netlist before counting (one module: the top). Mapping still runs per module,
   * so this checks the hierarchical totals; `synth_xilinx -flatten` would optimize across module
   * boundaries and report fewer LUTs (about 16% fewer on the small engine of the tests, measured on the
   * since-removed preloaded engine).
   */
  flatten?: boolean;
  /** Derive the figures again from yosys's cached output even when they are cached (benchmarks). */
  rederive?: boolean;
  /** The top module (default trilut_engine): a decoder unit synthesized on its own. */
  top?: string;
}

const ZERO: SynthCounts = { lut: 0, ff: 0, lutram: 0, carry: 0, bram36: 0, uram: 0, dsp: 0 };

/** LUTs a distributed-RAM or shift-register primitive occupies. */
const LUTRAM_LUTS: Record<string, number> = {
  RAM16X1S: 1, RAM32X1S: 1, RAM64X1S: 1, SRL16E: 1, SRLC16E: 1, SRLC32E: 1,
  RAM16X1D: 2, RAM32X1D: 2, RAM64X1D: 2, RAM128X1S: 2,
  RAM32M: 4, RAM64M: 4, RAM128X1D: 4, RAM256X1S: 4,
  RAM32M16: 8, RAM64M8: 8, RAM256X1D: 8, RAM512X1S: 8, RAM32X16DR8: 8, RAM64X8SW: 8,
};

/** Adds `n` cells of yosys type `type` (not CARRY4/CARRY8: see carryCount) to `acc`; false if uncounted. */
function addCell(acc: SynthCounts, type: string, n: number): boolean {
  if (/^LUT[1-6](_2)?$/.test(type) || type === "INV") acc.lut += n;
  else if (/^(FD|LD)/.test(type)) acc.ff += n;
  else if (type in LUTRAM_LUTS) acc.lutram += n * LUTRAM_LUTS[type]!;
  else if (/^(RAMB36|FIFO36)/.test(type)) acc.bram36 += n;
  else if (/^(RAMB18|FIFO18)/.test(type)) acc.bram36 += n * 0.5;
  else if (/^URAM288/.test(type)) acc.uram += n;
  else if (/^DSP48/.test(type)) acc.dsp += n;
  else if (type === "CARRY4" || type === "CARRY8") return true;
  else return false;
  return true;
}

/**
 * Carry primitives of one module from the lengths of its CARRY4 chains (a chain: CARRY4s linked
 * CO[3] → CI) and any CARRY8 yosys emitted.
 *
 * Yosys 0.55 maps carry logic to CARRY4 even for UltraScale+, whose slices have CARRY8. A chain of
 * n CARRY4 covers 4n bits; Vivado packs the same chain into ⌈4n/8⌉ = ⌈n/2⌉ CARRY8, because a chain
 * must start a new CARRY8 of its own and cannot share one with another chain. We therefore count
 * ⌈n/2⌉ per chain rather than ⌈total/2⌉ for the module (which would undercount short chains, e.g.
 * many 1-CARRY4 adders of 4 bits each take one CARRY8 apiece). For 7-series CARRY4 stays CARRY4.
 */
function carryCount(chains: number[], carry8: number, family: "xcup" | "xc7"): number {
  if (family === "xc7") return chains.reduce((a, b) => a + b, 0) + carry8;
  return chains.reduce((a, n) => a + Math.ceil(n / 2), 0) + carry8;
}

interface YosysNetlistCell {
  type: string;
  connections: Record<string, (number | string)[]>;
}

/** Lengths of the CARRY4 chains of one module of a yosys JSON netlist. */
function carryChains(cells: Record<string, YosysNetlistCell>): number[] {
  const carry4 = Object.values(cells).filter((c) => c.type === "CARRY4");
  const byCarryOut = new Map<number | string, YosysNetlistCell>();
  for (const c of carry4) {
    const co3 = c.connections["CO"]?.[3];
    if (typeof co3 === "number") byCarryOut.set(co3, c);
  }
  const next = new Map<YosysNetlistCell, YosysNetlistCell>();
  const hasPrev = new Set<YosysNetlistCell>();
  for (const c of carry4) {
    const ci = c.connections["CI"]?.[0];
    const prev = typeof ci === "number" ? byCarryOut.get(ci) : undefined;
    if (prev && prev !== c && !next.has(prev)) {
      next.set(prev, c);
      hasPrev.add(c);
    }
  }
  const chains: number[] = [];
  for (const c of carry4) {
    if (hasPrev.has(c)) continue;
    let n = 0;
    for (let x: YosysNetlistCell | undefined = c; x && n <= carry4.length; x = next.get(x)) n++;
    chains.push(n);
  }
  return chains;
}

export function yosysFamilyOf(family: Budget["family"]): "xcup" | "xc7" {
  switch (family) {
    case "ultrascale+":
    case "versal":
      return "xcup";
    case "7series":
      return "xc7";
    default:
      throw new UserError(`unknown part family "${String(family)}"; expected ultrascale+, versal or 7series`);
  }
}

/** The yosys script: synthesize for the family keeping the hierarchy, then report. */
function synthScript(files: readonly string[], yosysFamily: string, flatten: boolean, top: string): string {
  return [
    // -defer: elaborate modules only with the parameters the hierarchy gives them, so a generate
    // branch not taken (a baseline engine's tables) need not name modules that are absent
    `read_verilog -defer ${files.join(" ")}`,
    // out of context: no I/O pads or clock buffers; hierarchy kept so each module reports its own cells
    `synth_xilinx -family ${yosysFamily} -top ${top} -noiopad -noclkbuf`,
    ...(flatten ? ["flatten"] : []),
    "tee -q -o stat.json stat -json",
    // the mapped netlist, hierarchical (each module once): cells and port wires only, no source
    // locations, to keep yosys's slow JSON writer short; carry chains and logic depth come from it
    "setattr -unset src",
    "select t:* x:*",
    "write_json -selected netlist.json",
    "",
  ].join("\n");
}

interface StatModule {
  num_cells_by_type?: Record<string, number>;
}
interface StatJson {
  modules: Record<string, StatModule>;
  design?: StatModule;
}

function parseResults(
  stat: StatJson,
  netlist: YosysNetlist,
  yosysFamily: "xcup" | "xc7",
  top: string,
): Pick<SynthResult, "total" | "modules" | "instances" | "cells" | "uncounted"> {
  const rawNames = Object.keys(stat.modules).sort();
  // friendly names, numbering parameter variants of one module
  const names = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const raw of rawNames) {
    const base = moduleBaseName(raw);
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    names.set(raw, k === 1 ? base : `${base}#${k}`);
  }
  const topRaw = rawNames.find((r) => moduleBaseName(r) === top && !r.startsWith("$paramod"));
  if (!topRaw) throw new Error(`yosys stat has no module ${top}`);

  // a cell's type names a submodule as `$paramod$<hash>\\name` or `name` (module key `\\name`)
  const submodule = (type: string): string | undefined =>
    type in stat.modules ? type : `\\${type}` in stat.modules ? `\\${type}` : undefined;
  // instances: walk the hierarchy from the top
  const instances = new Map<string, number>();
  const visit = (raw: string, times: number, depth: number): void => {
    if (depth > 64) throw new Error("yosys stat: hierarchy deeper than 64 (a loop?)");
    instances.set(raw, (instances.get(raw) ?? 0) + times);
    for (const [type, n] of Object.entries(stat.modules[raw]?.num_cells_by_type ?? {})) {
      const sub = submodule(type);
      if (sub !== undefined) visit(sub, times * n, depth + 1);
    }
  };
  visit(topRaw, 1, 0);

  const modules: Record<string, SynthCounts> = {};
  const instanceCounts: Record<string, number> = {};
  const total: SynthCounts = { ...ZERO };
  const cells: Record<string, number> = {};
  const uncounted: Record<string, number> = {};
  for (const raw of rawNames) {
    const times = instances.get(raw) ?? 0;
    if (times === 0) continue;
    const own: SynthCounts = { ...ZERO };
    let carry8 = 0;
    for (const [type, n] of Object.entries(stat.modules[raw]!.num_cells_by_type ?? {})) {
      if (submodule(type) !== undefined || type.startsWith("$scopeinfo")) continue;
      cells[type] = (cells[type] ?? 0) + n * times;
      if (type === "CARRY8") carry8 += n;
      if (!addCell(own, type, n)) uncounted[type] = (uncounted[type] ?? 0) + n * times;
    }
    own.carry = carryCount(carryChains((netlist.modules?.[raw]?.cells ?? {}) as Record<string, YosysNetlistCell>), carry8, yosysFamily);
    const name = names.get(raw)!;
    modules[name] = own;
    instanceCounts[name] = times;
    for (const k of Object.keys(total) as (keyof SynthCounts)[]) total[k] += own[k] * times;
  }
  return { total, modules, instances: instanceCounts, cells, uncounted };
}

function cacheKey(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(p);
    h.update("\0");
  }
  return h.digest("hex").slice(0, 24);
}

/**
 * Synthesizes the engine's RTL with yosys `synth_xilinx` for the budget's family, keeping the
 * hierarchy, counts each module's resources and times the netlist's longest paths (./netlist-timing.ts).
 * Cached under cacheRoot()/synth/: yosys's output by a hash of the RTL, yosys version, family and
 * script; the figures by that hash, the analysis version and the delay model.
 *
 * Versal: yosys has no Versal target; UltraScale+ (`xcup`: LUT6, CARRY8, RAMB36E2, URAM288,
 * DSP48E2) is the closest, and the result says so in `notes`.
 */
export async function synthesize(
  geo: EngineGeometry,
  family: Budget["family"],
  opts: SynthOptions = {},
): Promise<SynthResult> {
  return synthesizeSources(generateRtl(geo), family, opts);
}

/**
 * {@link synthesize} for given Verilog sources (top: trilut_engine unless `opts.top` names another): the engine's generated
 * RTL, or (in tests) a deliberately broken copy of it.
 */
export async function synthesizeSources(
  rtl: readonly SourceFile[],
  family: Budget["family"],
  opts: SynthOptions = {},
): Promise<SynthResult> {
  const yosysFamily = yosysFamilyOf(family);
  const model = delayModel(yosysFamily === "xc7" ? "7series" : "ultrascale+");
  const top = opts.top ?? TOP_MODULE;
  const script = synthScript(rtl.map((f) => f.name), yosysFamily, opts.flatten === true, top);
  // Two cache levels. What yosys wrote (its statistics and the gzipped netlist, about 1 MB for the
  // default engine) is keyed by what yosys read; the figures derived from it also by the analysis
  // and the delay model, so a change to those re-reads the netlist instead of re-synthesizing.
  const rawKey = cacheKey([...rtl.flatMap((f) => [f.name, f.content]), yosysVersion, family, script]);
  const key = cacheKey([rawKey, ANALYSIS_VERSION, JSON.stringify(model)]);
  const dir = join(cacheRoot(), "synth");
  const path = join(dir, `${key}.json`);
  const rawPath = join(dir, `${rawKey}.yosys.json.gz`);
  const hit = opts.rederive ? undefined : readJson<SynthResult>(path);
  if (hit) return { ...hit, cached: true };

  let raw = readRaw(rawPath);
  const cached = raw !== undefined;
  if (!raw) {
    const started = performance.now();
    const files = Object.fromEntries(rtl.map((f) => [f.name, f.content]));
    const out = await asStep(`synthesizing ${top} with yosys (${family})`, 120, () =>
      runYosys(top, script, files, ["stat.json", "netlist.json"], opts.timeoutSeconds ?? 600),
    );
    const stat = out["stat.json"];
    const netlist = out["netlist.json"];
    if (stat === undefined || netlist === undefined) {
      throw new ToolError(`yosys synthesis of ${top} failed: no ${stat === undefined ? "stat.json" : "netlist.json"} written`);
    }
    const seconds = (performance.now() - started) / 1000;
    // spliced as text: re-serializing a 30 MB netlist would cost seconds
    writeFileAtomic(rawPath, gzipSync(`{"seconds":${seconds},"stat":${stat},"netlist":${netlist}}`));
    raw = { seconds, stat: JSON.parse(stat) as StatJson, netlist: JSON.parse(netlist) as YosysNetlist };
  }
  const parsed = parseResults(raw.stat, raw.netlist, yosysFamily, top);
  const t = netlistTiming(raw.netlist, top, model);
  const timing: SynthTiming = { model: model.family, critical: t.critical, byModule: t.byModule, unknown: t.unknown };
  const notes = [
    `yosys ${yosysVersion} synth_xilinx -family ${yosysFamily}, hierarchy kept, out of context (no I/O pads, no clock buffers)`,
    yosysFamily === "xcup"
      ? "carry: each yosys CARRY4 chain of n cells counted as ceil(n/2) CARRY8"
      : "carry: CARRY4 as mapped",
    "lut: LUTs as logic; lutram: LUTs as memory (distributed RAM, SRL); a part's LUT count covers both",
    "logic depth: the longest register-to-register path of the mapped netlist under a rough delay model (docs/clock.md); no placement or routing",
  ];
  if (family === "versal") notes.unshift("versal: yosys has no Versal target; synthesized for UltraScale+ (xcup), the closest");
  const result: SynthResult = { family, yosysFamily, yosysVersion, ...parsed, timing, seconds: raw.seconds, cached, notes };
  writeFileAtomic(path, JSON.stringify(result, null, 2));
  return result;
}

/** Bump when parseResults or the netlist walk change what they derive from the same yosys output. */
const ANALYSIS_VERSION = "analysis-v4";

/** A cache file's JSON, or undefined when absent or damaged (then it is made again). */
function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

interface RawSynth {
  seconds: number;
  stat: StatJson;
  netlist: YosysNetlist;
}

function readRaw(path: string): RawSynth | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as RawSynth;
  } catch {
    return undefined;
  }
}
