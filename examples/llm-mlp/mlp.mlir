// A Llama-shaped transformer MLP block, d = 4096, hidden 11008, 16 tokens:
// RMSNorm -> gate and up projections -> silu(gate) * up -> down projection
// -> residual. Its weights are synthetic with outlier channels
// (examples/llm-mlp/gen_weights.py writes them, 540 MB, into a directory
// of your choice; scripts/demo.sh uses build/examples/llm-mlp) and bound by
// quilt-load-weights.
func.func @forward(%x: tensor<16x4096xf32>,
    %norm: tensor<4096xf32> {quilt.weight = "norm.npy"},
    %gate: tensor<4096x11008xf32> {quilt.weight = "gate.npy"},
    %up: tensor<4096x11008xf32> {quilt.weight = "up.npy"},
    %down: tensor<11008x4096xf32> {quilt.weight = "down.npy"}) -> tensor<16x4096xf32> {
  %n = quilt.rmsnorm %x, %norm : tensor<16x4096xf32>, tensor<4096xf32>
  %g = quilt.linear %n, %gate : tensor<16x4096xf32>, tensor<4096x11008xf32> -> tensor<16x11008xf32>
  %u = quilt.linear %n, %up : tensor<16x4096xf32>, tensor<4096x11008xf32> -> tensor<16x11008xf32>
  %s = quilt.silu %g : tensor<16x11008xf32>
  %h = quilt.mul %s, %u : tensor<16x11008xf32>
  %o = quilt.linear %h, %down : tensor<16x11008xf32>, tensor<11008x4096xf32> -> tensor<16x4096xf32>
  %r = quilt.add %o, %x : tensor<16x4096xf32>
  return %r : tensor<16x4096xf32>
}
