// An on-chip buffer of the block accelerator: one write port, one read port with a registered
// output (block RAM's one-cycle read), so yosys and Vivado map it to BRAM when it is large enough.
module trilut_block_ram #(
    parameter W = 32,
    parameter DEPTH = 16,
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata,
    input  wire [AW-1:0] raddr,
    output reg  [W-1:0]  rdata
);
  reg [W-1:0] mem [0:DEPTH-1];
  always @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    rdata <= mem[raddr];
  end
endmodule
