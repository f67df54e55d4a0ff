// RUN: quilt-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{precision element kind must be one of f32, bf16, f16, f8E4M3FN, i8, i4, got 'f64'}}
func.func private @f() -> !quilt.packed<64x32, precision<f64>>

// -----

// expected-error @+1 {{integer precision 'i8' needs a scale granularity (tensor, channel or group<G>)}}
func.func private @f() -> !quilt.packed<64x32, precision<i8>>

// -----

// expected-error @+1 {{precision 'f32' takes no scale granularity, got channel}}
func.func private @f() -> !quilt.packed<64x32, precision<f32, channel>>

// -----

// expected-error @+1 {{zero_point needs an integer precision, got 'f8E4M3FN'}}
func.func private @f() -> !quilt.packed<64x32, precision<f8E4M3FN, tensor, zero_point>>

// -----

// expected-error @+1 {{scale group size must be positive, got 0}}
func.func private @f() -> !quilt.packed<64x32, precision<i8, group<0>>>

// -----

// expected-error @+1 {{expected 'tensor', 'channel', 'group<G>' or 'zero_point', got 'row'}}
func.func private @f() -> !quilt.packed<64x32, precision<i8, row>>

// -----

// expected-error @+1 {{N:M sparsity needs 1 <= N <= M, got 5:4}}
func.func private @f() -> !quilt.packed<64x32, sparsity<nm<5, 4>>>

// -----

// expected-error @+1 {{N:M sparsity needs 1 <= N <= M, got 0:4}}
func.func private @f() -> !quilt.packed<64x32, sparsity<nm<0, 4>>>

// -----

// expected-error @+1 {{block sparsity needs positive block dims, got 0x16}}
func.func private @f() -> !quilt.packed<64x32, sparsity<block<0x16>, density = 0.5>>

// -----

// expected-error @+1 {{sparsity density must lie in (0, 1], got 1.5}}
func.func private @f() -> !quilt.packed<64x32, sparsity<block<16x16>, density = 1.5>>

// -----

// expected-error @+1 {{sparsity density must lie in (0, 1], got 0.0}}
func.func private @f() -> !quilt.packed<64x32, sparsity<unstructured, density = 0.0>>

// -----

// expected-error @+1 {{sparsity density must lie in (0, 1], got -0.1}}
func.func private @f() -> !quilt.packed<64x32, sparsity<unstructured, density = -0.1>>

// -----

// expected-error @+1 {{expected 'dense', 'nm<N, M>', 'block<RxC>' or 'unstructured', got 'diagonal'}}
func.func private @f() -> !quilt.packed<64x32, sparsity<diagonal>>

// -----

// expected-error @+1 {{monarch block count must be positive, got 0}}
func.func private @f() -> !quilt.packed<64x32, structure<monarch<0>>>

// -----

// expected-error @+1 {{lowrank rank must be positive, got -2}}
func.func private @f() -> !quilt.packed<64x32, structure<lowrank<-2>>>

// -----

// expected-error @+1 {{expected 'dense', 'monarch<B>', 'blockdiag<B>' or 'lowrank<R>', got 'butterfly'}}
func.func private @f() -> !quilt.packed<64x32, structure<butterfly<2>>>

// -----

// expected-error @+1 {{packed weight dims must be positive, got 0x32}}
func.func private @f() -> !quilt.packed<0x32>

// -----

// expected-error @+1 {{packed weight must be 2-d KxN, got rank 3}}
func.func private @f() -> !quilt.packed<4x64x32>

// -----

// expected-error @+1 {{N:M sparsity 2:4 needs K divisible by M = 4, got K = 30}}
func.func private @f() -> !quilt.packed<30x32, sparsity<nm<2, 4>>>

// -----

// expected-error @+1 {{scale group 128 must divide K = 100}}
func.func private @f() -> !quilt.packed<100x32, precision<i8, group<128>>>

// -----

// expected-error @+1 {{int4 stores two values per byte along K and needs an even K, got K = 33}}
func.func private @f() -> !quilt.packed<33x32, precision<i4, channel>>

// -----

// expected-error @+1 {{block sparsity 16x16 needs blocks that tile the 64x40 weight}}
func.func private @f() -> !quilt.packed<64x40, sparsity<block<16x16>, density = 0.5>>

// -----

// expected-error @+1 {{monarch with 64 blocks needs the block count to divide K and N, got 100x128}}
func.func private @f() -> !quilt.packed<100x128, structure<monarch<64>>>

// -----

// expected-error @+1 {{blockdiag with 3 blocks needs the block count to divide K and N, got 96x64}}
func.func private @f() -> !quilt.packed<96x64, structure<blockdiag<3>>>

// -----

// expected-error @+1 {{low-rank rank 300 exceeds min(K, N) = 256}}
func.func private @f() -> !quilt.packed<256x512, structure<lowrank<300>>>

// -----

