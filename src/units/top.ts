import { type EngineGeometry } from "../engine/config.js";
import { descriptorPort, descriptorWidths, modeLayout } from "../engine/descriptor.js";
import { enginePorts } from "../engine/ports.js";
import { res } from "../fabric/resources.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { type HardwareUnit } from "./unit.js";

/** The generated top module's name: the engine as users instantiate it. */
export const TOP_MODULE = "trilut_engine";

const range = (width: number): string => (width > 1 ? `[${width - 1}:0] ` : "");

interface ModeWire {
  readonly name: string;
  readonly range: string;
  /** The bits of the mode port the wire takes. */
  readonly select: string;
  readonly doc: string;
}

/**
 * How the top hands the descriptor (src/engine/descriptor.ts) to trilut_stream_core: the field
 * widths as the core's parameters, and the mode word split into one named wire per mode field, so
 * no hand-written module knows where a flag sits in the word.
 */
function descriptorWiring(geo: EngineGeometry): { widths: Record<string, number>; modeWires: ModeWire[]; modePort: string; shiftBits: number } {
  const widths = descriptorWidths(geo);
  // the core queues steps and gsteps in counters of one width (CW)
  if (widths.gsteps !== widths.steps) throw new Error(`descriptor gsteps (${widths.gsteps} bits) and steps (${widths.steps} bits) must share the core's CW`);
  const modePort = descriptorPort("mode");
  const modeWires = modeLayout().map((f): ModeWire => ({
    name: descriptorPort(f.name),
    range: range(f.bits),
    select: f.bits > 1 ? `${modePort}[${f.lsb + f.bits - 1}:${f.lsb}]` : `${modePort}[${f.lsb}]`,
    doc: f.doc,
  }));
  const shiftBits = modeLayout().find((f) => f.name === "shift")!.bits;
  return { widths, modeWires, modePort, shiftBits };
}

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
    const ports = enginePorts(geo);
    const desc = descriptorWiring(geo);
    // the core takes the top's ports, with the mode word replaced by its named wires
    const coreSignals = ports.flatMap((p) => (p.name === desc.modePort ? desc.modeWires.map((w) => w.name) : [p.name]));
    const content = renderTemplate("rtl/trilut_engine.v.hbs", {
      version: packageVersion(),
      cfg,
      geo,
      ports: ports.map((p, i, all) => ({
        ...p,
        range: range(p.width),
        sep: i + 1 < all.length ? "," : "",
      })),
      coreSignals: coreSignals.map((name, i) => ({ name, sep: i + 1 < coreSignals.length ? "," : "" })),
      desc,
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
  cycleFigures: () => ({}),
  hls: {
    summary: "trilut_engine(): the DATAFLOW region, its streams and its interfaces",
    parts: [{ partial: "top", slot: "top" }],
  },
};
