// Residual add: h' = sat32(h + o) on A values (src/ref/spec/elementwise.ts residualAdd). h (the
// residual stream, with `last`) and o (a sublayer's output) arrive in lockstep: an element is taken
// when both are valid, and h_last becomes out_last. Two registers: the 33-bit sum, then the
// saturation; the pipeline stalls as a whole while the output is valid and not ready.
module trilut_residual (
    input  wire        clk,
    input  wire        rst,
    input  wire        h_valid,
    output wire        h_ready,
    input  wire [31:0] h_data,
    input  wire        h_last,
    input  wire        o_valid,
    output wire        o_ready,
    input  wire [31:0] o_data,
    output wire        out_valid,
    input  wire        out_ready,
    output wire [31:0] out_data,
    output wire        out_last
);
  localparam integer L = 2;

  reg [L:1] v;
  wire en = !v[L] || out_ready;
  wire fire = h_valid && o_valid && en;
  assign h_ready = en && o_valid;
  assign o_ready = en && h_valid;

  reg signed [32:0] s1;
  reg [31:0] r2;
  reg [L:1] last;
  // the sum fits in 32 bits when its two top bits agree
  wire fits = s1[32] == s1[31];

  always @(posedge clk) begin
    if (rst) v <= 0;
    else if (en) v <= {v[L-1:1], fire};
    if (en) begin
      s1 <= $signed({h_data[31], h_data}) + $signed({o_data[31], o_data});
      r2 <= fits ? s1[31:0] : s1[32] ? 32'h80000000 : 32'h7fffffff;
      last <= {last[L-1:1], h_last};
    end
  end

  assign out_valid = v[L];
  assign out_data = r2;
  assign out_last = last[L];
endmodule
