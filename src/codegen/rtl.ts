import { type EngineGeometry } from "../engine/config.js";
import { engineSources } from "../units/engine.js";
import { type SourceFile } from "../units/unit.js";

export { TOP_MODULE } from "../units/top.js";
export type { SourceFile };

/**
 * Every Verilog file of an engine: the files of its hardware units (src/units/engine.ts), the
 * generated top and pattern ROM among them.
 */
export function generateRtl(geo: EngineGeometry): SourceFile[] {
  return engineSources(geo);
}
