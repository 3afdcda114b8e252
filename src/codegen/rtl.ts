import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EngineGeometry } from "../engine/config.js";
import { entryPattern } from "../engine/encoding.js";
import { PACKAGE_ROOT, packageVersion, renderTemplate } from "../util/templates.js";
import { descriptorPort, descriptorWidths, modeLayout } from "../engine/descriptor.js";
import { enginePorts } from "./ports.js";

export interface SourceFile {
  readonly name: string;
  readonly content: string;
}

/** Hand-written building blocks every engine instantiates, in dependency order. */
const COMPUTE_MODULES = ["trilut_uram72.v", "trilut_adder_tree.v", "trilut_psum_mem.v", "trilut_compute.v"];
/** The tables of a table-lookup engine (a baseline engine has none). */
const TABLE_MODULES = ["trilut_lutram.v", "trilut_table.v", "trilut_precompute.v"];
/** And those of each weight loader. */
const LOADER_MODULES = {
  preload: ["trilut_weight_bank.v", "trilut_engine_core.v"],
  axi: ["trilut_fifo.v", "trilut_stream_buffer.v", "trilut_axi_loader.v", "trilut_stream_core.v"],
} as const;

export const TOP_MODULE = "trilut_engine";

const range = (width: number): string => (width > 1 ? `[${width - 1}:0] ` : "");

/**
 * How the top hands the descriptor to trilut_stream_core: the field widths as the core's
 * parameters, and the mode word split into one named wire per mode field, so no hand-written
 * module knows where a flag sits in the word.
 */
interface ModeWire {
  readonly name: string;
  readonly range: string;
  /** The bits of the mode port the wire takes. */
  readonly select: string;
  readonly doc: string;
}

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

/** Every Verilog file of an engine: the generated top and pattern ROM, then the hw/ modules. */
export function generateRtl(geo: EngineGeometry): SourceFile[] {
  const version = packageVersion();
  const { cfg } = geo;
  const ports = enginePorts(geo);
  const desc = cfg.loader === "axi" ? descriptorWiring(geo) : undefined;
  // the core takes the top's ports, with the mode word replaced by its named wires
  const coreSignals = desc ? ports.flatMap((p) => (p.name === desc.modePort ? desc.modeWires.map((w) => w.name) : [p.name])) : ports.map((p) => p.name);
  const top = renderTemplate("rtl/trilut_engine.v.hbs", {
    version,
    cfg,
    geo,
    ports: ports.map((p, i, all) => ({
      ...p,
      range: range(p.width),
      sep: i + 1 < all.length ? "," : "",
    })),
    coreSignals: coreSignals.map((name, i) => ({ name, sep: i + 1 < coreSignals.length ? "," : "" })),
    axi: cfg.loader === "axi",
    desc,
    mirrored: cfg.encoding === "mirrored" ? 1 : 0,
    dequant: cfg.dequant ? 1 : 0,
    baseline: cfg.kind === "baseline" ? 1 : 0,
    ultra: cfg.weightMemory === "uram" ? 1 : 0,
  });
  const rows = [];
  for (let e = 0; e < geo.entries; e++) {
    const trits = entryPattern(e, cfg.G, cfg.encoding);
    // t0 in the low bits: concatenate from t(G-1) down to t0
    const bits = trits
      .map((t) => (t > 0 ? "01" : t < 0 ? "10" : "00"))
      .reverse()
      .join("");
    rows.push({ entry: e, bits, comment: trits.map((t) => (t > 0 ? "+" : t < 0 ? "-" : "0")).join("") });
  }
  const rom = renderTemplate("rtl/trilut_pattern_rom.v.hbs", {
    version,
    G: cfg.G,
    encoding: cfg.encoding,
    entryBits: geo.entryAddressBits,
    patternBits: 2 * cfg.G,
    rows,
  });
  return [
    { name: `${TOP_MODULE}.v`, content: top },
    ...(cfg.kind === "tlmm" ? [{ name: "trilut_pattern_rom.v", content: rom }] : []),
    ...[...(cfg.kind === "tlmm" ? TABLE_MODULES : []), ...COMPUTE_MODULES, ...LOADER_MODULES[cfg.loader]].map((name) => ({ name, content: readFileSync(join(PACKAGE_ROOT, "hw", name), "utf8") })),
  ];
}
