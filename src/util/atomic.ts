import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "./errors.js";

/**
 * Outputs that appear whole or not at all. Every output is first written to a sibling named
 * `.NAME.PID.partial` (directories) or `.NAME.PID.tmp` (files) and renamed into place when complete,
 * so a failed or interrupted command leaves an earlier output as it was. The siblings of a command
 * killed outright (SIGKILL, a power cut) are removed by the next command that writes beside them,
 * once their PID is dead.
 */

/**
 * `mkdir -p` that fails at once with one line. Node's own recursive mkdirSync spins forever where
 * a parent exists but refuses children (anything under /proc), so each missing level is made in turn.
 */
export function makeDirs(dir: string, what = "output directory"): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new UserError(`${dir}: cannot create the ${what}: ${at} is not a directory`);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && statSync(d).isDirectory()) continue;
      throw new UserError(`${dir}: cannot create the ${what} (${code ?? (err as Error).message} at ${d})`);
    }
  }
}

/**
 * Checks, before any work, that a file can be written at `path`: its directory exists (it is not
 * created: a typo should not make directories) and the path is not a directory.
 */
export function checkOutputFile(path: string, flag: string): void {
  if (path === "") throw new UserError(`${flag}: expected a file name, got an empty one`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new UserError(`${flag} ${path}: the directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UserError(`${flag} ${path}: ${dir} is not a directory`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UserError(`${flag} ${path}: is a directory; name a file`);
  const probe = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, "w"));
    rmSync(probe, { force: true });
  } catch (err) {
    throw new UserError(`${flag} ${path}: cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

// ---- cleaning up on SIGINT / SIGTERM ----

const onInterrupt = new Set<() => void>();
let handlersInstalled = false;

function interrupted(signal: NodeJS.Signals): void {
  for (const fn of [...onInterrupt].reverse()) {
    try {
      fn();
    } catch {
      // cleaning up is best effort: the next run sweeps what is left
    }
  }
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/**
 * Runs `fn` if the process is interrupted (SIGINT, SIGTERM) before the returned function is called;
 * the process then exits 130 / 143 as a shell expects. Installs the handlers on first use.
 */
export function whileRunning(fn: () => void): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on("SIGINT", interrupted);
    process.on("SIGTERM", interrupted);
  }
  onInterrupt.add(fn);
  return () => onInterrupt.delete(fn);
}

/** Gives pending signals a turn: long synchronous loops call it between units of work. */
export function yieldToSignals(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const SIBLING = /^\..+\.(\d+)\.(partial|tmp)(\.[A-Za-z0-9]+)?$/;

/** Removes the `.NAME.PID.partial` / `.tmp` siblings in `dir` whose process is gone. */
export function sweepStale(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = SIBLING.exec(e);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, e), { recursive: true, force: true });
  }
}

/** Writes a file so that readers never see it half-written: write a sibling temp file, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  makeDirs(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const forget = whileRunning(() => rmSync(tmp, { force: true }));
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    forget();
  }
}

/** A file written piece by piece that appears whole at commit(), or not at all after abandon(). */
interface StagedFile {
  put(data: Uint8Array): void;
  commit(): void;
  abandon(): void;
}

/** Opens `.NAME.PID.tmp` beside `path`, removed on a signal, renamed onto `path` at commit(). */
function openStagedFile(path: string): StagedFile {
  makeDirs(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const forget = whileRunning(() => rmSync(tmp, { force: true }));
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
  } catch (err) {
    forget();
    throw err;
  }
  return {
    put(data) {
      let done = 0;
      while (done < data.length) done += writeSync(fd!, data, done, data.length - done);
    },
    commit() {
      closeSync(fd!);
      fd = undefined;
      renameSync(tmp, path);
      forget();
    },
    abandon() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      rmSync(tmp, { force: true });
      forget();
    },
  };
}

/** Writes `data` in pieces to a file that appears whole (a GGUF file of many tensors). */
export function writeFileAtomicStream(path: string, write: (put: (data: Uint8Array) => void) => void): void {
  const file = openStagedFile(path);
  try {
    write((data) => file.put(data));
    file.commit();
  } catch (err) {
    file.abandon();
    throw err;
  }
}

/** A text file written piece by piece that appears whole at commit(), or not at all after abandon(). */
export interface AtomicTextFile {
  write(text: string): void;
  commit(): void;
  abandon(): void;
}

/**
 * Opens a text file to be written as a stream (a sweep's million points): pieces are gathered
 * into about a megabyte before each write, so neither the whole text nor a write per piece is needed.
 */
export function openTextFileAtomic(path: string): AtomicTextFile {
  const file = openStagedFile(path);
  let pending: string[] = [];
  let size = 0;
  const flush = (): void => {
    file.put(Buffer.from(pending.join(""), "utf8"));
    pending = [];
    size = 0;
  };
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) flush();
    },
    commit() {
      flush();
      file.commit();
    },
    abandon: () => file.abandon(),
  };
}

interface Staged {
  readonly tmp: string;
  commit(): void;
  abandon(): void;
}

function stageDir(dir: string): Staged {
  const parent = dirname(resolve(dir));
  makeDirs(parent);
  sweepStale(parent);
  const tmp = join(parent, `.${basename(resolve(dir))}.${process.pid}.partial`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
  } catch (err) {
    throw new UserError(`${dir}: cannot create the output directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const forget = whileRunning(() => rmSync(tmp, { recursive: true, force: true }));
  return {
    tmp,
    commit() {
      // the old output goes only once the new one is complete
      const old = join(parent, `.${basename(resolve(dir))}.old.${process.pid}.partial`);
      if (existsSync(dir)) renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
      forget();
    },
    abandon() {
      rmSync(tmp, { recursive: true, force: true });
      forget();
    },
  };
}

/**
 * Builds an output directory in a temporary sibling and moves it into place only when `fill`
 * succeeds, so a failed command leaves no partial output directory behind and an earlier output
 * as it was.
 */
export function writeDirAtomic<T>(dir: string, fill: (tmpDir: string) => T): T {
  const s = stageDir(dir);
  let result: T;
  try {
    result = fill(s.tmp);
  } catch (err) {
    s.abandon();
    throw err;
  }
  s.commit();
  return result;
}

/** writeDirAtomic for a `fill` that awaits (a report that simulates, a sweep's plots). */
export async function writeDirAtomicAsync<T>(dir: string, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const s = stageDir(dir);
  let result: T;
  try {
    result = await fill(s.tmp);
  } catch (err) {
    s.abandon();
    throw err;
  }
  s.commit();
  return result;
}
