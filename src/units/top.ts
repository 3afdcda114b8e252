import { type EngineGeometry } from "../engine/config.js";
import { descriptorWidths, enginePorts } from "../engine/ports.js";
import { res } from "../fabric/resources.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { type HardwareUnit } from "./unit.js";

/** The generated top module's name: the engine as users instantiate it. */
export const TOP_MODULE = "trilut_engine";

/**
 * The top (trilut_engine, generated): the engine's ports (src/engine/ports.ts) and the parameters
 * of the core it instantiates, from the engine config. Wiring only.
 */
export const top: HardwareUnit = {
  name: "top",
  summary: "The engine's ports and the parameters of its core, generated from the engine config: wiring only.",
  has: () => true,
  rtl: (geo: EngineGeometry) => {
    const { cfg } = geo;
    const content = renderTemplate("rtl/trilut_engine.v.hbs", {
      version: packageVersion(),
      cfg,
      geo,
      ports: enginePorts(geo).map((p, i, all) => ({
        ...p,
        range: p.width > 1 ? `[${p.width - 1}:0] ` : "",
        sep: i + 1 < all.length ? "," : "",
      })),
      axi: cfg.loader === "axi",
      desc: cfg.loader === "axi" ? descriptorWidths(geo) : undefined,
      mirrored: cfg.encoding === "mirrored" ? 1 : 0,
      dequant: cfg.dequant ? 1 : 0,
      baseline: cfg.kind === "baseline" ? 1 : 0,
      ultra: cfg.weightMemory === "uram" ? 1 : 0,
    });
    return [{ name: `${TOP_MODULE}.v`, content }];
  },
  unregistered: { [TOP_MODULE]: "wiring: the core's instance and the ports" },
  resources: () => [{ module: TOP_MODULE, instances: 1, resources: res({}) }],
  paths: () => [],
  cycles: "none: wiring",
  hls: "trilut_engine() in trilut_engine.cpp: the DATAFLOW region and its interfaces",
};
