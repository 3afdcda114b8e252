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
 */
export function withContext<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserError && !err.message.startsWith(where)) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
}
