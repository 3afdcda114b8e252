/**
 * A problem with what the user gave us (a file, a flag, a budget): printed as one line, exit code 2.
 * Anything else that escapes is a bug in trilut and keeps its stack trace.
 */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(message: string) {
    super(message);
  }
}

/** The simulated design disagreed with the reference or hung: exit code 1, like a failed test. */
export class SimulationError extends Error {
  override readonly name = "SimulationError";
  constructor(message: string) {
    super(message);
  }
}
