import { type EngineGeometry } from "../engine/config.js";
import { delayModel } from "../fabric/delays.js";
import { type ClockPath } from "../fabric/paths.js";
import { addInto, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { adderTreeUnit } from "./adder-tree.js";
import { axiLoaderUnit } from "./axi-loader.js";
import { dequant } from "./dequant.js";
import { lookup } from "./lookup.js";
import { partialSums } from "./partial-sums.js";
import { streamCoreUnit } from "./stream-core.js";
import { tables } from "./tables.js";
import { top } from "./top.js";
import { type HardwareUnit, type SourceFile } from "./unit.js";
import { weightBuffer } from "./weight-buffer.js";

/**
 * The units of an engine, declared once, in the order of its RTL files (the top, then leaves
 * first). The RTL file list (codegen), the per-module resource table and the clock paths
 * (estimate) all walk this list; a unit an engine lacks says so in its `has`.
 */
export const ENGINE_UNITS: readonly HardwareUnit[] = [
  top,
  tables,
  weightBuffer,
  adderTreeUnit,
  partialSums,
  lookup,
  dequant,
  streamCoreUnit,
  axiLoaderUnit,
];

/** The units an engine of this geometry has. */
export function unitsOf(geo: EngineGeometry): HardwareUnit[] {
  return ENGINE_UNITS.filter((u) => u.has(geo));
}

/** Every Verilog file of the engine: the units' files in order. */
export function engineSources(geo: EngineGeometry): SourceFile[] {
  return unitsOf(geo).flatMap((u) => u.rtl(geo));
}

export interface ModuleEstimate {
  /** Per Verilog module, for ONE instance (own cells only), like SynthResult.modules. */
  modules: Record<string, ModuleResources>;
  /** How many instances of each module the engine has. */
  instances: Record<string, number>;
  total: ModuleResources;
}

/**
 * Every module's resources per instance, its instance count, and the total: the sum of what each
 * unit adds to each module. The per-module report and the total walk this one list, so they
 * cannot disagree.
 */
export function engineModules(geo: EngineGeometry, family: Family = "ultrascale+"): ModuleEstimate {
  const modules: Record<string, ModuleResources> = {};
  const instances: Record<string, number> = {};
  const total = res({});
  for (const unit of unitsOf(geo)) {
    for (const share of unit.resources(geo, family)) {
      const known = modules[share.module];
      if (known === undefined) {
        modules[share.module] = { ...share.resources };
        instances[share.module] = share.instances;
      } else {
        if (instances[share.module] !== share.instances) {
          throw new Error(`unit ${unit.name} adds to ${share.module} with ${share.instances} instances, not ${instances[share.module]}`);
        }
        addInto(known, share.resources, 1);
      }
      addInto(total, share.resources, share.instances);
    }
  }
  return { modules, instances, total };
}

/** The engine's total alone, without the per-module records (sweeps call it for every point). */
export function engineTotal(geo: EngineGeometry, family: Family = "ultrascale+"): ModuleResources {
  const total = res({});
  for (const unit of ENGINE_UNITS) {
    if (!unit.has(geo)) continue;
    for (const share of unit.resources(geo, family)) addInto(total, share.resources, share.instances);
  }
  return total;
}

/** The register-to-register paths of every unit, as the analytic clock estimate times them. */
export function enginePaths(geo: EngineGeometry, family: Family): ClockPath[] {
  const m = delayModel(family);
  return unitsOf(geo).flatMap((u) => u.paths(geo, m));
}
