// A small synchronous FIFO (registers): push when not full, pop when not empty.
module trilut_fifo #(
    parameter W = 32,
    parameter DEPTH = 2,
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         push,
    input  wire [W-1:0] din,
    output wire         full,
    input  wire         pop,
    output wire [W-1:0] dout,
    output wire         empty
);
  reg [W-1:0] mem [0:DEPTH-1];
  reg [AW-1:0] rd, wr;
  reg [AW:0] count;
  assign full = (count == DEPTH);
  assign empty = (count == 0);
  assign dout = mem[rd];
  always @(posedge clk) begin
    if (rst) begin
      rd <= {AW{1'b0}};
      wr <= {AW{1'b0}};
      count <= {(AW + 1) {1'b0}};
    end else begin
      if (push && !full) begin
        mem[wr] <= din;
        /* verilator lint_off WIDTH */
        wr <= (wr == DEPTH - 1) ? {AW{1'b0}} : wr + 1'b1;
        /* verilator lint_on WIDTH */
      end
      if (pop && !empty) begin
        /* verilator lint_off WIDTH */
        rd <= (rd == DEPTH - 1) ? {AW{1'b0}} : rd + 1'b1;
        /* verilator lint_on WIDTH */
      end
      count <= count + (push && !full) - (pop && !empty);
    end
  end
endmodule
