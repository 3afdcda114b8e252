import { type EngineGeometry } from "../../engine/config.js";
import { passShape, passStart, passStep, runEnd } from "./pass.js";

/**
 * One pass of the streaming core (hw/trilut_stream_core.v), one iteration per weight step: from the
 * cycle the compute side takes the tile to the cycle it is idle again with every result beat out,
 * when no stream stalls (tests compare it with Verilator). The recurrence itself is ./pass.ts;
 * ./closed-form.ts's passCycles gives the same in a few steps.
 */
export function runCycles(geo: EngineGeometry, steps: number, groups: number, sweep?: { gsteps: number }): number {
  const p = passShape(geo, steps, groups, sweep);
  const st = passStart();
  while (st.done < steps) passStep(p, st);
  return runEnd(geo, st.next - 1, groups, p.sweeps);
}
