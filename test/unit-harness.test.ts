import assert from "node:assert/strict";
import { itemsOf, signedOf, simulateUnit, simulateUnitHls, type UnitDesign, type UnitHlsDesign } from "../src/sim/unit-harness.js";

// A one-stage register slice that adds 1 to each element (wrapping at the width): the smallest
// unit with a real handshake, so the harness's cycle count, backpressure and `last` are checked.
const slice = (width: number): string => `
module add_one_slice #(parameter W = ${width}) (
    input  wire clk, input wire rst,
    input  wire in_valid, output wire in_ready, input wire [W-1:0] in_data, input wire in_last,
    output reg  out_valid, input wire out_ready, output reg [W-1:0] out_data, output reg out_last
);
  assign in_ready = !out_valid || out_ready;
  always @(posedge clk) begin
    if (rst) out_valid <= 1'b0;
    else if (in_ready) begin
      out_valid <= in_valid;
      out_data <= in_data + 1'b1;
      out_last <= in_last;
    end
  end
endmodule
`;

const design = (width: number): UnitDesign => ({
  top: "add_one_slice",
  sources: [{ name: "add_one_slice.v", content: slice(width) }],
  inputs: [{ name: "in", width, last: true }],
  outputs: [{ name: "out", width, last: true }],
});

describe("unit harness", function () {
  it("takes one item a cycle and counts the cycles to the last output", async function () {
    const values = [-5, 0, 7, 127, -128, 3];
    const r = await simulateUnit(design(8), { inputs: { in: itemsOf(values, 8, 3) }, expect: { out: values.length } });
    assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 8)), [-4, 1, 8, -128, -127, 4]);
    assert.deepEqual(r.outputs["out"]!.map((it) => it.last), [false, false, true, false, false, true]);
    // one register: item i leaves in cycle i + 1
    assert.equal(r.firstOutput["out"], 1);
    assert.equal(r.cycles, values.length + 1);
  });

  it("keeps data and order under random backpressure, and takes longer", async function () {
    const values = Array.from({ length: 200 }, (_, i) => i * 7919);
    const d = design(40);
    const plain = await simulateUnit(d, { inputs: { in: itemsOf(values, 40) }, expect: { out: 200 } });
    for (const seed of [1, 2]) {
      const r = await simulateUnit(d, { inputs: { in: itemsOf(values, 40) }, expect: { out: 200 }, backpressure: { seed } });
      assert.deepEqual(r.outputs["out"], plain.outputs["out"]);
      assert.ok(r.cycles > plain.cycles, `${r.cycles} cycles with backpressure, ${plain.cycles} without`);
    }
  });

  it("carries data wider than 64 bits", async function () {
    const big = (1n << 99n) + 12345n;
    const r = await simulateUnit(design(100), { inputs: { in: [{ data: big }, { data: (1n << 100n) - 1n }] }, expect: { out: 2 } });
    assert.deepEqual(r.outputs["out"]!.map((it) => it.data), [big + 1n, 0n]);
  });

  it("reports a unit that never produces what is expected as a hang", async function () {
    await assert.rejects(
      simulateUnit(design(8), { inputs: { in: itemsOf([1], 8) }, expect: { out: 2 }, maxCycles: 100 }),
      /no finish within 100 cycles \(outputs taken: out 1\/2\)/,
    );
  });

  it("runs an HLS function over the same items", async function () {
    const hls: UnitHlsDesign = {
      function: "add_one",
      source: {
        name: "add_one.cpp",
        content: `#include "trilut_hls_stream.h"
#include <cstdint>
void add_one(trilut::stream<int8_t>& in, trilut::stream<int8_t>& out) {
  while (!in.empty()) out.write((int8_t)(in.read() + 1));
}
`,
      },
      inputs: [{ name: "in", width: 8, cxxType: "int8_t" }],
      outputs: [{ name: "out", width: 8, cxxType: "int8_t" }],
    };
    const r = await simulateUnitHls(hls, { inputs: { in: itemsOf([-128, -1, 5, 127], 8) }, expect: { out: 4 } });
    assert.deepEqual(r.outputs["out"]!.map((it) => signedOf(it.data, 8)), [-127, 0, 6, -128]);
    assert.equal(r.cycles, -1);
  });
});
