// The preloaded engine: weights arrive on a stream while the engine is idle, then passes run.
//
// Commands (one at a time, accepted when idle):
//   LOAD  count = beats: writes `count` weight beats (one word for each of the P banks) from address 0.
//   RUN   count = steps, groups = row groups (ceil(rows / P)), clear, drain: one pass of
//         trilut_compute over the buffer from address 0.
module trilut_engine_core #(
    parameter G = 3,
    parameter E = 27,
    parameter EB = 5,
    parameter IB = 5,
    parameter EW = 10,
    parameter MIRRORED = 0,
    parameter T = 28,
    parameter P = 16,
    parameter C = 2,
    parameter DEPTH = 4096,
    parameter ULTRA = 1,
    parameter MAXRG = 512,
    parameter LEVELS_PER_STAGE = 2,
    parameter BASELINE = 0,
    // derived
    parameter AW = $clog2(DEPTH),
    parameter CW = $clog2(DEPTH + 1),
    parameter RGW = $clog2(MAXRG + 1)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               cmd_valid,
    output wire               cmd_ready,
    input  wire               cmd_op,      // 0 LOAD, 1 RUN
    input  wire [CW-1:0]      cmd_count,
    input  wire [RGW-1:0]     cmd_groups,
    input  wire               cmd_clear,
    input  wire               cmd_drain,
    input  wire               w_valid,
    output wire               w_ready,
    input  wire [P*T*IB-1:0]  w_data,
    input  wire               x_valid,
    output wire               x_ready,
    input  wire [T*G*8-1:0]   x_data,
    output wire               y_valid,
    input  wire               y_ready,
    output wire [P*32-1:0]    y_data,
    output wire               y_last,
    output wire               busy
);
  reg loading;
  reg [CW-1:0] count;
  reg [CW-1:0] loaded;
  wire compute_idle;
  assign cmd_ready = !loading && compute_idle;
  assign busy = !cmd_ready;
  wire cmd_fire = cmd_valid && cmd_ready;

  // ---------------------------------------------------------------- weight loading
  assign w_ready = loading;
  wire w_fire = w_valid && w_ready;
  always @(posedge clk) begin
    if (rst) begin
      loading <= 1'b0;
    end else if (cmd_fire && !cmd_op) begin
      loading <= 1'b1;
    end else if (w_fire && loaded + 1'b1 == count) begin
      loading <= 1'b0;
    end
    if (cmd_fire) begin
      count <= cmd_count;
      loaded <= {CW{1'b0}};
    end else if (w_fire) begin
      loaded <= loaded + 1'b1;
    end
  end

  // ---------------------------------------------------------------- weight buffer: P banks
  localparam WB = T * IB;
  wire [AW-1:0] rd_addr;
  wire [P*WB-1:0] bank_rdata;
  /* verilator lint_off WIDTH */
  wire [AW-1:0] load_addr = loaded;
  /* verilator lint_on WIDTH */
  genvar p;
  generate
    for (p = 0; p < P; p = p + 1) begin : g_bank
      trilut_weight_bank #(.WIDTH(WB), .C(C), .DEPTH(DEPTH), .AW(AW), .ULTRA(ULTRA)) bank (
          .clk(clk), .we(w_fire), .waddr(load_addr), .wdata(w_data[p*WB +: WB]),
          .raddr(rd_addr), .rdata(bank_rdata[p*WB +: WB]));
    end
  endgenerate

  /* verilator lint_off PINCONNECTEMPTY */
  trilut_compute #(
      .G(G), .E(E), .EB(EB), .IB(IB), .EW(EW), .MIRRORED(MIRRORED), .T(T), .P(P),
      .AW(AW), .CW(CW), .MAXRG(MAXRG), .LEVELS_PER_STAGE(LEVELS_PER_STAGE), .BASELINE(BASELINE)
  ) compute (
      .clk(clk), .rst(rst),
      .start(cmd_fire && cmd_op), .steps(cmd_count), .groups(cmd_groups), .base({AW{1'b0}}),
      .clear(cmd_clear), .drain(cmd_drain), .dequant(1'b0), .pair(1'b0), .asym(1'b0), .shift(6'd0), .gsteps({CW{1'b0}}),
      .idle(compute_idle),
      .x_valid(x_valid), .x_ready(x_ready), .x_data(x_data),
      .y_valid(y_valid), .y_ready(y_ready), .y_data(y_data), .y_last(y_last),
      .rd_addr(rd_addr), .bank_rdata(bank_rdata), .issuing());
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
