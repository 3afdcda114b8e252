// One activation table with P read ports. A LUTRAM has one read port, so the table is replicated
// P times; every copy takes the same writes. The address MSB selects one of two halves, so the
// precompute unit fills the next step's table while the lookups read this one.
module trilut_table #(
    parameter W = 10,
    parameter AW = 6,
    parameter P = 16
) (
    input  wire            clk,
    input  wire            we,
    input  wire [AW-1:0]   waddr,
    input  wire [W-1:0]    wdata,
    input  wire [P*AW-1:0] raddr,
    output wire [P*W-1:0]  rdata
);
  genvar p;
  generate
    for (p = 0; p < P; p = p + 1) begin : g_copy
      trilut_lutram #(.W(W), .AW(AW)) copy (
          .clk(clk), .we(we), .waddr(waddr), .wdata(wdata),
          .raddr(raddr[p*AW +: AW]), .rdata(rdata[p*W +: W]));
    end
  endgenerate
endmodule
