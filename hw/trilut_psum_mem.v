// Partial sums of every row group: P int32 lanes per word, in block RAM. One synchronous read
// port with an enable (the output register holds while the result stream is stalled) and one
// write port for the accumulate step.
module trilut_psum_mem #(
    parameter W = 512,
    parameter DEPTH = 512,
    parameter AW = 9
) (
    input  wire          clk,
    input  wire          re,
    input  wire [AW-1:0] raddr,
    output reg  [W-1:0]  rdata,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata
);
  (* ram_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
  always @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    if (re) rdata <= mem[raddr];
  end
endmodule
