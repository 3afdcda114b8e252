import { adderSteps, PathList } from "../../fabric/paths.js";
import { carryCells, res, type Family, type ModuleResources } from "../../fabric/resources.js";
import { packageVersion, renderTemplate } from "../../util/templates.js";
import { hw, type SourceFile } from "../unit.js";
import { type DecoderUnit } from "./decoder-unit.js";
import { pipelineCycles, type UnitStream } from "./elementwise-common.js";

/**
 * The residual add (hw/trilut_residual.v): h' = sat32(h + o) over the residual stream and a
 * sublayer's output, in lockstep. Bit for bit: src/ref/spec/elementwise.ts residualAdd.
 */

/** The 33-bit sum, then the saturation. */
export const RESIDUAL_LATENCY = 2;

export function residualCycles(n: number, tokens: number): number {
  return pipelineCycles(RESIDUAL_LATENCY, n, tokens);
}

export const RESIDUAL_INPUTS: readonly UnitStream[] = [
  { name: "h", width: 32, last: true, cxxType: "int32_t" },
  { name: "o", width: 32, cxxType: "int32_t" },
];
export const RESIDUAL_OUTPUTS: readonly UnitStream[] = [{ name: "out", width: 32, last: true, cxxType: "int32_t" }];

export function residualHls(): SourceFile {
  return { name: "trilut_residual.cpp", content: renderTemplate("hls/decoder/residual.cpp.hbs", { version: packageVersion() }) };
}

/**
 * Resources of trilut_residual, independent of the shape. FF structural: valid and last bits per
 * stage (2 × 2), the 33-bit sum, the 32-bit result. LUT as yosys maps it (UltraScale+, 67: the
 * adder's LUTs, the saturation select, the handshake); carry structural: one 33-bit chain. Not
 * calibrated on 7-series: the same figures.
 */
export function residualResources(family: Family): ModuleResources {
  return res({ lut: 67, ff: 2 * RESIDUAL_LATENCY + 33 + 32, carry: carryCells(33, family) });
}

export const residualUnit: DecoderUnit = {
  name: "residual",
  summary: "h' = sat32(h + o): the residual stream plus a sublayer's output, as A values; one element a cycle.",
  has: () => true,
  rtl: () => hw("trilut_residual.v"),
  resources: (_shape, family) => [{ module: "trilut_residual", instances: 1, resources: residualResources(family) }],
  paths: () => {
    const p = new PathList();
    p.add("trilut_residual", "33-bit sum", "port", adderSteps(33), "ff");
    p.add("trilut_residual", "saturate to 32 bits", "ff", ["lut", "lut"], "ff");
    return p.paths;
  },
  cycles: "a pipeline of RESIDUAL_LATENCY registers at one element a cycle: tokens·hidden + latency (residualCycles)",
  cycleFigures: () => ({ latency: RESIDUAL_LATENCY, perElement: 1 }),
  hls: () => residualHls(),
};
