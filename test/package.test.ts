import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./helpers.js";

/**
 * The library's front door as a user meets it: the package packed with `npm pack`, installed into
 * an empty folder (dependencies from npm's cache when it has them), imported by name, and its
 * command run with npx.
 */
describe("the trilut package", function () {
  this.timeout(300_000);
  let dir = "";
  let consumer = "";
  const npm = (args: string[], cwd: string): string =>
    execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" } });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "trilut-pack-"));
    npm(["pack", "--pack-destination", dir], REPO_ROOT);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    consumer = join(dir, "consumer");
    execFileSync("mkdir", [consumer]);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(["install", "--prefer-offline", "--ignore-scripts", join(dir, tarball)], consumer);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("imports by name and estimates the bundled model with the library's own API", () => {
    const script = `
      import { compile, simulate, estimate, plan, resolveBudget, ENGINE_UNITS } from "trilut";
      import { createRequire } from "node:module";
      import { dirname, join } from "node:path";
      for (const [name, f] of Object.entries({ compile, simulate, estimate, plan })) {
        if (typeof f !== "function") throw new Error(name + " is not a function");
      }
      const root = dirname(createRequire(import.meta.url).resolve("trilut/package.json"));
      const budget = resolveBudget({ device: "kv260" });
      const { geo } = plan(budget, {});
      const e = await estimate(join(root, "models", "tiny-tq2_0.gguf"), geo, budget);
      console.log(JSON.stringify({ units: ENGINE_UNITS.length, tokensPerSecond: e.latency.decodeTokensPerSecond, lut: e.resources.analytic.total.lut }));
    `;
    writeFileSync(join(consumer, "check.mjs"), script);
    const out = JSON.parse(execFileSync("node", ["check.mjs"], { cwd: consumer, encoding: "utf8" })) as { units: number; tokensPerSecond: number; lut: number };
    assert.ok(out.units > 5, "the engine's units");
    assert.ok(out.tokensPerSecond > 0 && Number.isFinite(out.tokensPerSecond), "a decode rate");
    assert.ok(out.lut > 1000, "the engine's LUTs");
  });

  it("runs its command with npx", () => {
    const help = execFileSync("npx", ["--no-install", "trilut", "--help"], { cwd: consumer, encoding: "utf8" });
    assert.match(help, /trilut compile/);
    assert.match(help, /trilut sim/);
  });
});
