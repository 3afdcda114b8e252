// The address walk of a vector instruction over an on-chip buffer: `tokens` vectors of n elements,
// vector t at base + t·stride; `step` moves to the next element. `token_last` flags a vector's last
// element, `at_end` the walk's last, `done` that the walk has passed it.
module trilut_block_walk #(
    parameter AW = 10,
    parameter CW = 16
) (
    input  wire          clk,
    input  wire          start,
    input  wire [AW-1:0] base,
    input  wire [CW-1:0] n,
    input  wire [CW-1:0] tokens,
    input  wire [AW-1:0] stride,
    input  wire          step,
    output wire [AW-1:0] addr,
    output wire          token_last,
    output wire          at_end,
    output reg           done
);
  reg [CW-1:0] j, t;
  reg [AW-1:0] row;
  reg [AW-1:0] stride_q;
  reg [CW-1:0] n_q, tokens_q;
  assign addr = row + j[AW-1:0];
  assign token_last = j == n_q - 1'b1;
  assign at_end = token_last && t == tokens_q - 1'b1;
  always @(posedge clk) begin
    if (start) begin
      j <= 0;
      t <= 0;
      row <= base;
      stride_q <= stride;
      n_q <= n;
      tokens_q <= tokens;
      done <= 1'b0;
    end else if (step && !done) begin
      j <= j + 1'b1;
      if (token_last) begin
        j <= 0;
        t <= t + 1'b1;
        row <= row + stride_q;
        if (at_end) done <= 1'b1;
      end
    end
  end
endmodule
