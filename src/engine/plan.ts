import { readFileSync } from "node:fs";
import { type Budget } from "../budget/budget.js";
import { checkFits, type ResourceEstimate } from "../estimate/resources.js";
import { UserError } from "../util/errors.js";
import { engineGeometry, parseEngineOverrides, resolveEngine, type EngineConfig, type EngineGeometry } from "./config.js";

export interface PlannedEngine {
  readonly cfg: EngineConfig;
  readonly geo: EngineGeometry;
  readonly resources: ResourceEstimate;
}

export function readEngineFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path}: cannot read engine file`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * The engine for a budget: the defaults, adapted to the part (block RAM for the weight buffer
 * where there is no URAM), then an engine file, then `--set` overrides; validated, and refused
 * when it does not fit the budget.
 */
export function planEngine(budget: Budget, opts: { engineFile?: string | undefined; set?: readonly string[] | undefined }): PlannedEngine {
  const partial: Record<string, unknown> = {};
  if (budget.uram === 0) partial["weightMemory"] = "bram";
  let where = "engine";
  if (opts.engineFile) {
    Object.assign(partial, readEngineFile(opts.engineFile));
    where = opts.engineFile;
  }
  if (opts.set?.length) {
    Object.assign(partial, parseEngineOverrides(opts.set));
    where = opts.engineFile ? `${opts.engineFile} with --set` : "--set";
  }
  const cfg = resolveEngine(partial, where);
  const geo = engineGeometry(cfg);
  const resources = checkFits(geo, budget);
  return { cfg, geo, resources };
}
