import { Worker } from "node:worker_threads";
import { presetBudget, PRESETS, readBudgetFile, type Budget } from "../budget/budget.js";
import { UserError } from "../util/errors.js";
import { evaluateChunk, PointEvaluator, type PointResult, type SweepInputs } from "./evaluate.js";
import { loadSweepModel } from "./model.js";
import { writeOutputs, nothingFits } from "./outputs.js";
import { type SweepPoint, type SweepSummary } from "./results.js";
import { Progress } from "./progress.js";
import { buildSpace, chunkRange, shardChunks, type Shard } from "./space.js";
import { loadSweepSpec, type SweepSpec } from "./spec.js";
import { chunksDone, doneChunks, markIncomplete, openSweepDir, specHash, writeChunk, type Manifest } from "./store.js";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { whileRunning, yieldToSignals } from "../util/atomic.js";

/**
 * `trilut sweep`: loads the spec, the model and the budgets, evaluates the chunks of the space (or
 * of a shard) the directory does not hold yet, on `jobs` worker threads, then writes the outputs
 * from every chunk the directory holds.
 */
export interface SweepRunOptions {
  readonly out: string;
  readonly shard?: Shard | undefined;
  readonly jobs: number;
  /** No progress lines (tests, --json piped somewhere). */
  readonly quiet?: boolean;
  /** How many of the best points to return (--verify-top); 0 by default. */
  readonly top?: number;
}

export interface SweepRun {
  readonly inputs: SweepInputs;
  readonly manifest: Manifest;
  readonly summary: SweepSummary;
  /** The `top` best kept points of DIR's share of the sample, best first. */
  readonly top: readonly SweepPoint[];
  /** Points evaluated by this run (not resumed from DIR), and their rate. */
  readonly evaluatedNow: number;
  readonly pointsPerSecond: number;
}

function resolveBudgets(names: readonly string[]): Record<string, Budget> {
  const out: Record<string, Budget> = {};
  for (const name of names) {
    const budget = name in PRESETS ? presetBudget(name) : readBudgetFile(name);
    if (budget.device in out) throw new UserError(`budgets: two budgets are named ${budget.device}`);
    out[budget.device] = budget;
  }
  return out;
}

/** Everything the points of a spec are evaluated from, and the manifest identifying it. */
export function prepareSweep(spec: SweepSpec, specPath: string, shard: Shard | undefined): { inputs: SweepInputs; manifest: Manifest } {
  const budgets = resolveBudgets(spec.budgets);
  const model = loadSweepModel(spec.model, spec.axes["context"] as number[] | undefined);
  const maxContext = model.architecture.contextLength;
  for (const p of (spec.axes["prompt"] ?? []) as number[]) {
    if (maxContext !== undefined && p > maxContext) throw new UserError(`${specPath}: /axes/prompt: ${p} is longer than the model's context length ${maxContext}`);
  }
  const space = buildSpace(spec, Object.keys(budgets), specPath);
  const inputs: SweepInputs = { spec, space, budgets, unitWorkload: model.unitWorkload, defaultContext: model.defaultContext, maxContext };
  const identity = { ...spec, model: model.identity, budgets: Object.values(budgets) };
  const hash = specHash(identity);
  const manifest: Manifest = {
    format: 1,
    specHash: hash,
    spec: identity,
    objectives: spec.objectives,
    axes: space.axes,
    size: space.size,
    count: space.count,
    chunks: space.chunks,
    shard: shard ? `${shard.index}/${shard.of}` : null,
    ...(typeof spec.model === "string" ? { modelPath: spec.model } : {}),
  };
  return { inputs, manifest };
}

