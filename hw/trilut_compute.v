// The compute datapath of an engine: one pass of `steps` steps over `groups` row groups of the
// weights at `base` in the buffer. Per step it takes T·G activations, builds T tables (E cycles,
// double-buffered), then reads the bank word of every row group g (P rows per cycle), looks up
// T entries per row, sums them in an adder tree and accumulates into the row's int32 partial sum
// (from zero when `clear`); with `drain` it then streams the sums out, one beat of P lanes per
// row group.
// Lookup pipeline (fixed latency, never stalls): issue address → weight buffer (2 cycles) → table
// read and sign → register → adder tree (TREE_STAGES) → partial-sum read-add-write.
//
// Dequantization (DEQUANT engines, a pass with `dequant`): the steps form column groups of
// `gsteps` steps (0: one group of all steps). After each group's steps comes a sweep over the row
// groups that reads their scale words (the next bank word; lane p: bits [0,16) mantissa m,
// [16,32) offset mantissa mu, signed) and takes, per row, the exact 64-bit total
//   y·m + [pair: y'·m' of the odd lane] + [asym: Σx·mu]
// of the group's int32 sum y and activation sum Σx. Totals add up in a per-row accumulator; the
// last group's sweep writes round(total / 2^shift), rounding half up and saturating to int32.
// With `pair` (two trit-planes) lanes 2j and 2j+1 hold the two planes of one row and lane 2j
// gets their sum. Bank words run in issue order: a group's steps, then its scale words.
//
// BASELINE engines have no tables: a step's "build" latches its T·G activations (one cycle, in
// the same two halves the tables use), a bank word holds each weight as a 2-bit code (01 = +1,
// 10 = -1), and each lane sums T·G selected ±activations in its adder tree.
module trilut_compute #(
    parameter G = 3,
    /* verilator lint_off UNUSEDPARAM */
    parameter E = 27,          // table entries, address bits, index bits and encoding:
    parameter EB = 5,          // a baseline engine has no tables and leaves them unused
    parameter IB = 5,
    parameter MIRRORED = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter EW = 10,
    parameter T = 28,
    parameter P = 16,
    parameter AW = 12,
    parameter CW = 13,
    parameter MAXRG = 512,
    parameter LEVELS_PER_STAGE = 2,
    parameter DEQUANT = 0,
    parameter BASELINE = 0,
    parameter SHIFTW = 6,      // bits of shift (the descriptor's mode field)
    // derived
    parameter RGW = $clog2(MAXRG + 1),
    parameter PAW = (MAXRG > 1) ? $clog2(MAXRG) : 1,
    parameter LANE_N = (BASELINE != 0) ? T * G : T,   // values each lane's adder tree sums
    parameter LEVELS = $clog2(LANE_N),
    parameter TREE_STAGES = (LEVELS + LEVELS_PER_STAGE - 1) / LEVELS_PER_STAGE
) (
    input  wire               clk,
    input  wire               rst,
    // a pass: accepted when `idle`
    input  wire               start,
    input  wire [CW-1:0]      steps,
    input  wire [RGW-1:0]     groups,
    input  wire [AW-1:0]      base,
    input  wire               clear,
    input  wire               drain,
    input  wire               dequant,
    input  wire               pair,
    input  wire               asym,
    input  wire [SHIFTW-1:0]  shift,
    input  wire [CW-1:0]      gsteps,
    output wire               idle,
    // activations and results
    input  wire               x_valid,
    output wire               x_ready,
    input  wire [T*G*8-1:0]   x_data,
    output wire               y_valid,
    input  wire               y_ready,
    output wire [P*32-1:0]    y_data,
    output wire               y_last,
    // weight buffer read port: bank words of all P lanes, two cycles after the address
    output wire [AW-1:0]      rd_addr,
    input  wire [P*T*IB-1:0]  bank_rdata,
    // a lookup of weights issues this cycle (for utilization figures)
    output wire               issuing
);
  localparam [1:0] ST_IDLE = 2'd0, ST_RUN = 2'd2, ST_DRAIN = 2'd3;
  localparam SW = EW + LEVELS;              // adder-tree sum width
  localparam PIPE = 3 + TREE_STAGES;        // stage at which the partial sum is written
  localparam WB = T * IB;

  reg [1:0] state;
  reg [CW-1:0] count;
  reg [RGW-1:0] n_groups;
  reg clear_q, drain_q;
  reg dq_q, pair_q, asym_q;
  reg [SHIFTW-1:0] shift_q;
  reg [CW-1:0] gsteps_q;
  assign idle = (state == ST_IDLE);
  wire dq = (DEQUANT != 0) && dq_q;

  // ---------------------------------------------------------------- table building
  reg [CW-1:0] bld_step;   // steps whose build has started
  reg [CW-1:0] built;      // steps whose tables are complete
  reg [CW-1:0] tbl_done;   // steps whose tables every lookup has finished reading
  wire pre_free, pre_done;
  // The half written for step b was last read by step b-2: wait until that step's reads are over.
  wire half_free = ({1'b0, bld_step} <= {1'b0, tbl_done} + 1'b1);
  assign x_ready = (state == ST_RUN) && (bld_step < count) && half_free && pre_free;
  wire x_fire = x_valid && x_ready;


  // ---------------------------------------------------------------- issue
  // The issuer walks row groups of a weight step (iss_w) or of a sweep, one per cycle.
  reg [CW-1:0] iss_w;      // weight steps issued
  reg [CW-1:0] in_group;   // weight steps issued in the current column group
  reg first_group;         // the current column group is the pass's first
  reg [RGW-1:0] iss_g;
  reg [AW-1:0] iss_base;   // bank word of row group 0 of the current step or sweep
  wire [CW-1:0] group_len = (gsteps_q == {CW{1'b0}}) ? count : gsteps_q;
  wire weights_left = (iss_w < count);
  // A sweep follows every full column group and the pass's last (possibly shorter) one: it is
  // dq && in_group != 0 && (in_group == group_len || !weights_left), kept in a register updated
  // where in_group and iss_w change, so that the issue (and the pass start sharing its enables)
  // does not wait for those compares.
  reg sweep_q;
  wire sweep = sweep_q;
  wire last_sweep = sweep && !weights_left;
  wire issue_weights = (state == ST_RUN) && !sweep && weights_left && (iss_w < built);
  wire issue = issue_weights || ((state == ST_RUN) && sweep);
  assign issuing = issue_weights;
  wire iss_last_g = (iss_g + 1'b1 == n_groups);
  /* verilator lint_off WIDTH */
  assign rd_addr = iss_base + iss_g;
  /* verilator lint_on WIDTH */

  // side band of the lookup pipeline, stage 1 .. PIPE
  reg [PIPE:1] pv;
  reg [2:1] plast;          // last row group of a weight step (stage 2, the table read, needs it)
  reg [PIPE:1] pclear;
  reg [PIPE:1] psweep;
  reg [PIPE:1] plastsweep;
  reg [PIPE:1] pfirstgroup;
  reg [2:1] phalf;          // table half (read at stage 2)
  reg [RGW-1:0] pg [1:PIPE];
  integer s;
  always @(posedge clk) begin
    if (rst) begin
      pv <= {PIPE{1'b0}};
    end else begin
      pv <= {pv[PIPE-1:1], issue};
    end
    plast <= {plast[1], issue_weights && iss_last_g};
    // a column group's first step starts its partial sums from zero
    pclear <= {pclear[PIPE-1:1], (clear_q && iss_w == {CW{1'b0}}) || (dq && in_group == {CW{1'b0}})};
    psweep <= {psweep[PIPE-1:1], sweep};
    plastsweep <= {plastsweep[PIPE-1:1], last_sweep};
    pfirstgroup <= {pfirstgroup[PIPE-1:1], first_group};
    phalf <= {phalf[1], iss_w[0]};
    pg[1] <= iss_g;
    for (s = 2; s <= PIPE; s = s + 1) pg[s] <= pg[s-1];
  end

  // ---------------------------------------------------------------- tables, lookup, sign (stage 2 → 3)
  wire [P*LANE_N*EW-1:0] looked_up;   // lane-major: lane p, value j at (p*LANE_N + j)*EW
  genvar p, t;
  generate
    if (BASELINE != 0) begin : g_latch
      // the step's activations, in the half its lookups read; "built" the cycle after
      reg [T*G*8-1:0] xbuf [0:1];
      reg latched;
      always @(posedge clk) begin
        latched <= !rst && x_fire;
        if (x_fire) xbuf[bld_step[0]] <= x_data;
      end
      assign pre_free = 1'b1;
      assign pre_done = latched;
      wire [T*G*8-1:0] xs = xbuf[phalf[2]];
      for (p = 0; p < P; p = p + 1) begin : g_lane_sel
        for (t = 0; t < T * G; t = t + 1) begin : g_weight
          wire [1:0] code = bank_rdata[p*WB + 2*t +: 2];
          wire [EW-1:0] x = {{(EW - 8){xs[t*8+7]}}, xs[t*8 +: 8]};
          assign looked_up[(p*LANE_N+t)*EW +: EW] = code[0] ? x : (code[1] ? -x : {EW{1'b0}});
        end
      end
    end else begin : g_tables
      wire pre_we;
      wire [EB:0] pre_waddr;
      wire [T*EW-1:0] pre_wdata;
      trilut_precompute #(.G(G), .T(T), .E(E), .EB(EB), .EW(EW)) precompute (
          .clk(clk), .rst(rst), .start(x_fire), .half(bld_step[0]), .x_data(x_data),
          .free(pre_free), .done(pre_done), .we(pre_we), .waddr(pre_waddr), .wdata(pre_wdata));
      for (t = 0; t < T; t = t + 1) begin : g_tbl
        wire [P*(EB+1)-1:0] raddr;
        wire [P*EW-1:0] rdata;
        for (p = 0; p < P; p = p + 1) begin : g_port
          assign raddr[p*(EB+1) +: (EB+1)] = {phalf[2], bank_rdata[p*WB + t*IB +: EB]};
          if (MIRRORED != 0) begin : g_sign
            wire negate = bank_rdata[p*WB + t*IB + IB - 1];
            assign looked_up[(p*LANE_N+t)*EW +: EW] = negate ? -rdata[p*EW +: EW] : rdata[p*EW +: EW];
          end else begin : g_plain
            assign looked_up[(p*LANE_N+t)*EW +: EW] = rdata[p*EW +: EW];
          end
        end
        trilut_table #(.W(EW), .AW(EB + 1), .P(P)) table_copies (
            .clk(clk), .we(pre_we), .waddr(pre_waddr), .wdata(pre_wdata[t*EW +: EW]),
            .raddr(raddr), .rdata(rdata));
      end
    end
  endgenerate

  reg [P*LANE_N*EW-1:0] looked_up_q;
  always @(posedge clk) looked_up_q <= looked_up;

  // ---------------------------------------------------------------- adder trees (stage 3 → PIPE)
  wire [P*SW-1:0] row_sum;
  generate
    for (p = 0; p < P; p = p + 1) begin : g_lane
      trilut_adder_tree #(.N(LANE_N), .IW(EW), .LEVELS_PER_STAGE(LEVELS_PER_STAGE)) tree (
          .clk(clk), .in(looked_up_q[p*LANE_N*EW +: LANE_N*EW]), .sum(row_sum[p*SW +: SW]));
      assign row_sum_32[p*32 +: 32] = {{(32 - SW){row_sum[p*SW + SW - 1]}}, row_sum[p*SW +: SW]};
    end
  endgenerate

  // ---------------------------------------------------------------- partial sums
  reg [RGW-1:0] drain_g;
  reg y_valid_q, y_last_q;
  wire drain_en = (state == ST_DRAIN) && (!y_valid_q || y_ready);
  wire drain_read = drain_en && (drain_g < n_groups);
  wire [P*32-1:0] psum_rdata;
  wire [P*32-1:0] psum_wdata;
  wire psum_we;
  wire [PAW-1:0] psum_waddr;   // the update's row group (stage PIPE), or the dequantized result's
  wire dq_busy;                // the dequantization pipeline holds a sweep
  wire zero_old;               // the update starts from zero (a column group's first step, a dequantized result)
  wire [P*32-1:0] add_in;      // what the update adds: the row sums, or the dequantized results
  wire [P*32-1:0] row_sum_32;
  /* verilator lint_off WIDTH */
  wire [PAW-1:0] psum_raddr = (state == ST_DRAIN) ? drain_g : pg[PIPE-1];
  /* verilator lint_on WIDTH */
  // A row group read in the cycle its previous update is written (a one-group tile's scale sweep
  // right after its last step) must see that update: forward the write to the read.
  reg bypass;
  reg [P*32-1:0] bypass_data;
  wire [P*32-1:0] psum_now = bypass ? bypass_data : psum_rdata;
  always @(posedge clk) begin
    bypass <= (state != ST_DRAIN) && psum_we && pv[PIPE-1] && (psum_waddr == psum_raddr);
    bypass_data <= psum_wdata;
  end

  wire [P*32-1:0] accumulated;
  generate
    // A dequantizing engine writes its results through the same adder (old forced to zero, the
    // result in place of the row sum), so that no select follows the adder on the block RAM's
    // read-add-write path: `zero_old` and `add_in` come from registers.
    for (p = 0; p < P; p = p + 1) begin : g_acc
      wire [31:0] old = zero_old ? 32'd0 : psum_now[p*32 +: 32];
      assign accumulated[p*32 +: 32] = old + add_in[p*32 +: 32];
    end
    if (DEQUANT != 0) begin : g_dequant
      // Σx of each weight step, kept by table half like the tables themselves, joins the column
      // group's sum when the step issues; a sweep carries its group's sum down the pipeline.
      // The T·G activations are summed in two register stages, chunks of XCH (about √(T·G))
      // and then the chunks, so that neither is a long multi-operand sum; the step's sum is written
      // the cycle after its activations are taken, and a step issues two cycles after at the
      // soonest (a baseline engine's one-cycle latch), so it is always there in time.
      localparam XN = T * G;
      localparam XL = (XN > 1) ? $clog2(XN) : 0;
      localparam XLA = (XL + 1) / 2;                 // levels summed in the first stage
      localparam XCH = 1 << XLA;                     // activations per chunk
      localparam XNC = (XN + XCH - 1) / XCH;         // chunks
      localparam XCW = 8 + XLA;                      // a chunk's sum: |Σ| ≤ 128·XCH
      reg signed [31:0] step_sum [0:1];
      reg signed [31:0] group_sum;
      reg [XNC*XCW-1:0] x_chunk, x_chunk_q;
      reg x_chunk_v, x_chunk_h;
      reg signed [31:0] x_sum;
      reg signed [XCW-1:0] chunk_acc;
      integer j, c;
      always @(*) begin
        for (c = 0; c < XNC; c = c + 1) begin
          chunk_acc = {XCW{1'b0}};
          for (j = c * XCH; j < (c + 1) * XCH && j < XN; j = j + 1)
            chunk_acc = chunk_acc + {{(XCW - 8){x_data[j*8+7]}}, x_data[j*8 +: 8]};
          x_chunk[c*XCW +: XCW] = chunk_acc;
        end
        x_sum = 32'sd0;
        for (c = 0; c < XNC; c = c + 1) x_sum = x_sum + {{(32 - XCW){x_chunk_q[c*XCW+XCW-1]}}, x_chunk_q[c*XCW +: XCW]};
      end
      wire step_first_group = issue_weights && (iss_g == {RGW{1'b0}});
      always @(posedge clk) begin
        x_chunk_q <= x_chunk;
        x_chunk_v <= !rst && x_fire;
        x_chunk_h <= bld_step[0];
        if (x_chunk_v) step_sum[x_chunk_h] <= x_sum;
        if (step_first_group) group_sum <= (in_group == {CW{1'b0}} ? 32'sd0 : group_sum) + step_sum[iss_w[0]];
      end
      reg signed [31:0] psumx [1:PIPE];
      // the scale words travel with the sweep from the buffer (stage 2) to the partial sum's read (stage PIPE)
      reg [P*32-1:0] scales [3:PIPE];
      integer k, p2;
      always @(posedge clk) begin
        psumx[1] <= group_sum;
        for (k = 2; k <= PIPE; k = k + 1) psumx[k] <= psumx[k-1];
        for (p2 = 0; p2 < P; p2 = p2 + 1) scales[3][p2*32 +: 32] <= bank_rdata[p2*WB +: 32];
        for (k = 4; k <= PIPE; k = k + 1) scales[k] <= scales[k-1];
      end

      // The stage is a pipeline of DQ registers after the partial sum's read (stage PIPE), so that
      // no path is longer than a DSP between registers or a 64-bit adder (docs/clock.md):
      //   d1  the row sums y, scale mantissas m and mu, and Σx (0 unless asym) in registers;
      //   d2  the products as four 17 × 16 halves, one DSP each (y·m and Σx·mu: low 16 bits
      //       unsigned, high 16 signed), registered;
      //   d3  each product's halves added: y·m and Σx·mu, 48 bits;
      //   d4  y·m + [pair: the odd lane's y'·m'] and Σx·mu + [last sweep: the rounding half];
      //   d5  their sum;
      //   d6  + the row's earlier column groups (the accumulator is read in the cycle the sweep's
      //       row group is in d4 and written back, except after the last sweep, in the cycle it
      //       is in d5): the total (+ half, after the last sweep);
      //   d7  shifted right by 8·shift[5:3];
      //   d8  shifted right by shift[2:0] and saturated to int32; written (last sweep) through
      //       the partial sums' adder, in place of a row sum.
      // Adding the half before the shift instead of after keeps round half up: the same bits as
      // (total + 2^(shift−1)) >>> shift, since 64-bit addition is associative modulo 2^64.
      // Hazards: a row group's next sweep comes at least two cycles after this one (one weight
      // step between), so its accumulator read (at d4) follows this one's write (at d5): no
      // forwarding needed. The last
      // sweep's result is written in d8, after every weight step of the pass; the pass ends (and a
      // drain reads) only once the pipeline is empty.
      localparam DQ = 8;
      reg [DQ:1] dv, dlast;
      reg [5:1] dfirst;       // first column group: read until the accumulator's update (d5)
      reg [RGW-1:0] dg [1:DQ];
      always @(posedge clk) begin
        if (rst) dv <= {DQ{1'b0}};
        else dv <= {dv[DQ-1:1], pv[PIPE] && psweep[PIPE]};
        dlast <= {dlast[DQ-1:1], plastsweep[PIPE]};
        dfirst <= {dfirst[4:1], pfirstgroup[PIPE]};
        dg[1] <= pg[PIPE];
        for (k = 2; k <= DQ; k = k + 1) dg[k] <= dg[k-1];
      end
      assign dq_busy = (dv != {DQ{1'b0}});
      // the rounding half, 2^(shift−1) (0 when shift = 0), fixed for the pass
      // (from the latched shift: valid the cycle after the pass starts, long before a sweep)
      reg [63:0] half_q;
      always @(posedge clk) half_q <= (shift_q == {SHIFTW{1'b0}}) ? 64'd0 : (64'd1 << (shift_q - 1'b1));

      reg signed [31:0] d1_x;
      always @(posedge clk) d1_x <= asym_q ? psumx[PIPE] : 32'sd0;
      // per-row accumulator of the column groups' totals
      wire [P*64-1:0] acc_rdata;
      wire [P*64-1:0] acc_wdata;
      /* verilator lint_off WIDTH */
      wire [PAW-1:0] acc_raddr = dg[4];
      wire [PAW-1:0] acc_waddr = dg[5];
      /* verilator lint_on WIDTH */
      trilut_psum_mem #(.W(P * 64), .DEPTH(MAXRG), .AW(PAW)) totals (
          .clk(clk), .re(1'b1), .raddr(acc_raddr), .rdata(acc_rdata),
          .we(dv[5] && !dlast[5]), .waddr(acc_waddr), .wdata(acc_wdata));
      // every lane's y·m, for the even lanes' partners (the odd lanes' only are read)
      /* verilator lint_off UNUSEDSIGNAL */
      wire [P*48-1:0] d3_prod_all;
      /* verilator lint_on UNUSEDSIGNAL */
      wire [P*32-1:0] dequantized;
      for (p = 0; p < P; p = p + 1) begin : g_lane
        reg signed [31:0] d1_y;
        reg signed [15:0] d1_m, d1_mu;
        always @(posedge clk) begin
          d1_y <= psum_now[p*32 +: 32];
          d1_m <= scales[PIPE][p*32 +: 16];
          d1_mu <= scales[PIPE][p*32+16 +: 16];
        end
        // a 32 × 16 product as two 17 × 16 ones that each fit a DSP's multiplier
        reg signed [32:0] d2_yl, d2_xl;
        reg signed [31:0] d2_yh, d2_xh;
        always @(posedge clk) begin
          d2_yl <= $signed({1'b0, d1_y[15:0]}) * d1_m;
          d2_yh <= $signed(d1_y[31:16]) * d1_m;
          d2_xl <= $signed({1'b0, d1_x[15:0]}) * d1_mu;
          d2_xh <= $signed(d1_x[31:16]) * d1_mu;
        end
        reg signed [47:0] d3_prod, d3_off;
        always @(posedge clk) begin
          d3_prod <= {d2_yh, 16'd0} + {{15{d2_yl[32]}}, d2_yl};
          d3_off <= {d2_xh, 16'd0} + {{15{d2_xl[32]}}, d2_xl};
        end
        assign d3_prod_all[p*48 +: 48] = d3_prod;
        wire signed [63:0] partner;
        if ((p % 2 == 0) && (p + 1 < P)) begin : g_pair
          wire signed [47:0] prod1 = d3_prod_all[(p+1)*48 +: 48];
          assign partner = pair_q ? {{16{prod1[47]}}, prod1} : 64'sd0;
        end else begin : g_single
          assign partner = 64'sd0;
        end
        reg signed [63:0] d4_a, d4_b, d5_c, d6_total, d7_coarse;
        always @(posedge clk) begin
          d4_a <= {{16{d3_prod[47]}}, d3_prod} + partner;
          d4_b <= {{16{d3_off[47]}}, d3_off} + (dlast[3] ? $signed(half_q) : 64'sd0);
          d5_c <= d4_a + d4_b;
        end
        wire signed [63:0] earlier = dfirst[5] ? 64'sd0 : acc_rdata[p*64 +: 64];
        wire signed [63:0] total = earlier + d5_c;
        assign acc_wdata[p*64 +: 64] = total;
        always @(posedge clk) begin
          d6_total <= total;
          d7_coarse <= d6_total >>> {shift_q[5:3], 3'b000};
        end
        // the fine shift and the saturation (bits past 32 only tell it) into d8
        wire signed [63:0] fine = d7_coarse >>> shift_q[2:0];
        wire over = (fine > 64'sh7fffffff);
        wire under = (fine < -64'sh80000000);
        reg [31:0] d8_out;
        always @(posedge clk) d8_out <= over ? 32'h7fffffff : under ? 32'h80000000 : fine[31:0];
        assign dequantized[p*32 +: 32] = d8_out;
      end
      // a column group's sweep hands its total to the accumulator; only the last writes a result
      wire dq_write = dv[DQ] && dlast[DQ];
      reg zero_q;
      always @(posedge clk) zero_q <= pclear[PIPE-1] || (dv[DQ-1] && dlast[DQ-1]);
      assign zero_old = zero_q;   // pclear[PIPE] || dq_write, one register
      assign add_in = dq_write ? dequantized : row_sum_32;
      assign psum_wdata = accumulated;
      assign psum_we = dq_write || (pv[PIPE] && !psweep[PIPE]);
      /* verilator lint_off WIDTH */
      assign psum_waddr = dq_write ? dg[DQ] : pg[PIPE];
      /* verilator lint_on WIDTH */
    end else begin : g_plain
      assign psum_wdata = accumulated;
      assign psum_we = pv[PIPE];
      assign dq_busy = 1'b0;
      assign zero_old = pclear[PIPE];
      assign add_in = row_sum_32;
      /* verilator lint_off WIDTH */
      assign psum_waddr = pg[PIPE];
      /* verilator lint_on WIDTH */
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused = &{1'b0, dequant, pair, asym, shift, gsteps, psweep, plastsweep, pfirstgroup, pair_q, asym_q, shift_q};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate
  trilut_psum_mem #(.W(P * 32), .DEPTH(MAXRG), .AW(PAW)) psums (
      .clk(clk), .re((state == ST_DRAIN) ? drain_read : 1'b1), .raddr(psum_raddr), .rdata(psum_rdata),
      .we(psum_we), .waddr(psum_waddr), .wdata(psum_wdata));

  assign y_valid = y_valid_q;
  assign y_last = y_last_q;
  assign y_data = psum_rdata;

  // ---------------------------------------------------------------- control
  wire issued_all = !weights_left && !sweep;
  wire run_done = (state == ST_RUN) && issued_all && (pv == {PIPE{1'b0}}) && !dq_busy;
  always @(posedge clk) begin
    if (rst) begin
      state <= ST_IDLE;
      y_valid_q <= 1'b0;
      y_last_q <= 1'b0;
    end else begin
      case (state)
        ST_IDLE: if (start) state <= ST_RUN;
        ST_RUN: if (run_done) state <= drain_q ? ST_DRAIN : ST_IDLE;
        ST_DRAIN: if (y_valid_q && y_ready && y_last_q) state <= ST_IDLE;
        default: state <= ST_IDLE;
      endcase
      if (drain_en) begin
        y_valid_q <= drain_read;
        y_last_q <= drain_read && (drain_g + 1'b1 == n_groups);
      end
    end
    if (start && idle) begin
      sweep_q <= 1'b0;
      count <= steps;
      n_groups <= groups;
      clear_q <= clear;
      drain_q <= drain;
      dq_q <= dequant;
      pair_q <= pair;
      asym_q <= asym;
      shift_q <= shift;
      gsteps_q <= gsteps;
      bld_step <= {CW{1'b0}};
      built <= {CW{1'b0}};
      tbl_done <= {CW{1'b0}};
      iss_w <= {CW{1'b0}};
      in_group <= {CW{1'b0}};
      first_group <= 1'b1;
      iss_g <= {RGW{1'b0}};
      iss_base <= base;
      drain_g <= {RGW{1'b0}};
    end else begin
      if (x_fire) bld_step <= bld_step + 1'b1;
      if (pre_done) built <= built + 1'b1;
      if (pv[2] && plast[2]) tbl_done <= tbl_done + 1'b1;
      if (issue) begin
        if (iss_last_g) begin
          iss_g <= {RGW{1'b0}};
          /* verilator lint_off WIDTH */
          iss_base <= iss_base + n_groups;
          /* verilator lint_on WIDTH */
          if (sweep) begin
            in_group <= {CW{1'b0}};
            first_group <= 1'b0;
            sweep_q <= 1'b0;
          end else begin
            iss_w <= iss_w + 1'b1;
            in_group <= in_group + 1'b1;
            /* verilator lint_off WIDTH */
            sweep_q <= dq && (in_group + 1'b1 == group_len || iss_w + 1'b1 >= count);
            /* verilator lint_on WIDTH */
          end
        end else begin
          iss_g <= iss_g + 1'b1;
        end
      end
      if (drain_read) drain_g <= drain_g + 1'b1;
    end
  end
endmodule
