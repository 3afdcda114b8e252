import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ToolError } from "../util/errors.js";

/** What the simulator build needs from the machine, found once per process. */
export interface Toolchain {
  readonly verilator: string;
  readonly verilatorVersion: string;
  readonly verilatorRoot: string;
  readonly cxx: string;
  readonly cxxVersion: string;
  readonly nodeInclude: string;
}

let cached: Toolchain | undefined;

function firstLine(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!.trim();
  } catch {
    return undefined;
  }
}

/** Node's headers (node_api.h): Debian's /usr/include/node, or beside the running node binary. */
function findNodeInclude(): string | undefined {
  const candidates = [
    process.env["TRILUT_NODE_INCLUDE"],
    "/usr/include/node",
    join(dirname(process.execPath), "..", "include", "node"),
  ];
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, "node_api.h")));
}

export function toolchain(): Toolchain {
  if (cached) return cached;
  const verilator = process.env["TRILUT_VERILATOR"] ?? "verilator";
  const verilatorVersion = firstLine(verilator, ["--version"]);
  if (!verilatorVersion) {
    throw new ToolError(
      "verilator not found: run `npm run setup` as root, or `apt-get install -y verilator` (Debian's package, 5.x)",
    );
  }
  const verilatorRoot = firstLine(verilator, ["--getenv", "VERILATOR_ROOT"]) ?? "/usr/share/verilator";
  const cxx = process.env["CXX"] ?? "g++";
  const cxxVersion = firstLine(cxx, ["--version"]);
  if (!cxxVersion) throw new ToolError(`C++ compiler "${cxx}" not found: install g++`);
  const nodeInclude = findNodeInclude();
  if (!nodeInclude) {
    throw new ToolError("Node's C headers (node_api.h) not found: install Debian's libnode-dev or set TRILUT_NODE_INCLUDE");
  }
  cached = { verilator, verilatorVersion, verilatorRoot, cxx, cxxVersion, nodeInclude };
  return cached;
}
