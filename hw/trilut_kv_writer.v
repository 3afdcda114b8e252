// Quantizes one token's k and v head vectors to int8 rows with a scale each and writes them into
// the KV cache (docs/numerics/kv-cache.md; reference: src/ref/spec/kv-cache.ts quantizeKv and
// writeToken). For a command {pos, addr} it takes KVH·HD k values then KVH·HD v values (A, int32)
// on stream x and, per head vector:
//   RECV  HD cycles: store the values, track the absmax a;
//   NORM  1 cycle:   L = leading one of a, an = a << (31 − L);
//   DIV   24 cycles: R = floor(127·2^48 / an), restoring division (one quotient bit a cycle), and
//                    the scale m·2^e from an's top 17 bits times 1/127 (a constant product);
//   QUANT HD + 2:    q_j = (x_j·R + 2^(L+16)) >>> (L+17), two pipeline stages, into the row's bytes;
//   writes: AW and W of the row's beat, then of the scale beat (single-beat bursts; the data is the
//   row or the scale word repeated across the beat and the strobes pick its bytes, so no shifter).
// `done` carries one item per token once every write has its B response.
module trilut_kv_writer #(
    parameter HD = 6,              // head dimension
    parameter RB = 8,              // bytes per row: max(4, nextPow2(HD))
    parameter KVH = 1,             // kv heads
    parameter DW = 1024,           // memory data bits
    parameter ADDRW = 32,
    parameter NW = 12,             // bits of a position
    parameter REGION = 4096,       // bytes per region (one layer, kv head and kind)
    // derived
    parameter BEAT = DW / 8,
    parameter P = BEAT / 4,
    parameter RPB = BEAT / RB,
    parameter BLOCK = BEAT + P * RB,   // bytes per block
    parameter JW = $clog2(HD + 3),
    parameter IW = (HD > 1) ? $clog2(HD) : 1,
    parameter HW = (KVH > 1) ? $clog2(KVH) : 1
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  cmd_valid,
    output wire                  cmd_ready,
    input  wire [NW+ADDRW-1:0]   cmd_data,     // {pos, addr of (layer, kv head 0, K)}
    input  wire                  x_valid,
    output wire                  x_ready,
    input  wire [31:0]           x_data,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                  x_last,       // implied by the count: KVH·HD k values, then as many v
    /* verilator lint_on UNUSEDSIGNAL */
    // AXI4 write address, data and response channels
    output wire                  aw_valid,
    input  wire                  aw_ready,
    output wire [ADDRW-1:0]      aw_addr,
    output wire [7:0]            aw_len,
    output wire                  w_valid,
    input  wire                  w_ready,
    output wire [DW-1:0]         w_data,
    output wire [BEAT-1:0]       w_strb,
    output wire                  w_last,
    input  wire                  b_valid,
    output wire                  b_ready,
    output wire                  done_valid,
    input  wire                  done_ready,
    output wire                  done_data
);
  localparam [3:0] S_IDLE = 4'd0, S_RECV = 4'd1, S_NORM = 4'd2, S_DIV = 4'd3, S_QUANT = 4'd4,
                   S_AWR = 4'd5, S_WR = 4'd6, S_AWS = 4'd7, S_WS = 4'd8, S_WAITB = 4'd9, S_DONE = 4'd10;
  reg [3:0] state;
  /* verilator lint_off WIDTH */
  localparam [JW-1:0] LAST_J = HD - 1;
  localparam [HW-1:0] LAST_H = KVH - 1;
  /* verilator lint_on WIDTH */

  // ---- the token: where its rows and scale words go
  reg [ADDRW-1:0] region;        // the current head vector's region
  reg [ADDRW-1:0] layer_base;
  reg [ADDRW-1:0] scale_off;     // block of pos
  reg [ADDRW-1:0] row_off;       // the beat of pos's row in its block
  reg [BEAT-1:0] scale_strb;
  reg [BEAT-1:0] row_strb;
  reg kind;                      // 0: k vectors, 1: v vectors
  reg [HW-1:0] head;

  wire [NW-1:0] cmd_pos = cmd_data[NW+ADDRW-1:ADDRW];
  wire [NW-1:0] pos_in_block = cmd_pos & (P - 1);
  wire [NW-1:0] block_of_pos = cmd_pos >> $clog2(P);

  // ---- the head vector
  reg [31:0] xbuf [0:HD-1];
  reg [JW-1:0] j;                // element counter of RECV and QUANT
  reg [31:0] absmax;
  wire [31:0] x_abs = x_data[31] ? (~x_data + 32'd1) : x_data;   // |−2^31| = 2^31 fits unsigned

  // NORM: the leading one of a and an = a << (31 − L)
  reg [4:0] lead;
  integer b;
  always @* begin
    lead = 5'd0;
    for (b = 0; b < 32; b = b + 1) if (absmax[b]) lead = b[4:0];
  end
  reg [4:0] L;
  reg [31:0] an;
  reg zero;

  // DIV: restoring division of 127·2^48 by an, 24 quotient bits
  reg [31:0] rem;                // < an, so 32 bits
  reg [23:0] R;
  reg [4:0] dcnt;
  wire [32:0] rem2 = {rem, 1'b0};
  wire take = rem2 >= {1'b0, an};
  /* verilator lint_off UNUSEDSIGNAL */
  wire [32:0] rem_sub = rem2 - {1'b0, an};   // < an when taken: its top bit is 0
  /* verilator lint_on UNUSEDSIGNAL */
  // the scale: at = an[31:15], p = at · 132104 (< 2^35), rounded half up at bit 18 or 19
  localparam [17:0] INV127 = 18'd132104;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [34:0] sp = an[31:15] * INV127;
  wire [17:0] m0 = (sp[34:17] + 18'd1) >> 1;   // shiftRound(p, 18)
  wire [16:0] m1 = (sp[34:18] + 17'd1) >> 1;   // shiftRound(p, 19)
  /* verilator lint_on UNUSEDSIGNAL */
  reg [23:0] scale;

  // QUANT: stage 1 the product, stage 2 the rounding shift
  reg signed [55:0] prod;
  reg prod_v;
  reg [JW-1:0] prod_j;
  wire [IW-1:0] ji = j[IW-1:0];
  wire [IW-1:0] prod_ji = prod_j[IW-1:0];
  wire signed [31:0] xj = xbuf[ji];
  wire [5:0] sh = {1'b0, L} + 6'd17;
  wire signed [56:0] rounded = {prod[55], prod} + (57'sd1 <<< (sh - 6'd1));
  /* verilator lint_off UNUSEDSIGNAL */
  wire signed [56:0] shifted = rounded >>> sh;   // in [−127, 127]: only its low byte is used
  /* verilator lint_on UNUSEDSIGNAL */
  reg [7:0] rowb [0:HD-1];

  wire [8*RB-1:0] row_word;
  genvar g;
  generate
    for (g = 0; g < RB; g = g + 1) begin : g_row
      if (g < HD) begin : g_val
        assign row_word[8*g+7:8*g] = rowb[g];
      end else begin : g_pad
        assign row_word[8*g+7:8*g] = 8'd0;
      end
    end
  endgenerate

  // ---- the ports
  assign cmd_ready = (state == S_IDLE);
  assign x_ready = (state == S_RECV);
  wire x_fire = x_valid && x_ready;
  assign aw_valid = (state == S_AWR) || (state == S_AWS);
  /* verilator lint_off WIDTH */
  assign aw_addr = region + ((state == S_AWR) ? row_off : scale_off);
  /* verilator lint_on WIDTH */
  assign aw_len = 8'd0;
  assign w_valid = (state == S_WR) || (state == S_WS);
  assign w_data = (state == S_WR) ? {RPB{row_word}} : {P{8'd0, scale}};
  assign w_strb = (state == S_WR) ? row_strb : scale_strb;
  assign w_last = 1'b1;
  assign b_ready = 1'b1;
  wire aw_fire = aw_valid && aw_ready;
  wire w_fire = w_valid && w_ready;
  wire b_fire = b_valid && b_ready;
  reg [7:0] pending;             // writes whose B has not come (at most 4·KVH)
  assign done_valid = (state == S_DONE);
  assign done_data = 1'b1;
  wire last_vector = kind && (head == LAST_H);

  always @(posedge clk) begin
    if (rst) begin
      state <= S_IDLE;
      pending <= 8'd0;
    end else begin
      /* verilator lint_off WIDTH */
      pending <= pending + aw_fire - b_fire;
      /* verilator lint_on WIDTH */
      case (state)
        S_IDLE: if (cmd_valid) state <= S_RECV;
        S_RECV: if (x_fire && j == LAST_J) state <= S_NORM;
        S_NORM: state <= S_DIV;
        S_DIV: if (dcnt == 5'd23) state <= S_QUANT;
        S_QUANT: if (prod_j == LAST_J && prod_v) state <= S_AWR;
        S_AWR: if (aw_fire) state <= S_WR;
        S_WR: if (w_fire) state <= S_AWS;
        S_AWS: if (aw_fire) state <= S_WS;
        S_WS: if (w_fire) state <= last_vector ? S_WAITB : S_RECV;
        S_WAITB: if (pending == 0) state <= S_DONE;
        S_DONE: if (done_ready) state <= S_IDLE;
        default: state <= S_IDLE;
      endcase
    end
    case (state)
      S_IDLE: begin
        layer_base <= cmd_data[ADDRW-1:0];
        region <= cmd_data[ADDRW-1:0];
        /* verilator lint_off WIDTH */
        scale_off <= block_of_pos * BLOCK;
        row_off <= block_of_pos * BLOCK + BEAT + (pos_in_block / RPB) * BEAT;
        scale_strb <= {{(BEAT - 4) {1'b0}}, 4'hf} << (4 * pos_in_block);
        row_strb <= {{(BEAT - RB) {1'b0}}, {RB{1'b1}}} << (RB * (pos_in_block % RPB));
        /* verilator lint_on WIDTH */
        kind <= 1'b0;
        head <= {HW{1'b0}};
        j <= {JW{1'b0}};
        absmax <= 32'd0;
      end
      S_RECV: if (x_fire) begin
        xbuf[ji] <= x_data;
        if (x_abs > absmax) absmax <= x_abs;
        /* verilator lint_off WIDTH */
        j <= (j == LAST_J) ? 0 : j + 1'b1;
        /* verilator lint_on WIDTH */
      end
      S_NORM: begin
        L <= lead;
        an <= absmax << (5'd31 - lead);
        zero <= (absmax == 32'd0);
        rem <= {1'b0, 7'd127, 24'd0};
        dcnt <= 5'd0;
      end
      S_DIV: begin
        rem <= take ? rem_sub[31:0] : rem2[31:0];
        R <= {R[22:0], take};
        dcnt <= dcnt + 5'd1;
        if (zero) scale <= 24'd0;
        else if (m0[16]) scale <= {{3'b0, L} - 8'd37, m1[15:0]};
        else scale <= {{3'b0, L} - 8'd38, m0[15:0]};
        prod_v <= 1'b0;
      end
      S_QUANT: begin
        // stage 1: x_j · R (zero when a = 0: R is then garbage, q must be 0)
        prod <= zero ? 56'sd0 : xj * $signed({1'b0, R});
        prod_j <= j;
        /* verilator lint_off WIDTH */
        prod_v <= (j < HD);
        if (j < HD) j <= j + 1'b1;
        /* verilator lint_on WIDTH */
        // stage 2: the rounding shift
        if (prod_v) rowb[prod_ji] <= shifted[7:0];
      end
      S_WS: if (w_fire) begin
        j <= {JW{1'b0}};
        absmax <= 32'd0;
        if (head == LAST_H) begin
          head <= {HW{1'b0}};
          kind <= 1'b1;
          /* verilator lint_off WIDTH */
          region <= layer_base + REGION;
        end else begin
          head <= head + 1'b1;
          region <= region + 2 * REGION;
          /* verilator lint_on WIDTH */
        end
      end
      default: ;
    endcase
  end
endmodule
