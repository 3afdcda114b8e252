import { runCheck, type Planned } from "./run.js";

/**
 * The process one verify check runs in (./isolate.ts): a native simulation cannot be interrupted
 * from its own thread, so a check past its time limit is stopped by ending this process.
 */
process.once("message", (p: Planned) => {
  runCheck(p).then(
    (result) => process.send!({ result }, undefined, undefined, () => process.exit(0)),
    (err: unknown) => process.send!({ internal: err instanceof Error ? (err.stack ?? err.message) : String(err) }, undefined, undefined, () => process.exit(0)),
  );
});
