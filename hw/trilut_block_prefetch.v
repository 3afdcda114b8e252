// Turns a source read with one cycle of latency (trilut_block_ram) into a stream that can move an
// element every cycle: it issues a read whenever the element would still fit its two-entry buffer
// (counting the read in flight and the element leaving this cycle), so the stream's valid never
// waits on the RAM once primed, and a stalled consumer stops the reads instead of losing data.
// The first element leaves two cycles after the first issue.
module trilut_block_prefetch #(
    parameter W = 32
) (
    input  wire         clk,
    input  wire         rst,
    // the parent has elements left; `issue` says the RAM reads the next one in this cycle
    input  wire         more,
    output wire         issue,
    input  wire [W-1:0] rd_data,   // the element issued in the previous cycle
    output wire         busy,      // elements read but not yet taken
    output wire         out_valid,
    input  wire         out_ready,
    output wire [W-1:0] out_data
);
  reg [1:0] count;
  reg inflight;
  reg [W-1:0] d0, d1;
  wire pop = out_valid && out_ready;
  assign out_valid = count != 2'd0;
  assign out_data = d0;
  assign busy = out_valid || inflight;
  // room after this cycle: count + inflight − pop < 2
  assign issue = more && ({1'b0, count} + {2'b00, inflight} <= 3'd1 + {2'b00, pop});
  always @(posedge clk) begin
    if (rst) begin
      count <= 2'd0;
      inflight <= 1'b0;
    end else begin
      inflight <= issue;
      count <= count + {1'b0, inflight} - {1'b0, pop};
      // count = 2 implies no read in flight (issue needed room), so three cases move data
      if (inflight && (count == 2'd0 || (count == 2'd1 && pop))) d0 <= rd_data;
      else if (pop && count == 2'd2) d0 <= d1;
      if (inflight && count == 2'd1 && !pop) d1 <= rd_data;
    end
  end
endmodule
