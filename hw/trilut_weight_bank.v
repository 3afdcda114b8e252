// One bank of the weight buffer: the words one output lane reads, WIDTH bits (T group indices)
// spread over C cascaded 72-bit columns. There are P banks, so P rows are read every cycle.
module trilut_weight_bank #(
    parameter WIDTH = 140,
    parameter C = 2,
    parameter DEPTH = 4096,
    parameter AW = 12,
    parameter ULTRA = 1
) (
    input  wire             clk,
    input  wire             we,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire [AW-1:0]    raddr,
    output wire [WIDTH-1:0] rdata
);
  localparam PADDED = 72 * C;
  wire [PADDED-1:0] wdata_padded = {{(PADDED - WIDTH){1'b0}}, wdata};
  /* verilator lint_off UNUSEDSIGNAL */
  wire [PADDED-1:0] rdata_padded;  // bits above WIDTH stay zero and are never used
  /* verilator lint_on UNUSEDSIGNAL */
  genvar i;
  generate
    for (i = 0; i < C; i = i + 1) begin : g_col
      trilut_uram72 #(.DEPTH(DEPTH), .AW(AW), .ULTRA(ULTRA)) column (
          .clk(clk), .we(we), .waddr(waddr), .wdata(wdata_padded[72*i +: 72]),
          .raddr(raddr), .rdata(rdata_padded[72*i +: 72]));
    end
  endgenerate
  assign rdata = rdata_padded[WIDTH-1:0];
endmodule
