import { basename } from "node:path";
import { printable } from "./quote.js";

/**
 * A problem with what the user gave us (a file, a flag, a budget): printed as one line, exit code 2.
 * Anything else that escapes is a bug in trilut and keeps its stack trace. The message quotes what
 * it was given (a field name, a tensor name, a parser's excerpt of the text), so its control
 * characters are made visible here, once for every caller: one line for the terminal, a JUnit
 * report or a library user alike.
 */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(message: string) {
    super(printable(message));
  }
}

/** The simulated design disagreed with the reference or hung: exit code 1, like a failed test. */
export class SimulationError extends Error {
  override readonly name = "SimulationError";
  constructor(message: string) {
    super(message);
  }
}

/**
 * An external tool (yosys, Verilator and its C++ build, g++, iverilog) failed, was not found or ran
 * past its time limit: exit code 3. Not the user's input and not a mismatch, so CI can tell them
 * apart. `message` is one line; `detail` (the end of the tool's output) is printed after it.
 */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    message: string,
    readonly detail = "",
  ) {
    super(message);
  }
}

/**
 * Runs `fn`; a UserError from inside it gets `where` (a file, a tensor, a field) in front, so a
 * message raised deep in a library ("n must be a positive integer, got 0") says whose value it was.
 * An async `fn` gets the same for the error its promise rejects with.
 */
export function withContext<T>(where: string, fn: () => T): T {
  const add = (err: unknown): never => {
    if (err instanceof UserError && !err.message.startsWith(where)) throw new UserError(`${where}: ${err.message}`);
    throw err;
  };
  let result: T;
  try {
    result = fn();
  } catch (err) {
    return add(err);
  }
  return result instanceof Promise ? (result.catch(add) as T) : result;
}

/**
 * withContext for work on one tensor of a model (compiling, simulating, verifying it): every
 * command names a tensor's problem the same way, `model.gguf: tensor "blk.0.attn_q.weight": ...`.
 */
export function inTensor<T>(modelPath: string, tensorName: string, fn: () => T): T {
  return withContext(`${basename(modelPath)}: tensor "${tensorName}"`, fn);
}
