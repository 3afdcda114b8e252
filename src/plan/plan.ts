import { readFileSync } from "node:fs";
import { type Budget } from "../budget/budget.js";
import { checkFits, type ResourceEstimate } from "../estimate/resources.js";
import { UserError } from "../util/errors.js";
import { engineGeometry, parseEngineOverrides, resolveEngine, type EngineConfig, type EngineGeometry } from "../engine/config.js";

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

/** What a part decides of an engine: where it has no UltraRAM, the weight buffer is block RAM. */
export function partDefaults(budget: Budget): Partial<EngineConfig> {
  return budget.uram === 0 ? { weightMemory: "bram" } : {};
}

/**
 * An engine's config for a budget: the defaults, adapted to the part, then an engine file, then
 * overrides; validated (errors at `where`), not yet held to the budget.
 */
export function configFor(
  budget: Budget,
  opts: { engineFile?: string | undefined; overrides: Readonly<Record<string, unknown>>; where: string },
): EngineConfig {
  return resolveEngine({ ...partDefaults(budget), ...(opts.engineFile ? readEngineFile(opts.engineFile) : {}), ...opts.overrides }, opts.where);
}

/**
 * The engine for a budget: the defaults, adapted to the part (block RAM for the weight buffer
 * where there is no URAM), then an engine file, then `--set` overrides; validated, and refused
 * when it does not fit the budget.
 */
export function planEngine(budget: Budget, opts: { engineFile?: string | undefined; set?: readonly string[] | undefined }): PlannedEngine {
  const where = opts.set?.length ? (opts.engineFile ? `${opts.engineFile} with --set` : "--set") : (opts.engineFile ?? "engine");
  const cfg = configFor(budget, { engineFile: opts.engineFile, overrides: opts.set?.length ? parseEngineOverrides(opts.set) : {}, where });
  const geo = engineGeometry(cfg);
  const resources = checkFits(geo, budget);
  return { cfg, geo, resources };
}
