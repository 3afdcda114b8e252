#!/usr/bin/env node
// Makes a fresh machine ready for trilut: npm dependencies, then the system tools the simulator
// needs (Verilator and Icarus Verilog from Debian's packages, zlib headers for FST traces).
// Installs what is missing when run as root; otherwise prints the exact command to run.
// Uses only Node's standard library, because it runs before `npm ci`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const log = (msg) => {
  if (!quiet) console.error(`setup: ${msg}`);
};

function has(cmd, args = ["--version"]) {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

// 1. npm dependencies (skipped when they are all present)
const deps = ["ajv", "handlebars", "yargs", "mocha", "typescript"];
if (!deps.every((d) => existsSync(join(root, "node_modules", d, "package.json")))) {
  log("installing npm dependencies (npm ci)");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// 2. system packages
const packages = [];
if (!has("verilator")) packages.push("verilator");
if (!has("iverilog", ["-V"])) packages.push("iverilog");
if (!existsSync("/usr/include/zlib.h")) packages.push("zlib1g-dev");
if (!has("g++")) packages.push("g++");
// tclsh runs the generated HLS Tcl with the vendor commands stubbed (the quoting tests)
if (!existsSync("/usr/bin/tclsh")) packages.push("tcl");
if (packages.length > 0) {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (process.getuid?.() === 0 && has("apt-get", ["--version"])) {
    log(`installing ${packages.join(", ")} from Debian's packages`);
    try {
      execFileSync("sh", ["-c", `${command.replace("apt-get update", "apt-get update -qq")} -qq`], {
        stdio: quiet ? "ignore" : "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    } catch {
      console.error(`setup: installing failed; run: ${command}`);
      process.exit(1);
    }
  } else {
    console.error(`setup: missing ${packages.join(", ")}; run as root: ${command}`);
    process.exit(1);
  }
}

// 2b. a headless browser for the report test (optional: the test says it skips without one)
if (!has("chromium", ["--version"]) && process.getuid?.() === 0 && has("apt-get", ["--version"]) && !process.env.TRILUT_NO_BROWSER) {
  log("installing chromium from Debian's packages (for the HTML report test; TRILUT_NO_BROWSER=1 skips)");
  try {
    execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium"], {
      stdio: quiet ? "ignore" : "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    console.error("setup: chromium did not install; the report's browser test will be skipped");
  }
}

// 3. Node's C headers for the simulator addon
const nodeHeaders = ["/usr/include/node", join(dirname(process.execPath), "..", "include", "node")];
if (!nodeHeaders.some((d) => existsSync(join(d, "node_api.h")))) {
  console.error("setup: Node's C headers (node_api.h) are missing; install Node with its headers or set TRILUT_NODE_INCLUDE");
  process.exit(1);
}
log("ready");
