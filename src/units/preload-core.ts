import { ceilLog2 } from "../engine/encoding.js";
import { adderSteps, PathList } from "../fabric/paths.js";
import { familyCarry, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";

/** trilut_engine_core (preload engines): the fill counter and handshakes. Fitted constants. */
export function engineCore(family: Family): ModuleResources {
  return res({ lut: 15, ff: 27, carry: familyCarry(2, family) });
}

export const preloadCore: HardwareUnit = {
  name: "preload core",
  summary: "LOAD and RUN commands from the host: the host fills the weight buffer while the engine waits.",
  has: (geo) => geo.cfg.loader === "preload",
  rtl: () => hw("trilut_engine_core.v"),
  resources: (_geo, family) => [{ module: "trilut_engine_core", instances: 1, resources: engineCore(family) }],
  paths: (geo) => {
    const p = new PathList();
    p.add("trilut_engine_core", "fill counter", "ff", [...adderSteps(ceilLog2(geo.cfg.bufferDepth)), "lut", "muxf", "muxf", "lut", "muxf"], "ff");
    return p.paths;
  },
  cycles: "src/estimate/cycles.ts: LOAD is one cycle per beat, RUN the pass recurrence",
  hls: "none: the HLS engine is the streaming one",
};
