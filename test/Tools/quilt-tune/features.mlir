// RUN: quilt-tune features %s --target %S/Inputs/target.json | FileCheck %s
// Feature extraction is deterministic: two runs print the same vectors.
// RUN: quilt-tune features %s --target %S/Inputs/target.json > %t.1
// RUN: quilt-tune features %s --target %S/Inputs/target.json > %t.2
// RUN: diff %t.1 %t.2

// int4 groups of 128, 2:4 would halve the FLOPs; here: all FLOPs, half a
// byte per weight plus a scale per group and column.
// CHECK: quilt.linear at {{.*}}: op_kind=0 fused=0 log2_m=4.08746 log2_k=9.00282 log2_n=9.00282 log2_batch=1 m_mod_16=0 n_mod_32=0 log2_dense_flops=23 log2_flops=23
// CHECK-SAME: log2_weight_bytes=17.0875
// CHECK-SAME: weight_bits=4 activation_bits=32 compute_kind=0 scale_granularity=3 group_size=128 zero_point=0 sparsity_kind=0 kept_fraction=1
// CHECK-SAME: threads=1 target_cores=2
// CHECK-SAME: ir_token_0=
func.func @int4(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<i4, group<128>>>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w : tensor<16x512xf32>, !quilt.packed<512x512, precision<i4, group<128>>> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}

// 2:4 W8A8: half the FLOPs kept, int8 arithmetic.
// CHECK: quilt.linear at {{.*}}: op_kind=0
// CHECK-SAME: log2_dense_flops=23 log2_flops=22
// CHECK-SAME: weight_bits=8 activation_bits=8 compute_kind=2 scale_granularity=2 group_size=0 zero_point=0 sparsity_kind=1 kept_fraction=0.5 nm_n=2 nm_m=4
func.func @nm(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<i8, channel>, sparsity<nm<2, 4>>>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x512xf32>, !quilt.packed<512x512, precision<i8, channel>, sparsity<nm<2, 4>>> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}

// A block: the linear's shapes, its bias and the fused gelu.
// CHECK: quilt.fused at {{.*}}: op_kind=0 fused=1
// CHECK-SAME: structure_kind=3 structure_size=16 has_bias=1 fused_gelu=1 fused_silu=0
func.func @fused(%x: tensor<4x64xf32>, %w: !quilt.packed<64x32, structure<lowrank<16>>>, %b: tensor<32xf32>) -> tensor<4x32xf32> {
  %y = quilt.fused (%a = %x, %u = %w, %c = %b) : (tensor<4x64xf32>, !quilt.packed<64x32, structure<lowrank<16>>>, tensor<32xf32>) -> tensor<4x32xf32> {
    %l = quilt.linear %a, %u bias %c : tensor<4x64xf32>, !quilt.packed<64x32, structure<lowrank<16>>>, tensor<32xf32> -> tensor<4x32xf32>
    %g = quilt.gelu %l : tensor<4x32xf32>
    quilt.yield %g : tensor<4x32xf32>
  }
  return %y : tensor<4x32xf32>
}

// Dynamic shapes: no features.
// CHECK: quilt.softmax at {{.*}}: no features
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %y = quilt.softmax %x : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
