// The weight buffer of a streaming engine: P banks of C 72-bit columns (PC = P·C columns in all),
// written from memory beats, read one bank word per lane.
//
// The memory image is a stream of 72-bit column words in buffer order (address, then bank, then
// column), Q to a memory beat. A beat's slots land in Q consecutive columns starting at `col0`,
// wrapping to the next address past the last column; since Q ≤ PC, every slot has its own column,
// so one beat is one write cycle. Each column picks its slot with a Q-way select.
module trilut_stream_buffer #(
    parameter P = 16,
    parameter C = 2,
    parameter WB = 140,
    parameter DEPTH = 4096,
    parameter AW = 12,
    parameter Q = 14,
    parameter ULTRA = 1,
    // derived
    parameter PC = P * C,
    parameter CLW = (PC > 1) ? $clog2(PC) : 1,
    parameter QW = $clog2(Q + 1)
) (
    input  wire            clk,
    input  wire            ld_valid,
    input  wire [Q*72-1:0] ld_data,
    input  wire [CLW-1:0]  ld_col0,   // column of slot 0
    input  wire [AW-1:0]   ld_addr0,  // address of slot 0
    input  wire [QW-1:0]   ld_slots,  // slots that carry words (the last beat may be short)
    input  wire [AW-1:0]   raddr,
    output wire [P*WB-1:0] rdata
);
  wire [71:0] slot_word [0:Q-1];
  genvar i, p;
  generate
    for (i = 0; i < Q; i = i + 1) begin : g_slot
      assign slot_word[i] = ld_data[72*i +: 72];
    end
  endgenerate

  /* verilator lint_off UNUSEDSIGNAL */
  wire [PC*72-1:0] col_rdata;  // bits past WB in each bank's last column are padding
  /* verilator lint_on UNUSEDSIGNAL */
  generate
    for (i = 0; i < PC; i = i + 1) begin : g_col
      // slot feeding this column: (i - col0) mod PC
      localparam [CLW:0] COL = i;
      /* verilator lint_off CMPCONST */
      wire wraps = (COL[CLW-1:0] < ld_col0);  // never for column 0
      /* verilator lint_on CMPCONST */
      /* verilator lint_off WIDTH */
      wire [CLW:0] slot = wraps ? (COL + PC - ld_col0) : (COL - ld_col0);
      wire hit = ld_valid && (slot < ld_slots);
      /* verilator lint_on WIDTH */
      wire [71:0] wdata = hit ? slot_word[slot[(Q > 1 ? $clog2(Q) : 1)-1:0]] : 72'd0;
      /* verilator lint_off WIDTH */
      wire [AW-1:0] waddr = ld_addr0 + wraps;
      /* verilator lint_on WIDTH */
      trilut_uram72 #(.DEPTH(DEPTH), .AW(AW), .ULTRA(ULTRA)) column (
          .clk(clk), .we(hit), .waddr(waddr), .wdata(wdata),
          .raddr(raddr), .rdata(col_rdata[72*i +: 72]));
    end
    for (p = 0; p < P; p = p + 1) begin : g_bank
      assign rdata[p*WB +: WB] = col_rdata[p*C*72 +: WB];
    end
  endgenerate
endmodule
