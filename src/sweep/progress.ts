/**
 * Progress of a long job on stderr: on a terminal, one line redrawn in place with the rate and the
 * time left; otherwise (CI logs, pipes) a plain line every few seconds, so logs stay short.
 */
export class Progress {
  private readonly start = performance.now();
  private last = 0;
  /** Lines printed so far: off a terminal, a run too short for any says nothing at its end either. */
  private shown = 0;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly what: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number): void {
    if (this.quiet || done >= this.total) return; // finish() prints the last line
    const now = performance.now();
    if (now - this.last < (this.tty ? 100 : 5000)) return;
    this.last = now;
    this.shown++;
    const line = this.line(done, now);
    this.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(done: number): void {
    // a short run off a terminal stays quiet, so a failure after it is still the one line on stderr
    if (this.quiet || (!this.tty && this.shown === 0)) return;
    this.stream.write(`${this.tty ? "\r" : ""}${this.line(done, performance.now())}${this.tty ? "\x1b[K" : ""}\n`);
  }

  private line(done: number, now: number): string {
    const seconds = (now - this.start) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? (this.total - done) / rate : Infinity;
    const pct = this.total > 0 ? ((done / this.total) * 100).toFixed(1) : "100.0";
    return (
      `${done.toLocaleString("en-US")} / ${this.total.toLocaleString("en-US")} ${this.what} (${pct}%), ` +
      `${Math.round(rate).toLocaleString("en-US")}/s, ${done >= this.total ? `done in ${clock(seconds)}` : `ETA ${clock(left)}`}`
    );
  }
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
