import { resolveBudget, type Budget } from "../budget/budget.js";
import { planEngine, type PlannedEngine } from "../plan/plan.js";
import { type OpenOptions } from "../model/open.js";
import { UserError } from "../util/errors.js";

export interface EngineArgs {
  device?: string | undefined;
  budget?: string | undefined;
  engine?: string | undefined;
  set?: string[] | undefined;
}

export function plan(args: EngineArgs): { budget: Budget; engine: PlannedEngine } {
  const budget = resolveBudget(args);
  return { budget, engine: planEngine(budget, { engineFile: args.engine, set: args.set ?? [] }) };
}

/** Options of every command that reads a model. */
export interface ModelArgs {
  scaleDirection?: string | undefined;
}

/** How to open the model the command names. */
export function openOptions(args: ModelArgs): OpenOptions {
  const d = args.scaleDirection;
  if (d === undefined) return {};
  if (d !== "multiply" && d !== "divide") throw new UserError(`--scale-direction ${d}: expected multiply or divide`);
  return { scaleDirection: d };
}


export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** What a command runs in hardware: the whole decoder block (the default) or its ternary matmuls alone. */
export type Scope = "block" | "matmuls";

export function scopeOf(scope: string | undefined): Scope {
  if (scope === undefined || scope === "block" || scope === "matmuls") return scope ?? "block";
  throw new UserError(`--scope ${scope}: expected block or matmuls`);
}
