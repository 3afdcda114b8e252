// RMSNorm fused with the per-token absmax activation quantizer (BitNet b1.58), bit for bit as
// src/ref/spec/norm-quant.ts (docs/numerics/norm-quant.md). Per token of D elements:
//   pass 1 (one element a cycle): z = x·w into the token buffer, Σx² and max|z| accumulated;
//   pass 2 (one element a cycle): q = round_half_even(127·z/max|z|) by an 8-stage restoring divider;
//   once per token, beside pass 2: the scale S = max|z|·rsqrt(Σx² + ε·d·2^32)·√d/127·2^we (rsqrt by
//   table and interpolation) on a small sequencer of fixed length.
// The next token's pass 1 writes element j only after pass 2 has read element j (one buffer).
// NORM = 0 (bypass: a matmul input with no norm) quantizes x itself: no weights, no rsqrt.
// Streams: x (A values, Q15.16), w ({exponent[7:0], mantissa[15:0]}, in step with x; NORM only),
// q (int8, last on a token's final element), s (the scale {e[7:0], m[15:0]}, one per token).
module trilut_norm_quant #(
  parameter integer D = 64,
  parameter integer NORM = 1,
  parameter integer VW = 70,           // sumBits(D): Σx² + E < 2^VW, even
  parameter [63:0] EPS_SUM = 64'd0,    // round(ε·D·2^32)
  parameter integer CM = 32768,        // √D/127 (or 1/127) = CM·2^Ce
  parameter integer EXP_BASE = 0       // the scale exponent's constant part
) (
  input  wire        clk,
  input  wire        rst,
  input  wire        x_valid,
  output wire        x_ready,
  input  wire [31:0] x_data,
  input  wire        w_valid,
  output wire        w_ready,
  input  wire [23:0] w_data,
  output wire        q_valid,
  input  wire        q_ready,
  output wire [7:0]  q_data,
  output wire        q_last,
  output wire        s_valid,
  input  wire        s_ready,
  output wire [23:0] s_data
);
  localparam integer MW = NORM != 0 ? 46 : 32;  // |z| < 2^46 (|w| ≤ 2^15 − 1), bypass |x| ≤ 2^31
  localparam integer ZW = NORM != 0 ? 47 : 32;  // z, signed
  localparam integer NW = MW + 8;               // 254·|z|
  localparam integer AW = D > 1 ? $clog2(D) : 1;
  localparam integer CW = $clog2(D + 1);        // counters 0..D
  /* verilator lint_off WIDTH */
  localparam [CW-1:0] DLEN = D;       // the counters' D and D − 1
  localparam [CW-1:0] DLAST = D - 1;
  /* verilator lint_on WIDTH */
  localparam integer NN = (NORM != 0 && VW / 2 - 1 > MW - 1) ? VW / 2 - 1 : MW - 1; // normalizing shifts

  // ---------------- pass 1: accept, multiply, accumulate, buffer ----------------
  reg [CW-1:0] wr_cnt;  // elements of the token being loaded
  reg [CW-1:0] rd_cnt;  // elements of the previous token read by pass 2 (D: none pending)
  wire in_ok = wr_cnt < rd_cnt;  // element j is written only after pass 2 has read element j
  assign x_ready = in_ok && (NORM == 0 || w_valid);
  assign w_ready = NORM != 0 && in_ok && x_valid;
  wire in_fire = x_valid && x_ready;

  // The products split in 16-bit halves of x (x = xh·2^16 + xl), each one DSP with its own
  // register, summed in the next stage: no DSP-to-carry-chain path in one cycle.
  reg a_v, a_last;
  reg signed [31:0] a_x;
  reg signed [15:0] a_w;
  reg [7:0] a_we;
  reg [AW-1:0] a_idx;
  wire signed [15:0] a_xh = a_x[31:16];
  wire signed [16:0] a_xl = {1'b0, a_x[15:0]};
  reg b_v, b_last;
  reg signed [31:0] b_xw_h;   // xh·w
  reg signed [32:0] b_xw_l;   // xl·w
  reg signed [31:0] b_x;
  reg [31:0] b_sq_hh;         // xh² ≤ 2^30
  reg signed [33:0] b_sq_hl;  // xh·xl
  reg [31:0] b_sq_ll;         // xl²
  reg [7:0] b_we;
  reg [AW-1:0] b_idx;
  reg c_v, c_last;
  reg signed [ZW-1:0] c_z;
  reg [63:0] c_sq;
  reg [7:0] c_we;
  reg [AW-1:0] c_idx;
  wire [ZW-1:0] c_neg = -c_z;
  reg d_v, d_last, d_sign;
  reg [MW-1:0] d_abs;
  reg [63:0] d_sq;
  reg [7:0] d_we;
  reg [AW-1:0] d_idx;

  reg [VW-1:0] acc_sum;
  reg [MW-1:0] acc_max;
  reg [7:0] acc_we;
  reg p1_done;

  // the token's buffer: sign and magnitude of z (pass 2 needs no negation)
  reg [MW:0] tokbuf [0:D-1];
  always @(posedge clk) if (d_v) tokbuf[d_idx] <= {d_sign, d_abs};

  always @(posedge clk) begin
    a_x <= x_data;
    a_w <= w_data[15:0];
    a_we <= w_data[23:16];
    a_idx <= wr_cnt[AW-1:0];
    a_last <= wr_cnt == DLAST;
    b_xw_h <= a_xh * a_w;
    b_xw_l <= a_xl * a_w;
    b_x <= a_x;
    b_sq_hh <= a_xh * a_xh;
    b_sq_hl <= a_xh * a_xl;
    b_sq_ll <= a_x[15:0] * a_x[15:0];
    b_we <= a_we;
    b_idx <= a_idx;
    b_last <= a_last;
    /* verilator lint_off WIDTH */
    c_z <= NORM != 0 ? ($signed(b_xw_h) <<< 16) + $signed(b_xw_l) : $signed(b_x);
    c_sq <= ({32'd0, b_sq_hh} << 32) + ({{30{b_sq_hl[33]}}, b_sq_hl} << 17) + {32'd0, b_sq_ll};
    /* verilator lint_on WIDTH */
    c_we <= b_we;
    c_idx <= b_idx;
    c_last <= b_last;
    d_sign <= c_z[ZW-1];
    d_abs <= c_z[ZW-1] ? c_neg[MW-1:0] : c_z[MW-1:0];
    d_sq <= c_sq;
    d_we <= c_we;
    d_idx <= c_idx;
    d_last <= c_last;
  end

  // ---------------- the scale sequencer's state (declared before the latch uses it) ----------------
  reg sf_busy, s_valid_r;
  wire sf_idle = !sf_busy && !s_valid_r;
  wire latch = p1_done && rd_cnt == DLEN && sf_idle;

  always @(posedge clk) begin
    if (rst) begin
      a_v <= 1'b0;
      b_v <= 1'b0;
      c_v <= 1'b0;
      d_v <= 1'b0;
      wr_cnt <= 0;
      acc_sum <= 0;
      acc_max <= 0;
      acc_we <= 0;
      p1_done <= 1'b0;
    end else begin
      a_v <= in_fire;
      b_v <= a_v;
      c_v <= b_v;
      d_v <= c_v;
      if (latch) begin
        wr_cnt <= 0;
        acc_sum <= 0;
        acc_max <= 0;
        p1_done <= 1'b0;
      end else begin
        if (in_fire) wr_cnt <= wr_cnt + 1'b1;
        if (d_v) begin
          acc_sum <= acc_sum + {{(VW-64){1'b0}}, d_sq};
          if (d_abs > acc_max) acc_max <= d_abs;
          if (d_last) begin
            p1_done <= 1'b1;
            acc_we <= d_we;
          end
        end
      end
    end
  end

  // ---------------- pass 2: read the buffer, divide, round ----------------
  reg q_valid_r, q_last_r;
  reg [7:0] q_data_r;
  wire adv = !q_valid_r || q_ready;
  wire rd_issue = adv && rd_cnt < DLEN;
  reg [MW-1:0] p2_m;  // the token's max|z|, for the divider

  reg r_v, r_last;
  reg [MW:0] r_z;  // {sign, |z|}
  reg [MW-1:0] r_m;
  always @(posedge clk) begin
    if (rst) begin
      rd_cnt <= DLEN;
    end else if (latch) begin
      rd_cnt <= 0;
    end else if (rd_issue) begin
      rd_cnt <= rd_cnt + 1'b1;
    end
  end
  always @(posedge clk) if (latch) p2_m <= acc_max;
  always @(posedge clk) begin
    if (rst) r_v <= 1'b0;
    else if (adv) r_v <= rd_issue;
    if (adv) begin
      r_z <= tokbuf[rd_cnt[AW-1:0]];
      r_last <= rd_cnt == DLAST;
      r_m <= p2_m;
    end
  end

  // divider: stage 0 holds n = 254·|z|; stage i+1 has decided quotient bit 7 − i
  wire [MW-1:0] r_abs = r_z[MW-1:0];
  reg [9*NW-1:0] dn;
  reg [9*MW-1:0] dm;
  reg [9*8-1:0] dq;
  reg [8:0] dv, ds, dl;
  integer i;
  reg [NW:0] diff;
  always @(posedge clk) begin
    if (rst) dv <= 9'd0;
    else if (adv) dv <= {dv[7:0], r_v};
    if (adv) begin
      dn[0 +: NW] <= ({8'd0, r_abs} << 8) - ({8'd0, r_abs} << 1);
      dm[0 +: MW] <= r_m;
      dq[0 +: 8] <= 8'd0;
      ds[0] <= r_z[MW];
      dl[0] <= r_last;
      for (i = 0; i < 8; i = i + 1) begin
        // one subtraction: its borrow is the comparison
        diff = {1'b0, dn[i*NW +: NW]} - ({9'd0, dm[i*MW +: MW]} << (7 - i));
        dn[(i+1)*NW +: NW] <= diff[NW] ? dn[i*NW +: NW] : diff[NW-1:0];
        dq[(i+1)*8 +: 8] <= {dq[i*8 +: 7], !diff[NW]};
        dm[(i+1)*MW +: MW] <= dm[i*MW +: MW];
        ds[i+1] <= ds[i];
        dl[i+1] <= dl[i];
      end
    end
  end

  // round: Q = floor(2·127|z|/M); half up (Q+1)>>1, an exact tie (Q odd, remainder 0) to even
  wire [7:0] quo = dq[8*8 +: 8];
  wire [8:0] up1 = {1'b0, quo} + 9'd1;
  wire [7:0] up = up1[8:1];
  wire tie_odd = quo[0] && dn[8*NW +: NW] == 0 && up[0];
  wire [7:0] mag = dm[8*MW +: MW] == 0 ? 8'd0 : tie_odd ? up - 8'd1 : up;
  always @(posedge clk) begin
    if (rst) q_valid_r <= 1'b0;
    else if (adv) q_valid_r <= dv[8];
    if (adv) begin
      q_data_r <= ds[8] ? -mag : mag;
      q_last_r <= dl[8];
    end
  end
  assign q_valid = q_valid_r;
  assign q_data = q_data_r;
  assign q_last = q_last_r;

  // ---------------- the scale: a sequencer of NN + 6 steps ----------------
  // (widths here are the spec's: products and sums fit their registers; low product bits unused)
  /* verilator lint_off WIDTH */
  /* verilator lint_off UNUSEDSIGNAL */
  reg [7:0] sf_cnt;
  reg [VW-1:0] sf_v;
  reg [MW-1:0] sf_m;
  reg [7:0] sf_cv, sf_cm;
  reg [7:0] sf_we;
  reg [17:0] t_f;
  reg [10:0] t_d;
  reg [11:0] t_frac;
  reg [16:0] t_mn;
  reg [22:0] t_prod;
  reg [17:0] t_rho;
  reg [34:0] t_p1;
  reg [33:0] t_p2;
  reg [23:0] s_data_r;
  wire [17:0] rom_f;
  wire [10:0] rom_d;
  trilut_rsqrt_rom rom (.idx(sf_v[VW-1 -: 8]), .f(rom_f), .delta(rom_d));

  // the rounding normalization of p2 ∈ [2^31, 2^34) to 16 bits
  wire [1:0] l2sel = t_p2[33] ? 2'd2 : t_p2[32] ? 2'd1 : 2'd0;
  wire [16:0] sh = l2sel == 2'd2 ? t_p2[33:17] : l2sel == 2'd1 ? t_p2[32:16] : t_p2[31:15];
  wire [17:0] sh1 = {1'b0, sh} + 18'd1;
  wire [16:0] mr = sh1[17:1];
  wire over = mr[16];
  wire [15:0] m_out = over ? 16'h8000 : mr[15:0];
  wire signed [11:0] e_full = EXP_BASE + (NORM != 0 ? $signed({{4{sf_we[7]}}, sf_we}) + $signed({4'd0, sf_cv}) : 12'sd0)
                              - $signed({4'd0, sf_cm}) + 12'sd31 + $signed({10'd0, l2sel}) + (over ? 12'sd1 : 12'sd0);

  always @(posedge clk) begin
    if (rst) begin
      sf_busy <= 1'b0;
      s_valid_r <= 1'b0;
    end else begin
      if (s_valid_r && s_ready) s_valid_r <= 1'b0;
      if (latch) begin
        sf_busy <= 1'b1;
        sf_cnt <= 0;
        sf_v <= acc_sum + EPS_SUM;
        sf_m <= acc_max;
        sf_we <= acc_we;
        sf_cv <= 0;
        sf_cm <= 0;
      end else if (sf_busy) begin
        sf_cnt <= sf_cnt + 1'b1;
        if (sf_cnt < NN) begin
          // left-justify V by shifts of two (an even exponent) and M by shifts of one
          if (sf_v[VW-1 -: 2] == 2'b00) begin
            sf_v <= sf_v << 2;
            sf_cv <= sf_cv + 1'b1;
          end
          if (!sf_m[MW-1]) begin
            sf_m <= sf_m << 1;
            sf_cm <= sf_cm + 1'b1;
          end
        end
        if (sf_cnt == NN) begin
          t_f <= rom_f;
          t_d <= rom_d;
          t_frac <= sf_v[VW-9 -: 12];
          t_mn <= sf_m[MW-1 -: 17];
        end
        if (sf_cnt == NN + 1) t_prod <= t_d * t_frac;
        if (sf_cnt == NN + 2) t_rho <= NORM != 0 ? t_f - ((t_prod + 23'd2048) >> 12) : 18'd65536;
        if (sf_cnt == NN + 3) t_p1 <= t_mn * t_rho;
        if (sf_cnt == NN + 4) t_p2 <= t_p1[34:16] * CM;
        if (sf_cnt == NN + 5) begin
          sf_busy <= 1'b0;
          s_valid_r <= 1'b1;
          if (sf_m == 0) s_data_r <= 24'd0;
          else if (e_full > 127) s_data_r <= {8'd127, 16'hffff};
          else if (e_full < -128) s_data_r <= 24'd0;
          else s_data_r <= {e_full[7:0], m_out};
        end
      end
    end
  end
  /* verilator lint_on UNUSEDSIGNAL */
  /* verilator lint_on WIDTH */
  assign s_valid = s_valid_r;
  assign s_data = s_data_r;
endmodule
