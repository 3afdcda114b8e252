import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../src/engine/config.js";
import {
  DESCRIPTOR_FIELDS,
  DESCRIPTOR_WORDS,
  descriptorPort,
  descriptorWidths,
  MODE_BITS,
  MODE_FIELDS,
  modeField,
  packDescriptor,
  packMode,
  unpackDescriptor,
  unpackMode,
  type Descriptor,
  type DescriptorFieldName,
  type DescriptorMode,
  type ModeFieldName,
} from "../src/engine/descriptor.js";
import { descriptorHeader } from "../src/codegen/descriptor-header.js";
import { generateRtl } from "../src/codegen/rtl.js";
import { Rng } from "../src/util/random.js";
import { REPO_ROOT } from "./helpers.js";

/** Two streaming engines whose field widths differ (buffer depth, row groups, beat size). */
const ENGINES = [
  { name: "dequant T8 P4", engine: { dequant: true, T: 8, P: 4 } },
  { name: "P16 depth 8192, 256-bit memory", engine: { P: 16, bufferDepth: 8192, memBits: 256 } },
];

function geometry(engine: object): EngineGeometry {
  return engineGeometry(resolveEngine(engine, "test"));
}

/** Random descriptors whose every field fills its port width, with every bit pattern of the flags. */
function randomDescriptors(geo: EngineGeometry, rng: Rng, count: number): Descriptor[] {
  const widths = descriptorWidths(geo);
  const value = (bits: number): number => Math.floor(rng.float() * 2 ** bits);
  return Array.from({ length: count }, (_, i) => {
    const d: Record<string, number> = {};
    for (const f of DESCRIPTOR_FIELDS) d[f.name] = i === 0 ? 2 ** widths[f.name] - 1 : i === 1 ? 0 : value(widths[f.name]);
    return d as Descriptor;
  });
}

function packAll(geo: EngineGeometry, ds: readonly Descriptor[]): Uint32Array {
  const words = new Uint32Array(ds.length * DESCRIPTOR_WORDS);
  ds.forEach((d, i) => packDescriptor(geo, d, words, i * DESCRIPTOR_WORDS));
  return words;
}

/** "name value" lines, per descriptor a block ending in "end", into field records. */
function parseBlocks(stdout: string): Record<string, number>[] {
  const blocks: Record<string, number>[] = [];
  let cur: Record<string, number> = {};
  for (const line of stdout.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (!name) continue;
    if (name === "end") {
      blocks.push(cur);
      cur = {};
    } else cur[name] = Number(value);
  }
  return blocks;
}

/** What a descriptor should read as: every field, and the mode word's fields as mode.<name>. */
function expected(d: Descriptor): Record<string, number> {
  const out: Record<string, number> = { ...d };
  const m = unpackMode(d.mode);
  for (const f of MODE_FIELDS) out[`mode.${f.name}`] = Number(m[f.name]);
  return out;
}

