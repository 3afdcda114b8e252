// The precompute unit: from one step's T·G activations it writes T tables, one entry per cycle
// (a LUTRAM has one write port), so a build takes E cycles. Entry e of every table holds the sum
// of the group's activations under trit pattern e, which the pattern ROM supplies. Writes go to
// the table half chosen at start, so lookups keep reading the other half meanwhile.
module trilut_precompute #(
    parameter G = 3,
    parameter T = 28,
    parameter E = 27,
    parameter EB = 5,
    parameter EW = 10
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           start,        // accept x_data and build into `half`
    input  wire           half,
    input  wire [T*G*8-1:0] x_data,
    output wire           free,         // may start a new build this cycle
    output wire           done,         // the last entry is written this cycle
    output wire           we,
    output wire [EB:0]    waddr,        // {half, entry}
    output wire [T*EW-1:0] wdata
);
  reg busy;
  reg half_q;
  reg [EB-1:0] entry;
  reg [T*G*8-1:0] x_q;
  wire [2*G-1:0] pattern;  // per trit: {negative, positive}

  trilut_pattern_rom rom (.entry(entry), .pattern(pattern));

  localparam [EB-1:0] LAST_ENTRY = E - 1;
  assign done = busy && (entry == LAST_ENTRY);
  assign free = !busy || done;
  assign we = busy;
  assign waddr = {half_q, entry};

  always @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      entry <= {EB{1'b0}};
    end else if (start) begin
      busy <= 1'b1;
      entry <= {EB{1'b0}};
    end else if (done) begin
      busy <= 1'b0;
    end else if (busy) begin
      entry <= entry + 1'b1;
    end
    if (start) begin
      x_q <= x_data;
      half_q <= half;
    end
  end

  genvar t, i;
  generate
    for (t = 0; t < T; t = t + 1) begin : g_table
      wire [G*EW-1:0] term;
      for (i = 0; i < G; i = i + 1) begin : g_term
        wire signed [EW-1:0] x = {{(EW - 8){x_q[(t*G+i)*8+7]}}, x_q[(t*G+i)*8 +: 8]};
        assign term[i*EW +: EW] = pattern[2*i] ? x : (pattern[2*i+1] ? -x : {EW{1'b0}});
      end
      // G terms, G ≤ 5: a small adder chain; EW already holds G·128 so nothing overflows.
      reg [EW-1:0] acc;
      integer k;
      always @(*) begin
        acc = {EW{1'b0}};
        for (k = 0; k < G; k = k + 1) acc = acc + term[k*EW +: EW];
      end
      assign wdata[t*EW +: EW] = acc;
    end
  endgenerate
endmodule
