import { mkdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync, type Stats } from "node:fs";
import { UserError } from "./errors.js";
import { dirname, join, basename } from "node:path";

/** Writes a file so that readers never see it half-written: write a sibling temp file, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Builds an output directory in a temporary sibling and moves it into place only when `fill`
 * succeeds, so a failed command leaves no partial output directory behind.
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const tmp = join(dirname(dir), `.${basename(dir)}.${process.pid}.partial`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/**
 * Refuses, before any work, an output path that cannot be written: empty, an existing path of the
 * other kind, or (for a file) a parent directory that does not exist. A file's parent is never
 * created, so a typo such as /nonexist/y.i32 cannot make directories (as root, anywhere); a
 * directory's missing parents are, but the nearest existing ancestor must be a directory.
 */
export function checkOutputPath(path: string, kind: "file" | "directory", flag: string): void {
  if (path.trim() === "") throw new UserError(`${flag} "${path}": expected a ${kind} path`);
  const stat = statOrUndefined(path);
  if (stat && kind === "file" && stat.isDirectory()) throw new UserError(`${flag} ${path}: is a directory; expected a file path`);
  if (stat && kind === "directory" && !stat.isDirectory()) throw new UserError(`${flag} ${path}: exists and is not a directory`);
  if (kind === "file") {
    const parent = statOrUndefined(dirname(path));
    if (!parent) throw new UserError(`${flag} ${path}: directory ${dirname(path)} does not exist`);
    if (!parent.isDirectory()) throw new UserError(`${flag} ${path}: ${dirname(path)} is not a directory`);
    return;
  }
  let ancestor = dirname(path);
  while (!statOrUndefined(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
  if (statOrUndefined(ancestor)?.isDirectory() === false) throw new UserError(`${flag} ${path}: ${ancestor} is not a directory`);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
