// Signed adder tree of N inputs of IW bits. Each level pairs neighbours (an odd one passes through)
// and grows the width by one bit, so no sum can overflow. A register follows every
// LEVELS_PER_STAGE levels and the last level: latency is ceil(log2 N / LEVELS_PER_STAGE) cycles.
module trilut_adder_tree #(
    parameter N = 28,
    parameter IW = 10,
    parameter LEVELS_PER_STAGE = 2,
    parameter LEVELS = $clog2(N),
    parameter OW = IW + LEVELS
) (
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire            clk,  // unused when N = 1 (the tree is a wire)
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [N*IW-1:0] in,
    output wire [OW-1:0]   sum
);
  genvar l, j;
  generate
    if (LEVELS == 0) begin : g_wire
      assign sum = in;
    end else begin : g_tree
      for (l = 1; l <= LEVELS; l = l + 1) begin : g_level
        // nodes at level l: ceil(N / 2^l); width IW + l
        localparam integer NODES = (N + (1 << l) - 1) >> l;
        localparam integer PREV = (N + (1 << (l - 1)) - 1) >> (l - 1);
        localparam integer WI = IW + l - 1;
        localparam integer WO = IW + l;
        wire [NODES*WO-1:0] node;
        wire [PREV*WI-1:0] prev;
        if (l == 1) begin : g_first
          assign prev = in;
        end else begin : g_next
          assign prev = g_level[l-1].out;
        end
        for (j = 0; j < NODES; j = j + 1) begin : g_node
          if (2 * j + 1 < PREV) begin : g_add
            assign node[j*WO +: WO] = $signed({prev[(2*j)*WI+WI-1], prev[(2*j)*WI +: WI]})
                                    + $signed({prev[(2*j+1)*WI+WI-1], prev[(2*j+1)*WI +: WI]});
          end else begin : g_pass
            assign node[j*WO +: WO] = {prev[(2*j)*WI+WI-1], prev[(2*j)*WI +: WI]};
          end
        end
        wire [NODES*WO-1:0] out;
        if ((l % LEVELS_PER_STAGE) == 0 || l == LEVELS) begin : g_reg
          reg [NODES*WO-1:0] q;
          always @(posedge clk) q <= node;
          assign out = q;
        end else begin : g_comb
          assign out = node;
        end
      end
      assign sum = g_level[LEVELS].out;
    end
  endgenerate
endmodule
