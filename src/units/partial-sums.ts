import { type EngineGeometry } from "../engine/config.js";
import { adderSteps, PathList } from "../fabric/paths.js";
import { bramBlocks, res, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";

/**
 * The partial sums (trilut_psum_mem): P int32 lanes per row group, maxGroups deep, in block RAM,
 * read, added to and written back once per row group and step; drained P lanes a beat.
 */

/** trilut_psum_mem: `width` bits × `depth` in block RAM, structural ({@link bramBlocks}). */
export function psumMem(width: number, depth: number): ModuleResources {
  return res({ bram36: bramBlocks(width, depth) });
}

/** Cycles of a drain besides its one beat per row group: the partial-sum memory's read ahead of the first beat. */
export const DRAIN_READ = 1;

export const partialSums: HardwareUnit = {
  name: "partial sums",
  summary: "Each row's int32 partial sum in block RAM, P lanes per row group: read, added to and written back every step.",
  has: () => true,
  rtl: () => hw("trilut_psum_mem.v"),
  resources: (geo: EngineGeometry) => [{ module: "trilut_psum_mem", instances: 1, resources: psumMem(geo.cfg.P * 32, geo.maxGroups) }],
  paths: () => {
    // the partial sum out of block RAM, the forwarding select, the 32-bit add, back into the RAM
    const p = new PathList();
    p.add("trilut_psum_mem", "accumulate", "bram", ["lut", ...adderSteps(32)], "bram");
    return p.paths;
  },
  cycles: `the read-add-write closing the lookup pipeline; a drain streams one beat per row group after the pass, after a ${DRAIN_READ}-cycle read`,
  cycleFigures: () => ({ drainRead: DRAIN_READ }),
  hls: {
    summary: "the int32 partial-sum array acc[MAX_GROUPS][P] in block RAM, and run_pass()'s drain, one result beat per row group",
    parts: [
      { partial: "partial-sums-storage", slot: "tile_storage" },
      { partial: "partial-sums-drain", slot: "pass_end" },
    ],
  },
};
