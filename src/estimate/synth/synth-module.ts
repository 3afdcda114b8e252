import { type Budget } from "../../budget/budget.js";
import { generateRtl, TOP_MODULE } from "../../codegen/rtl.js";
import { type EngineGeometry } from "../../engine/config.js";
import { moduleBaseName } from "../netlist-timing.js";
import { yosysFamilyOf } from "./synth.js";
import { runYosys } from "./yosys.js";

/**
 * Synthesis time per module, for the benchmark: each module the engine elaborates (with the
 * parameters the engine gives it) synthesized on its own, out of context, its submodules left as
 * black boxes, so the seconds are those of its own logic. Not cached: it measures yosys.
 */
export interface ModuleSynthTime {
  /** hw/ module name; a second parameter set of a module is `name#2`, as in SynthResult.modules. */
  module: string;
  seconds: number;
  /** Cells yosys mapped the module's own logic to. */
  cells: number;
}

export interface ModuleSynthTimes {
  /** One yosys run that only reads and elaborates the engine: every per-module run pays it too. */
  elaborationSeconds: number;
  modules: ModuleSynthTime[];
}

function elaborate(files: readonly string[]): string {
  return [`read_verilog -defer ${files.join(" ")}`, `hierarchy -top ${TOP_MODULE}`].join("\n");
}

export async function moduleSynthesisTimes(
  geo: EngineGeometry,
  family: Budget["family"],
  opts: { timeoutSeconds?: number; onModule?: (t: ModuleSynthTime) => void } = {},
): Promise<ModuleSynthTimes> {
  const rtl = generateRtl(geo);
  const files = Object.fromEntries(rtl.map((f) => [f.name, f.content]));
  const names = rtl.map((f) => f.name);
  const timeout = opts.timeoutSeconds ?? 600;

  let t0 = performance.now();
  const listed = await runYosys(TOP_MODULE, `${elaborate(names)}\ntee -q -o modules.txt ls\n`, files, ["modules.txt"], timeout);
  const elaborationSeconds = (performance.now() - t0) / 1000;
  // `ls` lists one derived module per indented line: `$paramod$<hash>\trilut_compute`
  const derived = (listed["modules.txt"] ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^\d+ modules?:$/.test(l))
    .sort();

  const seen = new Map<string, number>();
  const modules: ModuleSynthTime[] = [];
  for (const raw of derived) {
    const base = moduleBaseName(raw);
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    const others = derived.filter((d) => d !== raw);
    const script = [
      elaborate(names),
      `hierarchy -top ${raw}`,
      // submodules become black boxes (a name no longer in the design only draws a warning)
      ...(others.length > 0 ? [`blackbox ${others.join(" ")}`] : []),
      `synth_xilinx -family ${yosysFamilyOf(family)} -top ${raw} -noiopad -noclkbuf`,
      "tee -q -o stat.json stat -json",
      "",
    ].join("\n");
    t0 = performance.now();
    const out = await runYosys(raw, script, files, ["stat.json"], timeout);
    const seconds = (performance.now() - t0) / 1000;
    const stat = JSON.parse(out["stat.json"] ?? "{}") as { modules?: Record<string, { num_cells?: number }> };
    const t: ModuleSynthTime = { module: k === 1 ? base : `${base}#${k}`, seconds, cells: (stat.modules?.[raw] ?? stat.modules?.[`\\${raw}`])?.num_cells ?? 0 };
    opts.onModule?.(t);
    modules.push(t);
  }
  return { elaborationSeconds, modules };
}
