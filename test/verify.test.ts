import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLlamaModel } from "../src/model/make-model.js";
import { spawn } from "node:child_process";
import { cli, REPO_ROOT } from "./helpers.js";

/**
 * The test cases of a JUnit file: name, failure and error types, properties (those of the case's
 * own <testsuite>: the JUnit schema allows <properties> only there).
 */
function testcases(xml: string): { name: string; failures: string[]; errors: number; skipped: number; classname: string; props: Record<string, string> }[] {
  return [...xml.matchAll(/<testsuite [^>]*>([\s\S]*?)<\/testsuite>/g)].map((suite) => {
    const m = /<testcase name="([^"]*)" classname="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/.exec(suite[1]!)!;
    return {
      name: m[1]!,
      classname: m[2]!,
      failures: [...m[3]!.matchAll(/<failure type="(\w+)"/g)].map((f) => f[1]!),
      errors: [...m[3]!.matchAll(/<error /g)].length,
      skipped: [...m[3]!.matchAll(/<skipped /g)].length,
      props: Object.fromEntries([...suite[1]!.matchAll(/<property name="([^"]+)" value="([^"]*)"\/>/g)].map((p) => [p[1]!, p[2]!])),
    };
  });
}

/** Well-formed as far as JUnit files go: one root, every element closed in order, properties before the case. */
function assertWellFormed(xml: string): void {
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  const stack: string[] = [];
  for (const m of xml.slice(xml.indexOf("?>") + 2).matchAll(/<(\/?)([a-z-]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) assert.equal(stack.pop(), m[2], `</${m[2]}> closes the wrong element`);
    else stack.push(m[2]!);
  }
  assert.deepEqual(stack, []);
  assert.ok(!/<testcase[^>]*>(?:(?!<\/testcase>)[\s\S])*<properties>/.test(xml), "properties inside a testcase");
}

describe("trilut verify", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "trilut-verify-"));
    makeLlamaModel({ path: join(dir, "m.gguf"), format: "tq2_0", architecture: "llama", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 5 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs the issue's spec as written and writes JUnit XML with measured and predicted cycles", function () {
    writeFileSync(
      join(dir, "ci.yaml"),
      `checks:
  - {model: m.gguf, tensor: blk.0.attn_q.weight, device: kv260}
  - {model: m.gguf, block: 0, device: kv260, set: {G: 4}, mode: prefill, tokens: 8}
`,
    );
    const junit = join(dir, "ci.xml");
    const r = cli(["verify", join(dir, "ci.yaml"), "--junit", junit]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const xml = readFileSync(junit, "utf8");
    assert.match(xml, /<testsuites name="trilut verify" tests="2" failures="0" errors="0"/);
    assertWellFormed(xml);
    const cases = testcases(xml);
    // no dots of the file name in the class name: reporters would read them as packages
    assert.deepEqual(cases.map((c) => c.classname), ["trilut.rtl.m_gguf", "trilut.rtl.m_gguf"]);
    assert.deepEqual(cases.map((c) => c.name), ["blk.0.attn_q.weight on kv260, decode", "block 0 on kv260 (G=4), prefill"]);
    for (const c of cases) {
      assert.deepEqual(c.failures, []);
      assert.equal(c.props["mismatches"], "0");
      assert.equal(c.props["cycles"], c.props["predictedCycles"]);
      assert.ok(Number(c.props["cycles"]) > 0);
    }
    assert.equal(cases[1]!.props["tokens"], "8");
  });

  it("fails a check over its budget and exits 1; a missing tensor is bad input (exit 2, issue 13)", function () {
    writeFileSync(join(dir, "small-board.json"), JSON.stringify({ device: "small-board", lut: 20000, ff: 200000, bram36: 100, uram: 64, dsp: 100, clockMHz: 200, memoryGBps: 10 }));
    writeFileSync(
      join(dir, "bad.yaml"),
      `defaults: {model: m.gguf}
checks:
  - {tensor: blk.0.attn_q.weight, budget: small-board.json, name: over budget}
`,
    );
    const junit = join(dir, "bad.xml");
    const started = performance.now();
    const r = cli(["verify", join(dir, "bad.yaml"), "--junit", junit, "--json"]);
    assert.equal(r.status, 1, r.stderr);
    assertWellFormed(readFileSync(junit, "utf8"));
    // over budget fails at once, before any simulation: no simulated figures
    assert.equal(testcases(readFileSync(junit, "utf8"))[0]!.props["cycles"], undefined);
    assert.ok(performance.now() - started < 20_000, "an over-budget check must not simulate");
    const cases = testcases(readFileSync(junit, "utf8"));
    assert.deepEqual(cases[0]!.failures, ["resources"]);
    assert.match(readFileSync(junit, "utf8"), /analytic LUT: needs \d+, limit 18000 \(90% of 20000 on small-board\)/);
    const summary = JSON.parse(r.stdout) as { passed: number; failed: number };
    assert.deepEqual([summary.passed, summary.failed], [0, 1]);
    // a spec naming a tensor the model lacks is refused before any check runs
    writeFileSync(join(dir, "missing.yaml"), "defaults: {model: m.gguf}\nchecks:\n  - {tensor: blk.0.attn_q.weight, device: kv260}\n  - {tensor: blk.0.nope.weight, device: kv260, name: missing tensor}\n");
    const missing = cli(["verify", join(dir, "missing.yaml"), "--junit", join(dir, "missing.xml")]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /missing\.yaml: \/checks\/1: unknown tensor "blk\.0\.nope\.weight" in m\.gguf/);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(join(dir, "missing.xml")));
  });

  it("refuses an invalid spec with the JSON pointer of the field, before running anything", function () {
    const cases: [string, RegExp][] = [
      ["checks:\n  - {model: m.gguf, tensor: t, device: kv999}\n", /\/checks\/0\/device: must be equal to one of the allowed values/],
      ["checks:\n  - {model: m.gguf, device: kv260}\n", /\/checks\/0: name what to run: one of tensor, block or all/],
      ["checks:\n  - {model: m.gguf, tensor: t, device: kv260, set: {T: 0}}\n", /\/checks\/0\/set\/T: must be >= 1/],
      ["checks:\n  - {model: gone.gguf, tensor: t, device: kv260}\n", /\/checks\/0\/model: .*gone\.gguf: no such model file/],
      ["checks: []\n", /\/checks: must NOT have fewer than 1 items/],
    ];
    for (const [text, pattern] of cases) {
      writeFileSync(join(dir, "invalid.yaml"), text);
      const junit = join(dir, "invalid.xml");
      const r = cli(["verify", join(dir, "invalid.yaml"), "--junit", junit]);
      assert.equal(r.status, 2, text);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.ok(!existsSync(junit));
    }
  });

  it("fails a check past its timeout, and uses the default limit otherwise", function () {
    writeFileSync(
      join(dir, "slow.yaml"),
      `defaults: {model: m.gguf, device: kv260}
checks:
  - {tensor: blk.0.attn_q.weight, timeout: 0.001, name: too slow}
`,
    );
    const junit = join(dir, "slow.xml");
    const r = cli(["verify", join(dir, "slow.yaml"), "--junit", junit]);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    const cases = testcases(readFileSync(junit, "utf8"));
    assert.deepEqual(cases[0]!.failures, ["timeout"]);
    assert.match(readFileSync(junit, "utf8"), /stopped after 0.001 s/);
    writeFileSync(join(dir, "bad-timeout.yaml"), "checks:\n  - {model: m.gguf, tensor: t, device: kv260, timeout: 0}\n");
    const bad = cli(["verify", join(dir, "bad-timeout.yaml")]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /\/checks\/0\/timeout: must be > 0/);
  });

  it("keeps a valid JUnit file from before the first check, the checks not run yet as skipped", async function () {
    this.timeout(120_000);
    writeFileSync(
      join(dir, "long.yaml"),
      `defaults: {model: m.gguf, device: kv260}
checks:
  - {tensor: blk.0.attn_q.weight, name: first}
  - {tensor: blk.0.attn_k.weight, name: second}
  - {block: 1, name: third}
`,
    );
    const junit = join(dir, "long.xml");
    rmSync(junit, { force: true });
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "trilut.js"), "verify", join(dir, "long.yaml"), "--junit", junit], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    while (!existsSync(junit)) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGTERM");
    await exited;
    const xml = readFileSync(junit, "utf8");
    assertWellFormed(xml);
    const cases = testcases(xml);
    assert.deepEqual(cases.map((c) => c.name), ["first", "second", "third"]);
    // whatever had finished when the job was stopped, the rest is skipped, never missing
    const done = cases.filter((c) => c.skipped === 0).length;
    assert.match(xml, /<testsuites name="trilut verify" tests="3" failures="0" errors="0"/);
    assert.equal(cases.filter((c) => c.skipped === 1).length, 3 - done);
    assert.ok(done < 3, "stopped before the end");
  });
});
