import { type EngineGeometry } from "../engine/config.js";
import { DESCRIPTOR_FIELDS, DESCRIPTOR_WORDS, descriptorPort, descriptorWidths, modeLayout } from "../engine/descriptor.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { type SourceFile } from "./rtl.js";

export const DESCRIPTOR_HEADER = "trilut_descriptor.h";

/**
 * The C++ side of the descriptor layout (src/engine/descriptor.ts): the struct, its stream words,
 * the mode word's fields and the poke onto the RTL ports. The Verilator host and the HLS engine and
 * testbench include it, so none of them names a word index or a mode bit by hand.
 */
export function descriptorHeader(geo: EngineGeometry): SourceFile {
  const widths = descriptorWidths(geo);
  const content = renderTemplate("cxx/trilut_descriptor.h.hbs", {
    version: packageVersion(),
    words: DESCRIPTOR_WORDS,
    fields: DESCRIPTOR_FIELDS.map((f, index) => ({ name: f.name, upper: f.name.toUpperCase(), index, bits: widths[f.name], doc: f.doc, port: descriptorPort(f.name) })),
    mode: modeLayout().map((f) => ({ ...f, upper: f.name.toUpperCase(), flag: f.bits === 1, type: f.bits === 1 ? "bool" : "uint32_t" })),
  });
  return { name: DESCRIPTOR_HEADER, content };
}
