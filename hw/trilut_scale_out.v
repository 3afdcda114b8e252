// Scale-out: a matmul's int32 outputs Y (8 fraction bits) times their token's activation scale
// S = m·2^e, as A values (Q15.16): A = sat32(round_half_up(Y·m·2^32 / 2^t)), t = clamp(24 − e, 0, 80)
// (src/ref/spec/elementwise.ts scaleOut: exact for every 8-bit e). One element a cycle, 7 pipeline
// registers, every multiply and shift step registered:
//   1 input (Y, m, t)   2–3 the product Y·m in DSPs (48 bits; two registers: the DSPs' M and P)
//   4 coarse shift (by t & ~7)   5 fine shift (by t & 7), of Y·m·2^33 (81 bits)
//   6 saturate the shifted value to 35 bits   7 (q + 1) >>> 1 (the half-up rounding), saturate to 32
// Tokens: y_last marks a token's last element. The scale stream gives one word per token
// ({e[7:0], m[15:0]}), consumed with (or before) the token's first element: a held copy serves the
// rest of the token and is freed by the element with y_last. The pipeline stalls as a whole while
// the output is valid and not ready.
module trilut_scale_out (
    input  wire        clk,
    input  wire        rst,
    input  wire        y_valid,
    output wire        y_ready,
    input  wire [31:0] y_data,
    input  wire        y_last,
    input  wire        s_valid,
    output wire        s_ready,
    input  wire [23:0] s_data,
    output wire        a_valid,
    input  wire        a_ready,
    output wire [31:0] a_data,
    output wire        a_last
);
  localparam integer L = 7;

  reg [L:1] v;
  wire en = !v[L] || a_ready;

  // the token's scale: held after its word is taken, or straight from the stream for its first element
  reg        held;
  reg [15:0] held_m;
  reg [6:0]  held_t;
  wire signed [8:0] t_raw = 9'sd24 - $signed({s_data[23], s_data[23:16]});
  wire [6:0] s_t = t_raw < 0 ? 7'd0 : t_raw > 80 ? 7'd80 : t_raw[6:0];
  wire [15:0] use_m = held ? held_m : s_data[15:0];
  wire [6:0]  use_t = held ? held_t : s_t;

  wire y_fire = y_valid && en && (held || s_valid);
  assign y_ready = en && (held || s_valid);
  assign s_ready = !held;

  always @(posedge clk) begin
    if (rst) held <= 1'b0;
    else held <= (held || s_valid) && !(y_fire && y_last);
    if (!held && s_valid) begin
      held_m <= s_data[15:0];
      held_t <= s_t;
    end
  end

  // data registers: no reset (the valid bits say which hold an element), a common enable
  reg signed [31:0] y1;
  reg [15:0] m1;
  reg signed [47:0] p2, p3;
  reg [6:0] t1, t2, t3;
  reg [2:0] t4;
  reg signed [80:0] r4, r5;
  reg signed [34:0] q6;
  reg [31:0] a7;
  reg [L:1] last;

  wire signed [80:0] x3 = {p3, 33'd0};
  // bits 80..34 of r5 all equal its sign: it fits in 35 bits
  wire fits5 = &r5[80:34] || ~|r5[80:34];
  /* verilator lint_off UNUSEDSIGNAL */ // bit 0 is the half the rounding drops
  wire signed [35:0] q6_up = {q6[34], q6} + 36'sd1;
  /* verilator lint_on UNUSEDSIGNAL */
  wire signed [34:0] h6 = q6_up[35:1];
  wire fits6 = &h6[34:31] || ~|h6[34:31];

  always @(posedge clk) begin
    if (rst) v <= 0;
    else if (en) v <= {v[L-1:1], y_fire};
    if (en) begin
      y1 <= y_data;
      m1 <= use_m;
      t1 <= use_t;
      last <= {last[L-1:1], y_last};
      p2 <= y1 * $signed({1'b0, m1});
      t2 <= t1;
      p3 <= p2;
      t3 <= t2;
      r4 <= x3 >>> {t3[6:3], 3'd0};
      t4 <= t3[2:0];
      r5 <= r4 >>> t4[2:0];
      q6 <= fits5 ? r5[34:0] : r5[80] ? {1'b1, 34'd0} : {1'b0, {34{1'b1}}};
      a7 <= fits6 ? h6[31:0] : h6[34] ? 32'h80000000 : 32'h7fffffff;
    end
  end

  assign a_valid = v[L];
  assign a_data = a7;
  assign a_last = last[L];
endmodule
