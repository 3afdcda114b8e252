import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gguf } from "@huggingface/gguf";
import { openGguf } from "../src/model/gguf.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { FIXTURES } from "./helpers.js";

/** Metadata values in one comparable form: bigints as numbers, arrays element-wise. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** trilut's GGUF header parse against Hugging Face's independent parser, field by field. */
async function crossCheck(path: string): Promise<void> {
  const theirs = await gguf(path, { allowLocalFile: true });
  const ours = openGguf(path);
  try {
    assert.equal(Number(theirs.tensorDataOffset), ours.dataStart, "data section start");
    assert.equal(ours.tensors.length, theirs.tensorInfos.length);
    ours.tensors.forEach((t, i) => {
      const h = theirs.tensorInfos[i]!;
      assert.equal(t.name, h.name);
      assert.deepEqual(t.ne, h.shape.map(Number), `${t.name} dimensions`);
      assert.equal(t.typeId, Number(h.dtype), `${t.name} type`);
      assert.equal(t.dataOffset, ours.dataStart + Number(h.offset), `${t.name} offset`);
    });
    const skip = new Set(["version", "tensor_count", "kv_count"]);
    const theirKeys = Object.keys(theirs.metadata).filter((k) => !skip.has(k));
    assert.deepEqual([...ours.metadata.keys()].sort(), theirKeys.sort());
    for (const key of theirKeys) {
      const expected = plain((theirs.metadata as Record<string, unknown>)[key]);
      const actual = plain(ours.metadata.get(key));
      if (typeof expected === "number" && !Number.isInteger(expected)) {
        assert.ok(Math.abs((actual as number) - expected) <= Math.abs(expected) * 1e-6, key);
      } else {
        assert.deepEqual(actual, expected, key);
      }
    }
  } finally {
    ours.close();
  }
}

describe("GGUF header parse agrees with @huggingface/gguf", () => {
  for (const file of ["tiny-llama-tq2_0.gguf", "tiny-llama-tq1_0.gguf"]) {
    it(`${file} (written by llama.cpp's gguf package)`, async () => {
      await crossCheck(join(FIXTURES, file));
    });
  }

  it("a model written by trilut make-model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trilut-xcheck-"));
    try {
      const path = join(dir, "m.gguf");
      makeLlamaModel({ path, format: "tq1_0", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 4 });
      await crossCheck(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
