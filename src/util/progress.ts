import cliProgress from "cli-progress";

/**
 * What a long step (a Verilator or g++ build, a yosys synthesis, a large simulation) shows while it
 * runs, always on stderr so that `--json` leaves stdout one JSON document. On a terminal: a bar
 * (cli-progress) that fills over the step's usual duration and shows the time spent; otherwise
 * (CI logs, pipes): one line when the step starts, so a log that stops says where.
 * The tools report no progress of their own, so the bar is an estimate and says so (`~`).
 */
export interface Step {
  /** The step ended (either way): the bar goes away. */
  done(): void;
}

const NOTHING: Step = { done: () => undefined };

export function step(label: string, usualSeconds: number, stream: NodeJS.WriteStream = process.stderr): Step {
  if (process.env["TRILUT_QUIET"] === "1") return NOTHING;
  if (stream.isTTY !== true) {
    stream.write(`trilut: ${label} (usually ~${Math.round(usualSeconds)} s)\n`);
    return NOTHING;
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] ~{percentage}% {duration_formatted}`,
      hideCursor: false,
      clearOnComplete: true,
      barsize: 24,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, Math.round(usualSeconds * 10));
  const started = performance.now();
  bar.start(total, 0);
  // an estimate: never shows complete before the step is
  const timer = setInterval(() => bar.update(Math.min(total - 1, Math.round((performance.now() - started) / 100))), 200);
  timer.unref();
  let ended = false;
  return {
    done() {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      bar.stop();
    },
  };
}

/** Runs `body` as a step: the bar ends however the body ends. */
export async function asStep<T>(label: string, usualSeconds: number, body: () => Promise<T>): Promise<T> {
  const s = step(label, usualSeconds);
  try {
    return await body();
  } finally {
    s.done();
  }
}