// expected-error @+1 {{sparsity nm cannot be combined with structure monarch}}
func.func private @f() -> !quilt.packed<64x64, sparsity<nm<2, 4>>, structure<monarch<8>>>

// -----

// expected-error @+1 {{monarch factors take only a per-tensor scale, got channel}}
func.func private @f() -> !quilt.packed<64x64, precision<i8, channel>, structure<monarch<8>>>

// -----

// expected-error @+1 {{lowrank factors take only a per-tensor scale, got group}}
func.func private @f() -> !quilt.packed<64x64, precision<i4, group<32>>, structure<lowrank<8>>>

// -----

// expected-error @+1 {{expected 'precision<...>', 'sparsity<...>' or 'structure<...>', each at most once}}
func.func private @f() -> !quilt.packed<64x64, precision<bf16>, precision<f16>>

// -----

func.func @pack_shape(%w: tensor<64x16xf32>) {
  // expected-error @+1 {{'quilt.pack' op dense shape 64x16 does not match the packed weight's 64x32}}
  %0 = quilt.pack %w : tensor<64x16xf32> -> !quilt.packed<64x32>
  return
}

// -----

func.func @unpack_shape(%p: !quilt.packed<64x32>) {
  // expected-error @+1 {{'quilt.unpack' op dense shape 32x64 does not match the packed weight's 64x32}}
  %0 = quilt.unpack %p : !quilt.packed<64x32> -> tensor<32x64xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<16x48xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op input K = 48 does not match the weight's K = 64}}
  %0 = quilt.linear %x, %w : tensor<16x48xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op result shape 16x16 should be 16x32}}
  %0 = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x16xf32>
  return
}

// -----

func.func @linear_rank(%x: tensor<2x16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op input and result must be 2-d (M x K, M x N), got 2x16x64 and 2x16x32}}
  %0 = quilt.linear %x, %w : tensor<2x16x64xf32>, tensor<64x32xf32> -> tensor<2x16x32xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'quilt.linear' op bias shape 16 should be 32}}
  %0 = quilt.linear %x, %w bias %b : tensor<16x64xf32>, tensor<64x32xf32>, tensor<16xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @linear_elt(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op result element type 'bf16' differs from the input's 'f32'}}
  %0 = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xbf16>
  return
}

// -----

func.func @linear_act_group(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op activation scale group 48 must divide K = 64}}
  %0 = quilt.linear %x, %w act <i8, group<48>> : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @linear_dynamic_weight(%x: tensor<16x64xf32>, %w: tensor<?x32xf32>) {
  // expected-error @+1 {{'quilt.linear' op a dense weight needs a static shape, got ?x32}}
  %0 = quilt.linear %x, %w : tensor<16x64xf32>, tensor<?x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @linear_weight_type(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>) {
  // expected-error @+1 {{'quilt.linear' op operand #1 must be}}
  %0 = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<8x16x32xf32>, %b: tensor<32x24xf32>) {
  // expected-error @+1 {{'quilt.matmul' op operands and result need the same rank >= 2, got 3, 2 and 3}}
  %0 = quilt.matmul %a, %b : tensor<8x16x32xf32>, tensor<32x24xf32> -> tensor<8x16x24xf32>
  return
}

// -----

func.func @matmul_k(%a: tensor<16x32xf32>, %b: tensor<24x24xf32>) {
  // expected-error @+1 {{'quilt.matmul' op contraction sizes differ: lhs K = 32, rhs K = 24}}
  %0 = quilt.matmul %a, %b : tensor<16x32xf32>, tensor<24x24xf32> -> tensor<16x24xf32>
  return
}

// -----

func.func @matmul_transposed_k(%a: tensor<16x32xf32>, %b: tensor<32x24xf32>) {
  // expected-error @+1 {{'quilt.matmul' op contraction sizes differ: lhs K = 32, rhs K = 24}}
  %0 = quilt.matmul %a, %b transpose_b : tensor<16x32xf32>, tensor<32x24xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<8x16x32xf32>, %b: tensor<4x32x24xf32>) {
  // expected-error @+1 {{'quilt.matmul' op batch dim 0 differs: 8x16x32, 4x32x24 -> 8x16x24}}
  %0 = quilt.matmul %a, %b : tensor<8x16x32xf32>, tensor<4x32x24xf32> -> tensor<8x16x24xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<16x32xf32>, %b: tensor<32x24xf32>) {
  // expected-error @+1 {{'quilt.matmul' op result shape 16x32 does not match M = 16, N = 24}}
  %0 = quilt.matmul %a, %b : tensor<16x32xf32>, tensor<32x24xf32> -> tensor<16x32xf32>
  return
}

// -----

// expected-note @+1 {{prior use here}}
func.func @add_types(%a: tensor<4x8xf32>, %b: tensor<4x8xbf16>) {
  // expected-error @+1 {{use of value '%b' expects different type than prior uses}}
  %0 = quilt.add %a, %b : tensor<4x8xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.softmax' op axis 2 is out of range for rank 2}}
  %0 = quilt.softmax %x {axis = 2} : tensor<4x8xf32>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.softmax' op axis -3 is out of range for rank 2}}
  %0 = quilt.softmax %x {axis = -3} : tensor<4x8xf32>
  return
}

// -----

func.func @rmsnorm_weight(%x: tensor<4x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'quilt.rmsnorm' op parameter shape 4 should match the normalized dim 8}}
  %0 = quilt.rmsnorm %x, %g : tensor<4x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @rmsnorm_epsilon(%x: tensor<4x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'quilt.rmsnorm' op epsilon must be non-negative, got -1}}
  %0 = quilt.rmsnorm %x, %g {epsilon = -1.0 : f32} : tensor<4x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layernorm_bias(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8x1xf32>) {
  // expected-error @+1 {{'quilt.layernorm' op parameter shape 8x1 should match the normalized dim 8}}
  %0 = quilt.layernorm %x, %g, %b : tensor<4x8xf32>, tensor<8xf32>, tensor<8x1xf32>
  return
}

