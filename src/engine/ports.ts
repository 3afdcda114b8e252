import { type EngineGeometry } from "./config.js";
import { DESCRIPTOR_FIELDS, descriptorPort, descriptorWidths, MEM_ADDRESS_BITS } from "./descriptor.js";

export interface Port {
  readonly name: string;
  readonly dir: "input" | "output";
  readonly width: number;
}

/**
 * The engine's ports, defined once: the generated Verilog top and the generated simulator binding
 * both come from this list.
 */
export function enginePorts(geo: EngineGeometry): Port[] {
  const p = (name: string, dir: Port["dir"], width = 1): Port => ({ name, dir, width });
  const compute = [
    p("x_valid", "input"),
    p("x_ready", "output"),
    p("x_data", "input", geo.actBeatBits),
    p("y_valid", "output"),
    p("y_ready", "input"),
    p("y_data", "output", geo.resultBeatBits),
    p("y_last", "output"),
    p("busy", "output"),
  ];
  const d = descriptorWidths(geo);
  return [
    p("clk", "input"),
    p("rst", "input"),
    p("desc_valid", "input"),
    p("desc_ready", "output"),
    ...DESCRIPTOR_FIELDS.map((f) => p(descriptorPort(f.name), "input", d[f.name])),
    p("ar_valid", "output"),
    p("ar_ready", "input"),
    p("ar_addr", "output", MEM_ADDRESS_BITS),
    p("ar_len", "output", 8),
    p("r_valid", "input"),
    p("r_ready", "output"),
    p("r_data", "input", geo.cfg.memBits),
    p("r_last", "input"),
    ...compute,
  ];
}
