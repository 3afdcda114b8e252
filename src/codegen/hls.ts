import { type EngineGeometry } from "../engine/config.js";
import { entryPattern } from "../engine/encoding.js";
import { wordsForBits } from "../engine/pack.js";
import { unitsOf } from "../units/engine.js";
import { HLS_SLOTS, hlsParts, type HlsSlot } from "../units/unit.js";
import { packageVersion, renderTemplate, type RuntimePartial } from "../util/templates.js";
import { type SourceFile } from "./rtl.js";
import { DESCRIPTOR_HEADER, descriptorHeader } from "./descriptor-header.js";
import { UserError } from "../util/errors.js";

/** The top function of the generated HLS engine. */
export const HLS_TOP = "trilut_engine";

/** Widest port Vitis HLS builds: an AXI4 m_axi data bus, and any aggregated axis stream. */
const MAX_MAXI_BITS = 1024;
const MAX_AXIS_BITS = 4096;

/**
 * Refuses, in one line, an engine the HLS template cannot express: the streaming engine behind
 * AXI4 interfaces of the widths Vitis HLS builds.
 */
export function checkHlsSupport(geo: EngineGeometry, where = "engine"): void {
  const { cfg } = geo;
  if (cfg.memBits > MAX_MAXI_BITS) {
    throw new UserError(`${where}: /memBits: ${cfg.memBits}-bit memory beats do not fit an AXI4 m_axi port (at most ${MAX_MAXI_BITS} bits in Vitis HLS)`);
  }
  if (geo.actBeatBits > MAX_AXIS_BITS) {
    throw new UserError(
      `${where}: /T: activation beats of T·G·8 = ${geo.actBeatBits} bits exceed the ${MAX_AXIS_BITS}-bit limit of a Vitis HLS axis port; at most T = ${Math.floor(MAX_AXIS_BITS / (8 * cfg.G))} for G = ${cfg.G}`,
    );
  }
  if (geo.resultBeatBits > MAX_AXIS_BITS) {
    throw new UserError(
      `${where}: /P: result beats of P·32 = ${geo.resultBeatBits} bits exceed the ${MAX_AXIS_BITS}-bit limit of a Vitis HLS axis port; at most P = ${MAX_AXIS_BITS / 32}`,
    );
  }
}

/** File names of the generated HLS sources, in the order a build compiles them. */
export const HLS_HEADERS = [DESCRIPTOR_HEADER, "trilut_hls_stream.h", "trilut_engine.h"] as const;
export const HLS_ENGINE = "trilut_engine.cpp";
export const HLS_TESTBENCH = "trilut_tb.cpp";

/**
 * The HLS engine of a geometry: the stream header, the configuration header (from the same
 * geometry as the RTL parameters), the engine and its C testbench. Deterministic, and independent
 * of any model, so the same sources serve `compile --hls` and `sim --backend hls`.
 */
export function generateHls(geo: EngineGeometry): SourceFile[] {
  checkHlsSupport(geo);
  const { cfg } = geo;
  const version = packageVersion();
  const tables = cfg.kind === "tlmm";
  const mirrored = tables && cfg.encoding === "mirrored";
  const cxxBool = (b: boolean): string => (b ? "true" : "false");
  const context = {
    version,
    cfg,
    geo,
    tables,
    mirrored,
    dequant: cfg.dequant,
    cxx: { mirrored: cxxBool(mirrored), baseline: cxxBool(!tables), dequant: cxxBool(cfg.dequant) },
    actWords: wordsForBits(geo.actBeatBits),
    bufferImpl: cfg.weightMemory === "uram" ? "uram" : "bram",
    // the loader may run a few bursts ahead of the buffer
    beatFifo: 2 * cfg.maxBurst,
    patterns: tables
      ? Array.from({ length: geo.entries }, (_, e) => {
          const trits = entryPattern(e, cfg.G, cfg.encoding);
          return { trits: trits.map((t) => String(t).padStart(2)).join(", "), comment: `entry ${e}: ${trits.map((t) => (t > 0 ? "+" : t < 0 ? "-" : "0")).join("")}` };
        })
      : [],
  };
  return [
    descriptorHeader(geo),
    { name: "trilut_hls_stream.h", content: renderTemplate("hls/trilut_hls_stream.h.hbs", { version }) },
    { name: "trilut_engine.h", content: renderTemplate("hls/trilut_engine.h.hbs", context) },
    { name: HLS_ENGINE, content: hlsEngine(geo, context) },
    { name: HLS_TESTBENCH, content: renderTemplate("hls/trilut_tb.cpp.hbs", { version, actWords: context.actWords }) },
  ];
}

/**
 * trilut_engine.cpp, assembled from the engine's units: the frame (templates/hls/trilut_engine.cpp.hbs)
 * names the sections in the file's order; each section, and each slot inside a section's partial,
 * takes the partials (templates/hls/units/) of the units this engine has, in the order of
 * ENGINE_UNITS. A unit the engine lacks adds nothing: a baseline engine has no tables.
 */
function hlsEngine(geo: EngineGeometry, context: object): string {
  const bySlot = new Map<HlsSlot, string[]>(HLS_SLOTS.map((slot) => [slot, []]));
  for (const unit of unitsOf(geo)) {
    for (const part of hlsParts(unit, geo)) bySlot.get(part.slot)!.push(part.partial);
  }
  const partials: Record<string, RuntimePartial> = {
    common: () => renderTemplate("hls/common.cpp.hbs", context),
  };
  for (const [slot, names] of bySlot) {
    partials[slot] = () => names.map((name) => renderTemplate(hlsPartialPath(name), context, partials)).join("");
  }
  return renderTemplate("hls/trilut_engine.cpp.hbs", context, partials);
}

/** The template of a unit's HLS partial, under templates/. */
export function hlsPartialPath(partial: string): string {
  return `hls/units/${partial}.cpp.hbs`;
}
