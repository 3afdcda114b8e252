// A distributed-RAM table copy: written one entry per cycle, read combinationally (LUTRAM).
module trilut_lutram #(
    parameter W = 10,
    parameter AW = 6
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata,
    input  wire [AW-1:0] raddr,
    output wire [W-1:0]  rdata
);
  (* ram_style = "distributed" *) reg [W-1:0] mem [0:(1<<AW)-1];
  always @(posedge clk) if (we) mem[waddr] <= wdata;
  assign rdata = mem[raddr];
endmodule
