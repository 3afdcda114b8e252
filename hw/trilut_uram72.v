// One column of the weight buffer: 72-bit words, one write port (the loader) and one read port
// (the lookups). Read latency is two cycles: the array's read register plus the output register
// an UltraRAM needs to reach speed, so the timing is the same whichever memory the part has.
module trilut_uram72 #(
    parameter DEPTH = 4096,
    parameter AW = 12,
    parameter ULTRA = 1
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [71:0]   wdata,
    input  wire [AW-1:0] raddr,
    output reg  [71:0]   rdata
);
  reg [71:0] read_q;
  generate
    if (ULTRA != 0) begin : g_uram
      (* ram_style = "ultra" *) reg [71:0] mem [0:DEPTH-1];
      always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        read_q <= mem[raddr];
      end
    end else begin : g_bram
      (* ram_style = "block" *) reg [71:0] mem [0:DEPTH-1];
      always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        read_q <= mem[raddr];
      end
    end
  endgenerate
  always @(posedge clk) rdata <= read_q;
endmodule
