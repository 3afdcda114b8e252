// The streaming engine: weights come from off-chip memory while the engine computes.
//
// The host streams tile descriptors; each names a weight tile in memory (address, beats, words)
// and the pass over it (steps, row groups, tokens). The loader fetches tile i+1 into one half of
// the weight buffer while the compute side runs tile i from the other half, once per token:
// a pass of trilut_compute with fresh partial sums that drains the token's results. A tile holds
// every step of its rows, so no partial sum outlives its pass, and prefill reuses a loaded tile
// for all its tokens.
//
// The descriptor's layout is src/engine/descriptor.ts: the generated top sets the field widths
// below and splits the mode word into the named desc_dequant .. desc_shift inputs.
module trilut_stream_core #(
    parameter G = 3,
    parameter E = 27,
    parameter EB = 5,
    parameter IB = 5,
    parameter EW = 10,
    parameter MIRRORED = 0,
    parameter T = 28,
    parameter P = 16,
    parameter C = 2,
    parameter DEPTH = 4096,     // words per bank, both halves
    parameter ULTRA = 1,
    parameter MAXRG = 512,
    parameter LEVELS_PER_STAGE = 2,
    parameter BASELINE = 0,
    parameter DW = 1024,
    parameter ADDRW = 32,
    parameter Q = 14,
    parameter BW = 20,
    parameter WW = 24,
    parameter TW = 16,
    parameter MAXBURST = 32,
    parameter MAXOUT = 8,
    parameter DEQUANT = 0,
    parameter CW = $clog2(DEPTH + 1),   // steps, gsteps (step counters reach DEPTH)
    parameter RGW = $clog2(MAXRG + 1),  // groups
    parameter SHIFTW = 6,               // shift
    // derived
    parameter AW = $clog2(DEPTH)
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              desc_valid,
    output wire              desc_ready,
    input  wire [ADDRW-1:0]  desc_addr,
    input  wire [BW-1:0]     desc_beats,
    input  wire [WW-1:0]     desc_words,
    input  wire [CW-1:0]     desc_steps,
    input  wire [RGW-1:0]    desc_groups,
    input  wire [TW-1:0]     desc_tokens,
    input  wire              desc_dequant,  // the mode word's fields
    input  wire              desc_pair,
    input  wire              desc_asym,
    input  wire [SHIFTW-1:0] desc_shift,
    input  wire [CW-1:0]     desc_gsteps,   // steps per column group of scales (0: one group)
    output wire              ar_valid,
    input  wire              ar_ready,
    output wire [ADDRW-1:0]  ar_addr,
    output wire [7:0]        ar_len,
    input  wire              r_valid,
    output wire              r_ready,
    input  wire [DW-1:0]     r_data,
    input  wire              r_last,
    input  wire              x_valid,
    output wire              x_ready,
    input  wire [T*G*8-1:0]  x_data,
    output wire              y_valid,
    input  wire              y_ready,
    output wire [P*32-1:0]   y_data,
    output wire              y_last,
    output wire              busy
);
  localparam PC = P * C;
  localparam CLW = (PC > 1) ? $clog2(PC) : 1;
  localparam QW = $clog2(Q + 1);
  localparam LW = ADDRW + BW + WW;        // loader queue entry
  // compute queue entry: {steps, gsteps, groups, tokens, shift, asym, pair, dequant}, at these offsets
  localparam R_DEQUANT = 0;
  localparam R_PAIR = R_DEQUANT + 1;
  localparam R_ASYM = R_PAIR + 1;
  localparam R_SHIFT = R_ASYM + 1;
  localparam R_TOKENS = R_SHIFT + SHIFTW;
  localparam R_GROUPS = R_TOKENS + TW;
  localparam R_GSTEPS = R_GROUPS + RGW;
  localparam R_STEPS = R_GSTEPS + CW;
  localparam RW = R_STEPS + CW;

  // ---------------------------------------------------------------- descriptor queues
  wire lq_full, lq_empty, rq_full, rq_empty, lq_pop, rq_pop;
  wire [LW-1:0] lq_out;
  wire [RW-1:0] rq_out;
  assign desc_ready = !lq_full && !rq_full;
  wire desc_fire = desc_valid && desc_ready;
  trilut_fifo #(.W(LW), .DEPTH(2)) load_queue (
      .clk(clk), .rst(rst), .push(desc_fire), .din({desc_addr, desc_beats, desc_words}), .full(lq_full),
      .pop(lq_pop), .dout(lq_out), .empty(lq_empty));
  trilut_fifo #(.W(RW), .DEPTH(2)) run_queue (
      .clk(clk), .rst(rst), .push(desc_fire), .din({desc_steps, desc_gsteps, desc_groups, desc_tokens, desc_shift, desc_asym, desc_pair, desc_dequant}), .full(rq_full),
      .pop(rq_pop), .dout(rq_out), .empty(rq_empty));

  // ---------------------------------------------------------------- loader and buffer
  reg [1:0] half_full;
  wire [1:0] half_loaded;
  wire ld_valid, loading;
  wire [Q*72-1:0] ld_data;
  wire [CLW-1:0] ld_col0;
  wire [AW-1:0] ld_addr0;
  wire [QW-1:0] ld_slots;
  trilut_axi_loader #(
      .DW(DW), .ADDRW(ADDRW), .Q(Q), .PC(PC), .AW(AW), .HALF(DEPTH / 2), .BW(BW), .WW(WW), .MAXBURST(MAXBURST), .MAXOUT(MAXOUT)
  ) loader (
      .clk(clk), .rst(rst),
      .tile_valid(!lq_empty), .tile_pop(lq_pop),
      .tile_addr(lq_out[LW-1 -: ADDRW]), .tile_beats(lq_out[WW +: BW]), .tile_words(lq_out[WW-1:0]),
      .half_full(half_full), .half_loaded(half_loaded),
      .ar_valid(ar_valid), .ar_ready(ar_ready), .ar_addr(ar_addr), .ar_len(ar_len),
      .r_valid(r_valid), .r_ready(r_ready), .r_data(r_data), .r_last(r_last),
      .ld_valid(ld_valid), .ld_data(ld_data), .ld_col0(ld_col0), .ld_addr0(ld_addr0), .ld_slots(ld_slots),
      .loading(loading));

  localparam WB = T * IB;
  wire [AW-1:0] rd_addr;
  wire [P*WB-1:0] bank_rdata;
  trilut_stream_buffer #(.P(P), .C(C), .WB(WB), .DEPTH(DEPTH), .AW(AW), .Q(Q), .ULTRA(ULTRA)) buffer (
      .clk(clk), .ld_valid(ld_valid), .ld_data(ld_data), .ld_col0(ld_col0), .ld_addr0(ld_addr0),
      .ld_slots(ld_slots), .raddr(rd_addr), .rdata(bank_rdata));

  // ---------------------------------------------------------------- compute: a pass per token
  reg run_half;             // the half the compute side reads next
  reg running;              // a tile's passes are under way
  reg [TW-1:0] token;
  wire compute_idle;
  wire [CW-1:0] steps = rq_out[R_STEPS +: CW];
  wire [CW-1:0] gsteps = rq_out[R_GSTEPS +: CW];
  wire [RGW-1:0] groups = rq_out[R_GROUPS +: RGW];
  wire [TW-1:0] tokens = rq_out[R_TOKENS +: TW];
  wire run_dequant = rq_out[R_DEQUANT];
  wire run_pair = rq_out[R_PAIR];
  wire run_asym = rq_out[R_ASYM];
  wire [SHIFTW-1:0] run_shift = rq_out[R_SHIFT +: SHIFTW];
  // a pass starts when the compute side is idle and its tile is in the buffer
  wire pass_start = compute_idle && !rq_empty && half_full[run_half] && (!running || token != tokens);
  wire tile_done = running && compute_idle && (token == tokens);
  assign rq_pop = tile_done;

  always @(posedge clk) begin
    if (rst) begin
      half_full <= 2'b00;
      run_half <= 1'b0;
      running <= 1'b0;
      token <= {TW{1'b0}};
    end else begin
      half_full <= (half_full | half_loaded) & ~(tile_done ? (2'b01 << run_half) : 2'b00);
      if (tile_done) begin
        running <= 1'b0;
        token <= {TW{1'b0}};
        run_half <= !run_half;
      end else if (pass_start) begin
        running <= 1'b1;
        token <= token + 1'b1;
      end
    end
  end

  // the half the pass reads starts at DEPTH/2: the address's top bit when DEPTH is a power of two
  wire [AW-1:0] run_base;
  generate
    if (DEPTH == (1 << AW)) begin : g_top_bit
      assign run_base = {run_half, {(AW - 1) {1'b0}}};
    end else begin : g_offset
      /* verilator lint_off WIDTH */
      localparam [AW-1:0] HALF_BASE = DEPTH / 2;
      /* verilator lint_on WIDTH */
      assign run_base = run_half ? HALF_BASE : {AW{1'b0}};
    end
  endgenerate

  /* verilator lint_off PINCONNECTEMPTY */
  trilut_compute #(
      .G(G), .E(E), .EB(EB), .IB(IB), .EW(EW), .MIRRORED(MIRRORED), .T(T), .P(P),
      .AW(AW), .CW(CW), .MAXRG(MAXRG), .SHIFTW(SHIFTW), .LEVELS_PER_STAGE(LEVELS_PER_STAGE), .BASELINE(BASELINE), .DEQUANT(DEQUANT)
  ) compute (
      .clk(clk), .rst(rst),
      .start(pass_start), .steps(steps), .groups(groups), .base(run_base),
      .clear(1'b1), .drain(1'b1),
      .dequant(run_dequant), .pair(run_pair), .asym(run_asym), .shift(run_shift), .gsteps(gsteps),
      .idle(compute_idle),
      .x_valid(x_valid), .x_ready(x_ready), .x_data(x_data),
      .y_valid(y_valid), .y_ready(y_ready), .y_data(y_data), .y_last(y_last),
      .rd_addr(rd_addr), .bank_rdata(bank_rdata), .issuing());
  /* verilator lint_on PINCONNECTEMPTY */

  assign busy = !lq_empty || !rq_empty || loading || !compute_idle || (half_full != 2'b00);
endmodule
