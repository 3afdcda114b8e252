// Fetches one weight tile per descriptor over an AXI4-style read channel into a free half of the
// weight buffer. Requests go out as INCR bursts of up to MAXBURST beats, with up to MAXOUT bursts
// outstanding so the memory's latency is paid once per tile, not once per burst. Every data beat
// is written into the buffer the cycle after it arrives (ld_*), so r_ready never drops.
module trilut_axi_loader #(
    parameter DW = 1024,        // memory data bits
    parameter ADDRW = 32,
    parameter Q = 14,           // 72-bit column words per beat
    parameter PC = 32,          // buffer columns
    parameter AW = 12,          // buffer address bits
    parameter HALF = 1 << (AW - 1),  // words per bank in a half: the second half starts there
    parameter BW = 20,          // beat-count bits
    parameter WW = 24,          // word-count bits
    parameter MAXBURST = 32,
    parameter MAXOUT = 8,
    // derived
    parameter CLW = (PC > 1) ? $clog2(PC) : 1,
    parameter QW = $clog2(Q + 1),
    parameter OW = $clog2(MAXOUT + 1)
) (
    input  wire              clk,
    input  wire              rst,
    // the next tile to load: its image address, beats and 72-bit words
    input  wire              tile_valid,
    output wire              tile_pop,
    input  wire [ADDRW-1:0]  tile_addr,
    input  wire [BW-1:0]     tile_beats,
    input  wire [WW-1:0]     tile_words,
    // which halves hold a tile the compute side has not finished with
    input  wire [1:0]        half_full,
    output reg  [1:0]        half_loaded,   // pulses: this half now holds its tile
    // AXI4 read address and data channels
    output wire              ar_valid,
    input  wire              ar_ready,
    output wire [ADDRW-1:0]  ar_addr,
    output wire [7:0]        ar_len,
    input  wire              r_valid,
    output wire              r_ready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [DW-1:0]     r_data,       // bits past Q·72 are padding
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire              r_last,
    // buffer writes
    output reg               ld_valid,
    output reg  [Q*72-1:0]   ld_data,
    output reg  [CLW-1:0]    ld_col0,
    output reg  [AW-1:0]     ld_addr0,
    output reg  [QW-1:0]     ld_slots,
    output wire              loading
);
  localparam BEAT_BYTES = DW / 8;
  reg active;
  reg half;                       // the half this tile goes to
  reg [ADDRW-1:0] req_addr;
  reg [BW-1:0] req_left;          // beats not yet requested
  reg [BW-1:0] data_left;         // beats not yet received
  reg [WW-1:0] words_left;        // words not yet received
  reg [OW-1:0] outstanding;
  reg [CLW-1:0] col0;
  reg [AW-2:0] addr0;
  // a beat's first bank word: in the second half from HALF on, which is the address's top bit when
  // the depth is a power of two (kept as a plain wire then), else an offset added
  wire [AW-1:0] beat_addr;
  generate
    if (HALF == (1 << (AW - 1))) begin : g_top_bit
      assign beat_addr = {half, addr0};
    end else begin : g_offset
      /* verilator lint_off WIDTH */
      localparam [AW-1:0] HALF_BASE = HALF;
      /* verilator lint_on WIDTH */
      assign beat_addr = (half ? HALF_BASE : {AW{1'b0}}) + {1'b0, addr0};
    end
  endgenerate

  assign loading = active;
  wire start = !active && tile_valid && !half_full[half];
  assign tile_pop = start;

  /* verilator lint_off WIDTH */
  wire [BW-1:0] burst = (req_left > MAXBURST) ? MAXBURST : req_left;
  /* verilator lint_on WIDTH */
  assign ar_valid = active && (req_left != 0) && (outstanding < MAXOUT);
  assign ar_addr = req_addr;
  /* verilator lint_off WIDTH */
  wire [7:0] burst8 = burst;     // a 256-beat burst wraps to 0, and 0 - 1 is AXI's 255
  /* verilator lint_on WIDTH */
  assign ar_len = burst8 - 8'd1;
  wire ar_fire = ar_valid && ar_ready;

  assign r_ready = active;
  wire r_fire = r_valid && r_ready;
  wire last_beat = r_fire && (data_left == 1);

  always @(posedge clk) begin
    if (rst) begin
      active <= 1'b0;
      half <= 1'b0;
      outstanding <= {OW{1'b0}};
      ld_valid <= 1'b0;
      half_loaded <= 2'b00;
    end else begin
      ld_valid <= r_fire;
      // the tile's last write happens in the cycle after its last beat: announce it then
      half_loaded <= (ld_valid && ld_last_q) ? (2'b01 << ld_half_q) : 2'b00;
      if (start) active <= 1'b1;
      else if (last_beat) begin
        active <= 1'b0;
        half <= !half;
      end
      /* verilator lint_off WIDTH */
      outstanding <= outstanding + ar_fire - (r_fire && r_last);
      /* verilator lint_on WIDTH */
    end
    if (start) begin
      req_addr <= tile_addr;
      req_left <= tile_beats;
      data_left <= tile_beats;
      words_left <= tile_words;
      col0 <= {CLW{1'b0}};
      addr0 <= {(AW - 1) {1'b0}};
    end else begin
      if (ar_fire) begin
        /* verilator lint_off WIDTH */
        req_addr <= req_addr + burst * BEAT_BYTES;
        /* verilator lint_on WIDTH */
        req_left <= req_left - burst;
      end
      if (r_fire) begin
        data_left <= data_left - 1'b1;
        /* verilator lint_off WIDTH */
        words_left <= (words_left > Q) ? words_left - Q : {WW{1'b0}};
        if (col0 + Q >= PC) begin
          col0 <= col0 + Q - PC;
          addr0 <= addr0 + 1'b1;
        end else begin
          col0 <= col0 + Q;
        end
        /* verilator lint_on WIDTH */
      end
    end
    if (r_fire) begin
      ld_data <= r_data[Q*72-1:0];
      ld_col0 <= col0;
      ld_addr0 <= beat_addr;
      /* verilator lint_off WIDTH */
      ld_slots <= (words_left > Q) ? Q : words_left;
      /* verilator lint_on WIDTH */
    end
  end

  reg ld_last_q, ld_half_q;
  always @(posedge clk) begin
    ld_last_q <= last_beat;
    ld_half_q <= half;
  end
endmodule
