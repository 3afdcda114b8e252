import { parentPort, workerData } from "node:worker_threads";
import { evaluateChunk, PointEvaluator, type SweepInputs } from "./evaluate.js";

/**
 * A sweep worker thread: evaluates the chunks the main thread sends (a chunk number per message)
 * and answers with the chunk's results. The inputs arrive once, as workerData.
 */
const inputs = workerData as SweepInputs;
const evaluator = new PointEvaluator(inputs);

parentPort!.on("message", (c: number) => {
  try {
    parentPort!.postMessage({ chunk: c, results: evaluateChunk(evaluator, inputs.space, c) });
  } catch (err) {
    parentPort!.postMessage({ chunk: c, error: (err as Error).message });
  }
});
