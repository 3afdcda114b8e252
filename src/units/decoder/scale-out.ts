import { type DelayModel } from "../../fabric/delays.js";
import { adderSteps, muxSteps, PathList } from "../../fabric/paths.js";
import { carryCells, res, type Family, type ModuleResources } from "../../fabric/resources.js";
import { type BlockShape } from "../../model/block-shape.js";
import { packageVersion, renderTemplate } from "../../util/templates.js";
import { hw, type SourceFile } from "../unit.js";
import { type DecoderUnit } from "./decoder-unit.js";
import { pipelineCycles, type UnitStream } from "./elementwise-common.js";

/**
 * Scale-out (hw/trilut_scale_out.v): the matmul engine's int32 outputs times their token's
 * activation scale, as A values; one scale word per token, taken with (or before) the token's first
 * element. Bit for bit: src/ref/spec/elementwise.ts scaleOut. It replaces, for the decoder's
 * matmuls, the per-token step the old unregistered dequantization did in one path.
 */

/** Input, product (2: the DSPs' M and P), coarse and fine shift, saturate to 35 bits, round and saturate. */
export const SCALE_OUT_LATENCY = 7;

/** Cycles of `tokens` vectors of n outputs through the unit, back to back. */
export function scaleOutCycles(n: number, tokens: number): number {
  return pipelineCycles(SCALE_OUT_LATENCY, n, tokens);
}

export const SCALE_OUT_INPUTS: readonly UnitStream[] = [
  { name: "y", width: 32, last: true, cxxType: "int32_t" },
  { name: "s", width: 24, cxxType: "uint32_t" },
];
export const SCALE_OUT_OUTPUTS: readonly UnitStream[] = [{ name: "a", width: 32, last: true, cxxType: "int32_t" }];

export function scaleOutHls(n: number): SourceFile {
  return { name: "trilut_scale_out.cpp", content: renderTemplate("hls/decoder/scale-out.cpp.hbs", { version: packageVersion(), n }) };
}

/**
 * Resources of trilut_scale_out, independent of the shape (yosys synth_xilinx -family xcup; not
 * calibrated on 7-series: the same figures). DSP structural: Y (32 bits) × m (17 bits signed) takes
 * 2 DSP48E2. FF: 339 structural (the two 81-bit shift stages, the 35- and 32-bit results, Y, m,
 * the held scale, the shift amounts, valid and last bits) plus 65 of the product's registers that
 * yosys keeps outside the DSPs; LUTRAM: 8 SRL16 (the shift amount and last bits delayed); LUT: the
 * two shift stages (≈ 81 × 2 × 4:1 muxes) and the 47-bit sign check, 484 as mapped. Carry
 * structural: the exponent's subtract, the partial products' 48-bit sum, the 36-bit rounding add.
 */
export function scaleOutResources(family: Family): ModuleResources {
  return res({ lut: 484, ff: 404, lutram: 8, dsp: 2, carry: carryCells(9, family) + carryCells(48, family) + carryCells(36, family) });
}

function scaleOutPaths(m: DelayModel): PathList {
  const p = new PathList();
  const mod = "trilut_scale_out";
  p.add(mod, "the token's shift from its exponent (first element)", "port", [...adderSteps(9), "lut", "lut"], "ff");
  p.add(mod, "Y·m partial products summed", "dsp", m.family === "7series" ? ["dsp-cascade", "lut", { carry: 48 }] : ["lut", { carry: 48 }], "ff");
  p.add(mod, "coarse shift (11-way)", "ff", muxSteps(11, m), "ff");
  p.add(mod, "fine shift (8-way)", "ff", muxSteps(8, m), "ff");
  p.add(mod, "saturate to 35 bits (47-bit sign check)", "ff", ["lut", "lut", "lut"], "ff");
  p.add(mod, "round half up, saturate to 32 bits", "ff", [...adderSteps(36), "lut", "lut"], "ff");
  return p;
}

export const scaleOutUnit: DecoderUnit = {
  name: "scale-out",
  summary:
    "A = sat32(round(Y·m·2^(e+8))): the engine's int32 outputs (8 fraction bits) times the token's activation scale m·2^e, as A values; one element a cycle, exact for every 8-bit exponent.",
  has: () => true,
  rtl: () => hw("trilut_scale_out.v"),
  resources: (_shape, family) => [{ module: "trilut_scale_out", instances: 1, resources: scaleOutResources(family) }],
  paths: (_shape, m) => scaleOutPaths(m).paths,
  cycles: "a pipeline of SCALE_OUT_LATENCY registers at one element a cycle: tokens·n + latency (scaleOutCycles)",
  cycleFigures: () => ({ latency: SCALE_OUT_LATENCY, perElement: 1 }),
  hls: (shape: BlockShape) => scaleOutHls(shape.hidden),
};