// -----

func.func @fused_yield(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.fused' op yields 1 value(s) of types ('tensor<4x8xf32>') for results ('tensor<4x8xbf16>')}}
  %0 = quilt.fused (%a = %x) : (tensor<4x8xf32>) -> tensor<4x8xbf16> {
    %r = quilt.relu %a : tensor<4x8xf32>
    quilt.yield %r : tensor<4x8xf32>
  }
  return
}

// -----

func.func @fused_arguments(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.fused' op region has 0 arguments for 1 inputs}}
  %0 = "quilt.fused"(%x) ({
    %c = arith.constant dense<0.0> : tensor<4x8xf32>
    quilt.yield %c : tensor<4x8xf32>
  }) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @fused_argument_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.fused' op region argument #0 has type 'tensor<4x8xbf16>', its input 'tensor<4x8xf32>'}}
  %0 = "quilt.fused"(%x) ({
  ^bb0(%a: tensor<4x8xbf16>):
    %c = arith.constant dense<0.0> : tensor<4x8xf32>
    quilt.yield %c : tensor<4x8xf32>
  }) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @fused_isolated(%x: tensor<4x8xf32>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = quilt.fused (%a = %x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %r = quilt.relu %x : tensor<4x8xf32>
    quilt.yield %r : tensor<4x8xf32>
  }
  return
}

// -----

func.func @yield_parent(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'quilt.yield' op expects parent op 'quilt.fused'}}
  quilt.yield %x : tensor<4x8xf32>
}

// -----

func.func @packed_constant_bytes() {
  // expected-error @+1 {{bytes must be a 1-d tensor of i8, got 'tensor<4xi32>'}}
  %w = quilt.packed_constant "cpu" dense<0> : tensor<4xi32> -> !quilt.packed<4x4, precision<i8, channel>>
  return
}

// -----

func.func @packed_constant_layout() {
  // expected-error @+1 {{unknown layout 'gpu'; the known one is "cpu"}}
  %w = quilt.packed_constant "gpu" dense<0> : tensor<4xi8> -> !quilt.packed<4x4, precision<i8, channel>>
  return
}

// -----

func.func @pack_factors_structure(%u: tensor<64x8xf32>, %v: tensor<8x32xf32>) {
  // expected-error @+1 {{result must have a lowrank<r> structure, got '!quilt.packed<64x32, precision<bf16>>'}}
  %p = quilt.pack_factors %u, %v : tensor<64x8xf32>, tensor<8x32xf32> -> !quilt.packed<64x32, precision<bf16>>
  return
}

// -----

func.func @pack_factors_shapes(%u: tensor<64x4xf32>, %v: tensor<8x32xf32>) {
  // expected-error @+1 {{factors 64x4 and 8x32 do not match the 64x32 rank-8 weight (expected 64x8 and 8x32)}}
  %p = quilt.pack_factors %u, %v : tensor<64x4xf32>, tensor<8x32xf32> -> !quilt.packed<64x32, structure<lowrank<8>>>
  return
}

// -----

func.func @quantize_channel(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'quilt.quantize' op rounds to bf16, f16 or i8 with one tensor scale (element-wise only), not #quilt.precision<i8, channel>}}
  %y = quilt.quantize %x to <i8, channel> scale 0.1 : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @quantize_no_scale(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'quilt.quantize' op needs a positive, finite scale for i8}}
  %y = quilt.quantize %x to <i8, tensor> : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @quantize_bf16_scale(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'quilt.quantize' op takes no scale for 'bf16'}}
  %y = quilt.quantize %x to <bf16> scale 0.1 : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @quantize_negative_scale(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'quilt.quantize' op needs a positive, finite scale for i8}}
  %y = quilt.quantize %x to <i8, tensor> scale -0.5 : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