export async function runSweep(specPath: string, opts: SweepRunOptions): Promise<SweepRun> {
  const { inputs, manifest } = prepareSweep(loadSweepSpec(specPath), specPath, opts.shard);
  if (!(Number.isInteger(opts.jobs) && opts.jobs >= 1 && opts.jobs <= 256)) throw new UserError(`--jobs ${opts.jobs}: expected 1..256 worker threads`);
  const mine = shardChunks(inputs.space, opts.shard);
  // everything above validated the spec, model and budgets; only now is anything written
  const existed = existsSync(opts.out);
  const created = !existsSync(join(opts.out, "sweep.json"));
  openSweepDir(opts.out, manifest);
  markIncomplete(opts.out);
  const forget = whileRunning(() =>
    process.stderr.write(
      `trilut: interrupted; ${opts.out} keeps ${chunksDone(opts.out, mine.length)} and is marked INCOMPLETE: run the same command again to resume\n`,
    ),
  );
  try {
    return await evaluateAndSummarize(inputs, manifest, mine, opts);
  } catch (err) {
    // a directory this run made holds nothing worth resuming after a failure: leave no trace
    if (created && !existed) rmSync(opts.out, { recursive: true, force: true });
    else if (created) for (const e of readdirSync(opts.out)) rmSync(join(opts.out, e), { recursive: true, force: true });
    throw err;
  } finally {
    forget();
  }
}

async function evaluateAndSummarize(inputs: SweepInputs, manifest: Manifest, mine: readonly number[], opts: SweepRunOptions): Promise<SweepRun> {
  const done = doneChunks(opts.out);
  const todo = mine.filter((c) => !done.has(c));
  const points = (cs: readonly number[]): number => cs.reduce((s, c) => s + (chunkRange(inputs.space, c)[1] - chunkRange(inputs.space, c)[0]), 0);
  const total = points(todo);
  const progress = new Progress(total, "points", process.stderr, opts.quiet ?? false);

  const t0 = performance.now();
  let evaluated = 0;
  const record = (c: number, results: readonly PointResult[]): void => {
    writeChunk(opts.out, c, results);
    evaluated += results.length;
    progress.update(evaluated);
  };
  if (opts.jobs === 1 || todo.length <= 1) {
    const ev = new PointEvaluator(inputs);
    for (const c of todo) {
      record(c, evaluateChunk(ev, inputs.space, c));
      await yieldToSignals(); // Ctrl-C between chunks, not after the whole sweep
    }
  } else {
    await inWorkers(inputs, todo, Math.min(opts.jobs, todo.length), record);
  }
  const seconds = (performance.now() - t0) / 1000;
  progress.finish(evaluated);

  const { summary, top } = await writeOutputs(opts.out, manifest, mine, opts.top ?? 0);
  if (summary.feasible === 0 && !opts.shard) throw new UserError(nothingFits(summary, Object.keys(inputs.budgets)));
  return { inputs, manifest, summary, top, evaluatedNow: evaluated, pointsPerSecond: seconds > 0 ? evaluated / seconds : 0 };
}

/** Hands chunks to `jobs` worker threads, one at a time each, until none is left. */
function inWorkers(inputs: SweepInputs, chunks: readonly number[], jobs: number, record: (c: number, r: PointResult[]) => void): Promise<void> {
  const queue = [...chunks];
  const url = new URL("./worker.js", import.meta.url);
  return new Promise((resolve, reject) => {
    let live = jobs;
    let failed = false;
    const workers: Worker[] = [];
    const stopAll = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(url, { workerData: inputs });
      workers.push(w);
      const next = (): void => {
        const c = queue.shift();
        if (c === undefined) {
          void w.terminate();
          if (--live === 0 && !failed) resolve();
          return;
        }
        w.postMessage(c);
      };
      w.on("message", (m: { chunk: number; results?: PointResult[]; error?: string }) => {
        if (m.error !== undefined) return stopAll(new Error(`sweep worker, chunk ${m.chunk}: ${m.error}`));
        try {
          record(m.chunk, m.results!);
        } catch (err) {
          return stopAll(err as Error);
        }
        next();
      });
      w.on("error", stopAll);
      next();
    }
  });
}
