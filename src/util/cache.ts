import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where built simulators, HLS builds and synthesis results live: $TRILUT_CACHE, or
 * $XDG_CACHE_HOME/trilut (~/.cache/trilut). Every entry is keyed by a hash of what went into it.
 */
export function cacheRoot(): string {
  return process.env["TRILUT_CACHE"] ?? join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "trilut");
}