describe("descriptor layout: one definition", () => {
  it("packs and unpacks every field and mode field in TypeScript, and refuses a value its port cannot hold", () => {
    const geo = geometry(ENGINES[0]!.engine);
    const rng = new Rng(7);
    const ds = randomDescriptors(geo, rng, 50);
    const words = packAll(geo, ds);
    ds.forEach((d, i) => assert.deepEqual(unpackDescriptor(words, i * DESCRIPTOR_WORDS), d));
    assert.equal(MODE_BITS, descriptorWidths(geo).mode);
    for (let word = 0; word < 2 ** MODE_BITS; word++) {
      const m = unpackMode(word);
      assert.equal(packMode(m), word);
      for (const f of MODE_FIELDS) assert.equal(modeField(word, f.name), Number(m[f.name]));
    }
    const wide = { ...ds[1]!, beats: 2 ** descriptorWidths(geo).beats };
    assert.throws(() => packDescriptor(geo, wide, new Uint32Array(DESCRIPTOR_WORDS), 0), /descriptor beats = \d+ does not fit its \d+ bits/);
    const big: DescriptorMode = { ...unpackMode(0), shift: 64 };
    assert.throws(() => packMode(big), /mode\.shift = 64 does not fit its 6 bits/);
  });

  for (const { name, engine } of ENGINES) {
    it(`the generated C++ header reads what TypeScript packed (${name}, g++)`, function () {
      this.timeout(60_000);
      const geo = geometry(engine);
      const ds = randomDescriptors(geo, new Rng(11), 40);
      const dir = mkdtempSync(join(tmpdir(), "trilut-desc-cxx-"));
      try {
        const header = descriptorHeader(geo);
        writeFileSync(join(dir, header.name), header.content);
        writeFileSync(join(dir, "descs.bin"), packAll(geo, ds));
        // per field: read_descriptor, then the poke onto a stand-in top's desc_* ports
        const fields = DESCRIPTOR_FIELDS.map((f) => f.name);
        const program = `#include <cstdio>
#include <vector>
#include "${header.name}"
using namespace trilut;
struct FakeTop { ${fields.map((f) => `uint32_t ${descriptorPort(f)} = 0xdeadbeef;`).join(" ")} };
int main(int, char** argv) {
  std::FILE* f = std::fopen(argv[1], "rb");
  uint32_t w[DESCRIPTOR_WORDS];
  while (std::fread(w, 4, DESCRIPTOR_WORDS, f) == DESCRIPTOR_WORDS) {
    const descriptor_t d = read_descriptor(w);
${fields.map((f) => `    std::printf("${f} %u\\n", d.${f});`).join("\n")}
    const descriptor_mode_t m = unpack_mode(d.mode);
${MODE_FIELDS.map((f) => `    std::printf("mode.${f.name} %u\\n", static_cast<unsigned>(m.${f.name}));`).join("\n")}
    if (pack_mode(m) != d.mode) std::printf("pack_mode mismatch\\n");
    uint32_t back[DESCRIPTOR_WORDS];
    write_descriptor(d, back);
    for (unsigned i = 0; i < DESCRIPTOR_WORDS; i++) if (back[i] != w[i]) std::printf("write_descriptor mismatch\\n");
    FakeTop top;
    poke_descriptor(top, d, [](uint32_t& port, uint32_t v) { port = v; });
${fields.map((f) => `    std::printf("port.${f} %u\\n", top.${descriptorPort(f)});`).join("\n")}
    std::printf("end\\n");
  }
  std::fclose(f);
}
`;
        writeFileSync(join(dir, "main.cpp"), program);
        execFileSync("g++", ["-std=c++17", "-Wall", "-Werror", "-I", dir, join(dir, "main.cpp"), "-o", join(dir, "main")]);
        const stdout = execFileSync(join(dir, "main"), [join(dir, "descs.bin")], { encoding: "utf8" });
        assert.doesNotMatch(stdout, /mismatch/);
        const blocks = parseBlocks(stdout);
        assert.equal(blocks.length, ds.length);
        ds.forEach((d, i) => {
          const want = expected(d);
          for (const f of fields) want[`port.${f}`] = d[f];
          assert.deepEqual(blocks[i], want, `descriptor ${i}`);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`the generated RTL top and the stream core hand every field to its consumer (${name}, Icarus)`, function () {
      this.timeout(120_000);
      const geo = geometry(engine);
      const ds = randomDescriptors(geo, new Rng(13), 24);
      const widths = descriptorWidths(geo);
      // where each field arrives past the descriptor queues: the loader's tile inputs, the compute's
      // pass inputs (mode fields by their own names) and the core's token count
      const consumer: Record<DescriptorFieldName, string | undefined> = {
        addr: "dut.core.loader.tile_addr",
        beats: "dut.core.loader.tile_beats",
        words: "dut.core.loader.tile_words",
        steps: "dut.core.compute.steps",
        groups: "dut.core.compute.groups",
        tokens: "dut.core.tokens",
        mode: undefined, // read field by field below
        gsteps: "dut.core.compute.gsteps",
      };
      const modeConsumer = (f: ModeFieldName): string => `dut.core.compute.${f}`;
      const dir = mkdtempSync(join(tmpdir(), "trilut-desc-rtl-"));
      try {
        const rtl = generateRtl(geo);
        for (const f of rtl) writeFileSync(join(dir, f.name), f.content);
        const words = packAll(geo, ds);
        const hex: string[] = [];
        for (let i = 0; i < ds.length; i++) {
          let line = "";
          for (let w = DESCRIPTOR_WORDS - 1; w >= 0; w--) line += words[i * DESCRIPTOR_WORDS + w]!.toString(16).padStart(8, "0");
          hex.push(line);
        }
        writeFileSync(join(dir, "descs.hex"), hex.join("\n") + "\n");
        const ports = DESCRIPTOR_FIELDS.map((f, i) => `.${descriptorPort(f.name)}(d[${32 * i} +: ${widths[f.name]}])`).join(", ");
        const shows = [
          ...DESCRIPTOR_FIELDS.filter((f) => consumer[f.name]).map((f) => `$display("${f.name} %0d", ${consumer[f.name]});`),
          ...MODE_FIELDS.map((f) => `$display("mode.${f.name} %0d", ${modeConsumer(f.name)});`),
        ].join("\n      ");
        // per descriptor: reset, offer it for one edge, and read what the queues hand on
        const tb = `\`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, valid = 0;
  reg [${32 * DESCRIPTOR_WORDS - 1}:0] descs [0:${ds.length - 1}];
  reg [${32 * DESCRIPTOR_WORDS - 1}:0] d = 0;
  integer i;
  trilut_engine dut (.clk(clk), .rst(rst), .desc_valid(valid), ${ports},
    .ar_ready(1'b0), .r_valid(1'b0), .r_data({${geo.cfg.memBits}{1'b0}}), .r_last(1'b0),
    .x_valid(1'b0), .x_data({${geo.actBeatBits}{1'b0}}), .y_ready(1'b0));
  initial begin
    $readmemh("descs.hex", descs);
    for (i = 0; i < ${ds.length}; i = i + 1) begin
      rst = 1; valid = 0;
      #1 clk = 1; #1 clk = 0;
      #1 clk = 1; #1 clk = 0;
      rst = 0; d = descs[i]; valid = 1;
      #1 if (!dut.desc_ready) $display("not ready");
      clk = 1; #0.5 valid = 0;
      ${shows}
      $display("end");
      #0.5 clk = 0;
    end
    $finish;
  end
endmodule
`;
        writeFileSync(join(dir, "tb.v"), tb);
        execFileSync("iverilog", ["-g2005", "-o", join(dir, "tb.vvp"), "-s", "tb", join(dir, "tb.v"), ...rtl.map((f) => join(dir, f.name))], { stdio: "pipe" });
        const stdout = execFileSync("vvp", ["-n", join(dir, "tb.vvp")], { cwd: dir, encoding: "utf8" });
        assert.doesNotMatch(stdout, /not ready/);
        const blocks = parseBlocks(stdout);
        assert.equal(blocks.length, ds.length);
        ds.forEach((d, i) => {
          const want = expected(d);
          delete want["mode"];
          assert.deepEqual(blocks[i], want, `descriptor ${i}`);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("the generated top splits the mode word into named wires, at the layout's bits", () => {
    const top = generateRtl(geometry(ENGINES[0]!.engine)).find((f) => f.name === "trilut_engine.v")!.content;
    let lsb = 0;
    for (const f of MODE_FIELDS) {
      const select = f.bits > 1 ? `desc_mode[${lsb + f.bits - 1}:${lsb}]` : `desc_mode[${lsb}]`;
      assert.ok(top.includes(`${descriptorPort(f.name)} = ${select};`), f.name);
      assert.ok(top.includes(`.${descriptorPort(f.name)}(${descriptorPort(f.name)})`), f.name);
      lsb += f.bits;
    }
  });

  describe("no hand-written descriptor decoding outside the layout", () => {
    // bit operations on a mode word, literal bit selects of it, and literal word counts or indices
    // of the descriptor stream
    const FORBIDDEN: [string, RegExp][] = [
      ["a bit operation on a mode word", /\bmode\s*(&|\||>>|<<)|(&|\||>>|<<)\s*\(?\s*(d\.|tile\.|tiling\.)?mode\b/],
      ["a literal bit select of a mode word", /\bmode\s*\[\s*\d/],
      ["a mode built from literal bit positions", /\b(pair|asym)\s*\?\s*[24]\s*:\s*0|\bshift\s*<<\s*\d/],
      ["a literal mode width", /desc_mode[^\n]*\b9\b|\[8:0\][^\n]*\bdesc_mode\b|\+\s*9\s*[;\]]/],
      ["a literal descriptor word index", /\bd\[[0-7]\]|descs?\.length\s*\/\s*8\b|\*\s*8\s*\]\s*,|\b8 words per (tile|beat)/],
    ];
    // the one definition and its C++ rendering decode the mode word by construction
    const LAYOUT = new Set(["src/engine/descriptor.ts", "templates/cxx/trilut_descriptor.h.hbs"]);

    it("the patterns catch the decoding they replace", () => {
      const before = [
        "  const mode = scales ? 1 | (scales.pair ? 2 : 0) | (scales.asym ? 4 : 0) | (scales.shift << 3) : 0;",
        "  return (tile.mode & 1) !== 0 && tile.gsteps > 0 ? s : s;",
        "    const sweep = tiling.mode & 1 ? { gsteps: tiling.gsteps } : undefined;",
        "      .dequant(mode[0]), .pair(mode[1]), .asym(mode[2]), .shift(mode[8:3]), .gsteps(gsteps),",
        "    input  wire [8:0]        desc_mode,",
        "  localparam RW = CW + CW + RGW + TW + 9; // compute queue entry",
        "  const bool pair = ((d.mode >> 1) & 1u) != 0;",
        '    p("desc_mode", "input", 9),',
        "      scratch[0] = d[6];",
        "  run.descriptors = {descs.data, descs.length / 8, 8};",
        "  Stream descriptors;  // 8 words per beat: addr, beats, words, steps, groups, tokens, mode, gsteps",
      ];
      for (const line of before) assert.ok(FORBIDDEN.some(([, re]) => re.test(line)), line);
    });

    it("src/, hw/, sim/ and templates/ decode descriptors only through the layout", () => {
      const offenders: string[] = [];
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir)) {
          const path = join(dir, entry);
          if (statSync(path).isDirectory()) walk(path);
          else if (/\.(ts|v|h|hbs|cpp)$/.test(entry) && !LAYOUT.has(relative(REPO_ROOT, path))) {
            readFileSync(path, "utf8")
              .split("\n")
              .forEach((line, i) => {
                for (const [what, re] of FORBIDDEN) if (re.test(line)) offenders.push(`${relative(REPO_ROOT, path)}:${i + 1}: ${what}: ${line.trim()}`);
              });
          }
        }
      };
      for (const top of ["src", "hw", "sim", "templates"]) walk(join(REPO_ROOT, top));
      assert.deepEqual(offenders, []);
    });
  });
});
