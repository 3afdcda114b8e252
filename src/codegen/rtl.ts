import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EngineGeometry } from "../engine/config.js";
import { entryPattern } from "../engine/encoding.js";
import { PACKAGE_ROOT, packageVersion, renderTemplate } from "../util/templates.js";
import { descriptorWidths, enginePorts } from "./ports.js";

export interface SourceFile {
  readonly name: string;
  readonly content: string;
}

/** Hand-written building blocks every engine instantiates, in dependency order. */
const COMPUTE_MODULES = ["trilut_uram72.v", "trilut_adder_tree.v", "trilut_psum_mem.v", "trilut_compute.v"];
/** The tables of a table-lookup engine (a baseline engine has none). */
const TABLE_MODULES = ["trilut_lutram.v", "trilut_table.v", "trilut_precompute.v"];
/** The streaming core around them: descriptor queues, ping-pong weight buffer, AXI loader. */
const STREAM_MODULES = ["trilut_fifo.v", "trilut_stream_buffer.v", "trilut_axi_loader.v", "trilut_stream_core.v"];

export const TOP_MODULE = "trilut_engine";

/** Every Verilog file of an engine: the generated top and pattern ROM, then the hw/ modules. */
export function generateRtl(geo: EngineGeometry): SourceFile[] {
  const version = packageVersion();
  const { cfg } = geo;
  const top = renderTemplate("rtl/trilut_engine.v.hbs", {
    version,
    cfg,
    geo,
    ports: enginePorts(geo).map((p, i, all) => ({
      ...p,
      range: p.width > 1 ? `[${p.width - 1}:0] ` : "",
      sep: i + 1 < all.length ? "," : "",
    })),
    desc: descriptorWidths(geo),
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
    ...[...(cfg.kind === "tlmm" ? TABLE_MODULES : []), ...COMPUTE_MODULES, ...STREAM_MODULES].map((name) => ({ name, content: readFileSync(join(PACKAGE_ROOT, "hw", name), "utf8") })),
  ];
}
