import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EngineGeometry } from "../engine/config.js";
import { type DelayModel } from "../fabric/delays.js";
import { type ClockPath } from "../fabric/paths.js";
import { type Family, type ModuleResources } from "../fabric/resources.js";
import { PACKAGE_ROOT } from "../util/templates.js";

/** One Verilog file of the generated design. */
export interface SourceFile {
  readonly name: string;
  readonly content: string;
}

/**
 * What one unit adds to a Verilog module: the resources of ONE instance of the module's own cells
 * (submodules excluded: the shape `estimate --synth` reports per module) and how many instances the
 * engine has. A second parameter set of a module is `name#2`. Two units may add to one module (the
 * dequantization stage lives inside trilut_compute): their resources add up.
 */
export interface ModuleShare {
  readonly module: string;
  readonly instances: number;
  readonly resources: ModuleResources;
}

/**
 * A hardware unit of the generated engine, in one place (FINN's habit: each operator owns its
 * estimate, cycles and code): the Verilog modules it owns, their resources, the register-to-register
 * paths that end in them, what it adds to the cycle count, and the HLS code that computes the same
 * function. The engine's units are listed once, in ./engine.ts; the RTL file list, the per-module
 * resource table and the clock paths all derive from that list.
 */
export interface HardwareUnit {
  readonly name: string;
  /** What the unit does, in a sentence or two (docs and reports). */
  readonly summary: string;
  /** Whether an engine of this geometry has the unit. */
  has(geo: EngineGeometry): boolean;
  /** Its Verilog modules, leaves first: hw/ files, or generated ones. */
  rtl(geo: EngineGeometry): SourceFile[];
  /**
   * Its modules with no register of their own, so no path ends in them, each with the reason: wiring
   * only, or logic whose delay is counted in a path of another module.
   */
  readonly unregistered?: Readonly<Record<string, string>>;
  /** Resources per module it adds to (analytic, calibrated against yosys: docs/calibration.md). */
  resources(geo: EngineGeometry, family: Family): ModuleShare[];
  /** Its register-to-register paths, for the analytic clock estimate (docs/clock.md). */
  paths(geo: EngineGeometry, m: DelayModel): ClockPath[];
  /** Where its cycles are counted: the constants and terms of the cycle model it owns (docs/latency.md). */
  readonly cycles: string;
  /**
   * The cycle figures it owns, by name: the constants (and geometry-dependent terms) the cycle
   * models of src/estimate/cycles import from the unit's file rather than define. Empty for a unit
   * that adds no cycle (wiring).
   */
  cycleFigures(geo: EngineGeometry): Readonly<Record<string, number>>;
  /** Its counterpart in the HLS C++: the partials of templates/hls/units/ it contributes (docs/hls.md). */
  readonly hls: HlsCounterpart;
}

/**
 * The places of the HLS engine a unit's partial can fill. The sections of trilut_engine.cpp, in
 * the file's order (templates/hls/trilut_engine.cpp.hbs: a function is defined before its use):
 * - descriptors, loader, activations (the precompute process), weight_buffer, lanes (lane_sum),
 *   dequantize, pass (run_pass), tiles (the lookup process), top (trilut_engine);
 * and slots inside a section's partial, where a unit adds to another unit's function:
 * - step_build (in precompute: what a step's activations become), step_end and pass_end (in
 *   run_pass: after each step, after the steps), tile_storage (in lookup: its static arrays).
 * A slot takes the partials of the engine's units in the order of ENGINE_UNITS.
 */
export const HLS_SLOTS = [
  "descriptors", "loader", "activations", "weight_buffer", "lanes", "dequantize", "pass", "tiles", "top",
  "step_build", "step_end", "pass_end", "tile_storage",
] as const;
export type HlsSlot = (typeof HLS_SLOTS)[number];

/** One partial of a unit's HLS C++. */
export interface HlsPart {
  /** Its file: templates/hls/units/<partial>.cpp.hbs. */
  readonly partial: string;
  /** Where it goes. */
  readonly slot: HlsSlot;
  /** Only in engines where this holds (by default, in every engine that has the unit). */
  readonly when?: (geo: EngineGeometry) => boolean;
}

/**
 * A unit's HLS counterpart: what its partials compute, in one line, and the partials; or, for a
 * unit with no C++ of its own, why (`none`).
 */
export type HlsCounterpart =
  | { readonly summary: string; readonly parts: readonly HlsPart[] }
  | { readonly none: string };

/** The partials a unit contributes to an engine of this geometry (none if it says so). */
export function hlsParts(unit: HardwareUnit, geo: EngineGeometry): HlsPart[] {
  return "parts" in unit.hls ? unit.hls.parts.filter((p) => p.when?.(geo) ?? true) : [];
}

/** Hand-written modules of hw/, by file name. */
export function hw(...names: string[]): SourceFile[] {
  return names.map((name) => ({ name, content: readFileSync(join(PACKAGE_ROOT, "hw", name), "utf8") }));
}

/** The module names a set of Verilog files defines, in order. */
export function definedModules(files: readonly SourceFile[]): string[] {
  return files.flatMap((f) => [...f.content.matchAll(/^\s*module\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!));
}
