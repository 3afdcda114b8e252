// Streams one KV head's cached rows back for the attention core (docs/numerics/kv-cache.md): for a
// command {n, addr} it reads the K region's first n positions as one run of beats (per block of P
// positions: a scale beat, then the rows), then the V region's at addr + REGION, and outputs the K
// rows on stream k and then the V rows on stream v, one row with its scale per transfer.
// Requests go out as INCR bursts of up to MAXBURST beats that never cross a 4 KB boundary (AXI's
// rule), with up to MAXOUT bursts outstanding, so the memory's latency is paid once per region.
// A row beat lands in a buffer that shifts one row out per transfer; the scale beat lands in a
// second buffer that shifts one scale word out per row, so neither needs a wide multiplexer.
module trilut_kv_reader #(
    parameter HD = 6,              // head dimension: int8 values per row
    parameter RB = 8,              // bytes per row: max(4, nextPow2(HD))
    parameter DW = 1024,           // memory data bits
    parameter ADDRW = 32,
    parameter NW = 12,             // bits of the context length n
    parameter REGION = 4096,       // bytes from a K region to its V region
    parameter MAXBURST = 16,
    parameter MAXOUT = 8,
    // derived
    parameter BEAT = DW / 8,
    parameter P = BEAT / 4,        // positions per block
    parameter RPB = BEAT / RB,     // rows per beat
    parameter BLOCK_BEATS = 1 + P / RPB,
    parameter BIW = $clog2(BLOCK_BEATS + 1),
    parameter OW = $clog2(MAXOUT + 1),
    parameter CW = $clog2(RPB + 1),
    parameter LW = NW + 2          // beat counts (a region's beats exceed n)
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  cmd_valid,
    output wire                  cmd_ready,
    input  wire [NW+ADDRW-1:0]   cmd_data,     // {n, addr}
    // AXI4 read address and data channels
    output wire                  ar_valid,
    input  wire                  ar_ready,
    output wire [ADDRW-1:0]      ar_addr,
    output wire [7:0]            ar_len,
    input  wire                  r_valid,
    output wire                  r_ready,
    input  wire [DW-1:0]         r_data,
    input  wire                  r_last,
    // the rows: {scale[23:0], q[HD-1], ..., q[0]}
    output wire                  k_valid,
    input  wire                  k_ready,
    output wire [8*HD+23:0]      k_data,
    output wire                  k_last,
    output wire                  v_valid,
    input  wire                  v_ready,
    output wire [8*HD+23:0]      v_data,
    output wire                  v_last
);
  localparam FULL_BLOCKS_SHIFT = $clog2(P);

  reg active;
  reg [ADDRW-1:0] base;
  reg [NW-1:0] n;

  // beats of a region for n positions: whole blocks, then the last block's scale beat and rows
  wire [NW-1:0] cmd_n = cmd_data[NW+ADDRW-1:ADDRW];
  wire [NW-1:0] rest = cmd_n & (P - 1);
  /* verilator lint_off WIDTH */
  wire [LW-1:0] cmd_beats = (cmd_n >> FULL_BLOCKS_SHIFT) * BLOCK_BEATS
                          + ((rest != 0) ? 1 + (rest + RPB - 1) / RPB : 0);
  /* verilator lint_on WIDTH */

  // ---- requests: the K region's beats, then the V region's
  reg req_phase;                 // 0: K region, 1: V region
  reg req_on;
  reg [ADDRW-1:0] req_addr;
  reg [LW-1:0] req_left;
  reg [LW-1:0] region_beats;
  reg [OW-1:0] outstanding;
  // beats to the next 4 KB boundary (1..4096/BEAT)
  wire [12:0] to_boundary = 13'd4096 - {1'b0, req_addr[11:0]};
  /* verilator lint_off WIDTH */
  // 13 bits, not LW: up to 4096 / BEAT beats, more than LW holds at a short context
  wire [12:0] to_boundary_beats = to_boundary / BEAT;
  wire [LW-1:0] burst_a = (req_left > MAXBURST) ? MAXBURST : req_left;
  wire [LW-1:0] burst = (burst_a > to_boundary_beats) ? to_boundary_beats : burst_a;
  wire [7:0] burst8 = burst;
  /* verilator lint_on WIDTH */
  assign ar_valid = req_on && (outstanding < MAXOUT);
  assign ar_addr = req_addr;
  assign ar_len = burst8 - 8'd1;
  wire ar_fire = ar_valid && ar_ready;

  // ---- data: the scale buffer, the row buffer and its count of rows
  reg [DW-1:0] sc;
  reg [DW-1:0] buf_q;
  reg [CW-1:0] cnt;              // rows left in buf_q
  reg buf_phase;                 // the stream buf_q's rows go to
  reg buf_last;                  // buf_q holds the phase's last row
  reg data_phase;                // the region the next beat belongs to
  reg [BIW-1:0] bidx;            // beat index in the block: 0 is the scale beat
  reg [NW-1:0] rows_in;          // rows of the phase not yet in buf_q

  wire out_valid = cnt != 0;
  wire out_ready = buf_phase ? v_ready : k_ready;
  wire out_fire = out_valid && out_ready;
  assign k_valid = out_valid && !buf_phase;
  assign v_valid = out_valid && buf_phase;
  assign k_data = {sc[23:0], buf_q[8*HD-1:0]};
  assign v_data = k_data;
  wire row_last = buf_last && (cnt == 1);
  assign k_last = row_last;
  assign v_last = row_last;

  assign r_ready = active && ((cnt == 0) || (cnt == 1 && out_ready));
  wire r_fire = r_valid && r_ready;
  wire scale_beat = (bidx == 0);
  /* verilator lint_off WIDTH */
  wire [CW-1:0] beat_rows = (rows_in > RPB) ? RPB : rows_in;
  /* verilator lint_on WIDTH */
  /* verilator lint_off WIDTH */
  wire phase_in_done = r_fire && !scale_beat && (rows_in == beat_rows);
  /* verilator lint_on WIDTH */

  wire start = !active && cmd_valid;
  assign cmd_ready = !active;
  wire finish = out_fire && row_last && buf_phase;

  always @(posedge clk) begin
    if (rst) begin
      active <= 1'b0;
      req_on <= 1'b0;
      outstanding <= {OW{1'b0}};
      cnt <= {CW{1'b0}};
    end else begin
      if (start) active <= 1'b1;
      else if (finish) active <= 1'b0;
      /* verilator lint_off WIDTH */
      outstanding <= outstanding + ar_fire - (r_fire && r_last);
      /* verilator lint_on WIDTH */
      if (start) req_on <= 1'b1;
      else if (ar_fire && req_left == burst && req_phase) req_on <= 1'b0;
      if (r_fire && !scale_beat) cnt <= beat_rows;
      else if (out_fire) cnt <= cnt - 1'b1;
    end
    if (start) begin
      base <= cmd_data[ADDRW-1:0];
      n <= cmd_n;
      req_phase <= 1'b0;
      req_addr <= cmd_data[ADDRW-1:0];
      req_left <= cmd_beats;
      region_beats <= cmd_beats;
      data_phase <= 1'b0;
      bidx <= {BIW{1'b0}};
      rows_in <= cmd_n;
    end else begin
      if (ar_fire) begin
        if (req_left == burst) begin
          // the K region is requested: the V region next
          req_phase <= 1'b1;
          /* verilator lint_off WIDTH */
          req_addr <= base + REGION;
          /* verilator lint_on WIDTH */
          req_left <= region_beats;
        end else begin
          /* verilator lint_off WIDTH */
          req_addr <= req_addr + burst * BEAT;
          /* verilator lint_on WIDTH */
          req_left <= req_left - burst;
        end
      end
      if (r_fire) begin
        if (scale_beat) begin
          sc <= r_data;
          bidx <= 1;
        end else begin
          buf_q <= r_data;
          buf_phase <= data_phase;
          buf_last <= phase_in_done;
          /* verilator lint_off WIDTH */
          bidx <= (phase_in_done || bidx == BLOCK_BEATS - 1) ? 0 : bidx + 1'b1;
          /* verilator lint_on WIDTH */
          if (phase_in_done) begin
            data_phase <= 1'b1;
            rows_in <= n;
          end else begin
            /* verilator lint_off WIDTH */
            rows_in <= rows_in - beat_rows;
            /* verilator lint_on WIDTH */
          end
        end
      end
      if (out_fire) begin
        buf_q <= buf_q >> (8 * RB);
        sc <= sc >> 32;
      end
      // a beat taken in the cycle its predecessor's last row goes: the beat wins
      if (r_fire && !scale_beat) buf_q <= r_data;
      if (r_fire && scale_beat) sc <= r_data;
    end
  end
endmodule
