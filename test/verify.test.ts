import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLlamaModel } from "../src/model/make-model.js";
import { cli } from "./helpers.js";

/** The test cases of a JUnit file: name, failure and error types, properties. */
function testcases(xml: string): { name: string; failures: string[]; errors: number; props: Record<string, string> }[] {
  return [...xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)].map((m) => ({
    name: m[1]!,
    failures: [...m[2]!.matchAll(/<failure type="(\w+)"/g)].map((f) => f[1]!),
    errors: [...m[2]!.matchAll(/<error /g)].length,
    props: Object.fromEntries([...m[2]!.matchAll(/<property name="([^"]+)" value="([^"]*)"\/>/g)].map((p) => [p[1]!, p[2]!])),
  }));
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
    const cases = testcases(xml);
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
    const r = cli(["verify", join(dir, "bad.yaml"), "--junit", junit, "--json"]);
    assert.equal(r.status, 1, r.stderr);
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
});
