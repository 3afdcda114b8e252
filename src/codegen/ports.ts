import { type EngineGeometry } from "../engine/config.js";

export interface Port {
  readonly name: string;
  readonly dir: "input" | "output";
  readonly width: number;
}

/** Bits of the command fields. */
export function commandWidths(geo: EngineGeometry): { countBits: number; groupBits: number } {
  return {
    countBits: Math.max(1, Math.ceil(Math.log2(geo.cfg.bufferDepth + 1))),
    groupBits: Math.max(1, Math.ceil(Math.log2(geo.maxGroups + 1))),
  };
}

/**
 * The engine's ports, defined once: the generated Verilog top and the generated simulator binding
 * both come from this list.
 */
export function enginePorts(geo: EngineGeometry): Port[] {
  const { countBits, groupBits } = commandWidths(geo);
  const p = (name: string, dir: Port["dir"], width = 1): Port => ({ name, dir, width });
  return [
    p("clk", "input"),
    p("rst", "input"),
    p("cmd_valid", "input"),
    p("cmd_ready", "output"),
    p("cmd_op", "input"),
    p("cmd_count", "input", countBits),
    p("cmd_groups", "input", groupBits),
    p("cmd_clear", "input"),
    p("cmd_drain", "input"),
    p("w_valid", "input"),
    p("w_ready", "output"),
    p("w_data", "input", geo.weightBeatBits),
    p("x_valid", "input"),
    p("x_ready", "output"),
    p("x_data", "input", geo.actBeatBits),
    p("y_valid", "output"),
    p("y_ready", "input"),
    p("y_data", "output", geo.resultBeatBits),
    p("y_last", "output"),
    p("busy", "output"),
  ];
}
