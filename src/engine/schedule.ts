import { UserError } from "../util/errors.js";
import { type EngineGeometry } from "./config.js";

/**
 * How one matmul (n×k weights, M tokens) runs on the engine: a list of commands the host streams.
 *
 * Rows are split into tiles whose partial sums fit the accumulator memory; a tile's steps into
 * chunks whose weights fit the buffer (steps·groups ≤ depth). Partial sums hold one token, so
 * with several chunks each token walks all chunks (reloading them); with one chunk the weights
 * load once and every token reuses them.
 */
export interface LoadCommand {
  readonly op: "load";
  readonly firstRow: number;
  readonly rows: number;
  readonly firstStep: number;
  readonly steps: number;
  /** Weight beats: steps × row groups. */
  readonly beats: number;
}

export interface RunCommand {
  readonly op: "run";
  readonly token: number;
  readonly firstRow: number;
  readonly rows: number;
  /** Row groups: ceil(rows / P). */
  readonly groups: number;
  readonly firstStep: number;
  readonly steps: number;
  /** Start from zero partial sums (first chunk) / stream the sums out (last chunk). */
  readonly clear: boolean;
  readonly drain: boolean;
}

export type Command = LoadCommand | RunCommand;

export interface Schedule {
  readonly n: number;
  readonly k: number;
  readonly tokens: number;
  readonly steps: number;
  readonly rowsPerTile: number;
  readonly stepsPerChunk: number;
  readonly commands: Command[];
}

export function scheduleMatmul(geo: EngineGeometry, n: number, k: number, tokens: number): Schedule {
  for (const [what, v] of [["n", n], ["k", k], ["tokens", tokens]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`${what} must be a positive integer, got ${v}`);
  }
  const { P, bufferDepth } = geo.cfg;
  const steps = Math.ceil(k / geo.stepActivations);
  // a tile must fit the partial sums and leave room in the buffer for at least one step
  const rowsPerTile = Math.min(n, geo.maxGroups * P, bufferDepth * P);
  const tileGroups = Math.ceil(rowsPerTile / P);
  const stepsPerChunk = Math.min(steps, Math.floor(bufferDepth / tileGroups));
  const commands: Command[] = [];
  let resident = "";
  for (let firstRow = 0; firstRow < n; firstRow += rowsPerTile) {
    const rows = Math.min(rowsPerTile, n - firstRow);
    const groups = Math.ceil(rows / P);
    for (let token = 0; token < tokens; token++) {
      for (let firstStep = 0; firstStep < steps; firstStep += stepsPerChunk) {
        const chunkSteps = Math.min(stepsPerChunk, steps - firstStep);
        const key = `${firstRow}/${firstStep}`;
        if (key !== resident) {
          commands.push({ op: "load", firstRow, rows, firstStep, steps: chunkSteps, beats: chunkSteps * groups });
          resident = key;
        }
        commands.push({
          op: "run",
          token,
          firstRow,
          rows,
          groups,
          firstStep,
          steps: chunkSteps,
          clear: firstStep === 0,
          drain: firstStep + chunkSteps === steps,
        });
      }
    }
  }
  return { n, k, tokens, steps, rowsPerTile, stepsPerChunk, commands };
}
