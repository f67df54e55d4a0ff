// RUN: quilt-opt %s | quilt-opt | FileCheck %s
// RUN: quilt-opt %s --mlir-print-op-generic | quilt-opt | FileCheck %s

// Every format round-trips through the packed type.
// CHECK-LABEL: func.func @formats
func.func @formats(%w: tensor<64x32xf32>) {
  // CHECK: quilt.pack %{{.*}} : tensor<64x32xf32> -> !quilt.packed<64x32>
  %0 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32>
  // CHECK: !quilt.packed<64x32, precision<bf16>>
  %1 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<bf16>>
  // CHECK: !quilt.packed<64x32, precision<f16>>
  %2 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<f16>>
  // CHECK: !quilt.packed<64x32, precision<f8E4M3FN>>
  %3 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<f8E4M3FN>>
  // CHECK: !quilt.packed<64x32, precision<f8E4M3FN, tensor>>
  %4 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<f8E4M3FN, tensor>>
  // CHECK: !quilt.packed<64x32, precision<i8, tensor>>
  %5 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, tensor>>
  // CHECK: !quilt.packed<64x32, precision<i8, channel>>
  %6 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
  // CHECK: !quilt.packed<64x32, precision<i8, channel, zero_point>>
  %7 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel, zero_point>>
  // CHECK: !quilt.packed<64x32, precision<i4, group<32>>>
  %8 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i4, group<32>>>
  // CHECK: !quilt.packed<64x32, precision<i4, group<16>, zero_point>>
  %9 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i4, group<16>, zero_point>>
  // CHECK: !quilt.packed<64x32, sparsity<nm<2, 4>>>
  %10 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<nm<2, 4>>>
  // CHECK: !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<1, 8>>>
  %11 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<1, 8>>>
  // CHECK: !quilt.packed<64x32, sparsity<block<16x8>, density = 0.25>>
  %12 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<block<16x8>, density = 0.25>>
  // CHECK: !quilt.packed<64x32, precision<i8, channel>, sparsity<block<16x16>, density = 0.5>>
  %13 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>, sparsity<block<16x16>, density = 0.5>>
  // CHECK: !quilt.packed<64x32, sparsity<unstructured, density = 0.1>>
  %14 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<unstructured, density = 0.1>>
  // CHECK: !quilt.packed<64x32, structure<monarch<4>>>
  %15 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, structure<monarch<4>>>
  // CHECK: !quilt.packed<64x32, precision<bf16>, structure<monarch<8>>>
  %16 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<bf16>, structure<monarch<8>>>
  // CHECK: !quilt.packed<64x32, precision<i8, channel>, structure<blockdiag<4>>>
  %17 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>, structure<blockdiag<4>>>
  // CHECK: !quilt.packed<64x32, structure<lowrank<8>>>
  %18 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, structure<lowrank<8>>>
  // CHECK: !quilt.packed<64x32, precision<i8, tensor>, structure<lowrank<32>>>
  %19 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, tensor>, structure<lowrank<32>>>
  // Components may come in any order; they print in canonical order.
  // CHECK: !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<2, 4>>>
  %20 = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<nm<2, 4>>, precision<i8, channel>>
  // CHECK: quilt.unpack %{{.*}} : !quilt.packed<64x32, precision<i4, group<32>>> -> tensor<64x32xf32>
  %21 = quilt.unpack %8 : !quilt.packed<64x32, precision<i4, group<32>>> -> tensor<64x32xf32>
  return
}

// A low-rank weight given as its factors.
// CHECK-LABEL: func.func @pack_factors
// CHECK: quilt.pack_factors %{{.*}}, %{{.*}} : tensor<64x8xf32>, tensor<8x32xf32> -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
func.func @pack_factors(%u: tensor<64x8xf32>, %v: tensor<8x32xf32>) -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>> {
  %p = quilt.pack_factors %u, %v : tensor<64x8xf32>, tensor<8x32xf32> -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
  return %p : !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
}

// The attributes stand alone too.
// CHECK-LABEL: func.func @attributes
// CHECK-SAME: quilt.format = #quilt.format<precision<i4, group<128>>, sparsity<nm<2, 4>>>
// CHECK-SAME: quilt.precision = #quilt.precision<i8, channel, zero_point>
// CHECK-SAME: quilt.sparsity = #quilt.sparsity<unstructured, density = 0.5>
// CHECK-SAME: quilt.structure = #quilt.structure<lowrank<16>>
// CHECK-SAME: quilt.trivial = #quilt.format<>
func.func @attributes() attributes {
    quilt.format = #quilt.format<precision<i4, group<128>>, sparsity<nm<2, 4>>>,
    quilt.precision = #quilt.precision<i8, channel, zero_point>,
    quilt.sparsity = #quilt.sparsity<unstructured, density = 0.5>,
    quilt.structure = #quilt.structure<lowrank<16>>,
    quilt.trivial = #quilt.format<precision<f32>, sparsity<dense>, structure<dense>>} {
  return
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<16x64xf32>, %xd: tensor<?x64xf32>, %xb: tensor<16x64xbf16>,
                  %w: tensor<64x32xf32>, %p: !quilt.packed<64x32, precision<i8, channel>>,
                  %b: tensor<32xf32>) {
  // CHECK: quilt.linear %{{.*}}, %{{.*}} : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  %0 = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  // CHECK: quilt.linear %{{.*}}, %{{.*}} bias %{{.*}} act <i8, channel> : tensor<16x64xf32>, !quilt.packed<64x32, precision<i8, channel>>, tensor<32xf32> -> tensor<16x32xf32>
  %1 = quilt.linear %x, %p bias %b act <i8, channel> : tensor<16x64xf32>, !quilt.packed<64x32, precision<i8, channel>>, tensor<32xf32> -> tensor<16x32xf32>
  // Dynamic M.
  // CHECK: quilt.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<?x32xf32>
  %2 = quilt.linear %xd, %p : tensor<?x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<?x32xf32>
  // bf16 activations.
  // CHECK: quilt.linear %{{.*}}, %{{.*}} act <bf16> : tensor<16x64xbf16>, tensor<64x32xf32> -> tensor<16x32xbf16>
  %3 = quilt.linear %xb, %w act <bf16> : tensor<16x64xbf16>, tensor<64x32xf32> -> tensor<16x32xbf16>
  return
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<8x16x32xf32>, %b: tensor<8x32x24xf32>, %k: tensor<8x24x32xf32>,
                  %c: tensor<16x32xf16>, %d: tensor<32x4xf16>) {
  // CHECK: quilt.matmul %{{.*}}, %{{.*}} : tensor<8x16x32xf32>, tensor<8x32x24xf32> -> tensor<8x16x24xf32>
  %0 = quilt.matmul %a, %b : tensor<8x16x32xf32>, tensor<8x32x24xf32> -> tensor<8x16x24xf32>
  // CHECK: quilt.matmul %{{.*}}, %{{.*}} transpose_b : tensor<8x16x32xf32>, tensor<8x24x32xf32> -> tensor<8x16x24xf32>
  %1 = quilt.matmul %a, %k transpose_b : tensor<8x16x32xf32>, tensor<8x24x32xf32> -> tensor<8x16x24xf32>
  // CHECK: quilt.matmul %{{.*}}, %{{.*}} : tensor<16x32xf16>, tensor<32x4xf16> -> tensor<16x4xf16>
  %2 = quilt.matmul %c, %d : tensor<16x32xf16>, tensor<32x4xf16> -> tensor<16x4xf16>
  return
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %g: tensor<8xf32>, %h: tensor<2x4x8xbf16>) {
  // CHECK: quilt.add %{{.*}}, %{{.*}} : tensor<4x8xf32>
  %0 = quilt.add %x, %y : tensor<4x8xf32>
  // CHECK: quilt.mul %{{.*}}, %{{.*}} : tensor<4x8xf32>
  %1 = quilt.mul %x, %y : tensor<4x8xf32>
  // CHECK: quilt.relu %{{.*}} : tensor<4x8xf32>
  %2 = quilt.relu %x : tensor<4x8xf32>
  // CHECK: quilt.gelu %{{.*}} : tensor<4x8xf32>
  %3 = quilt.gelu %x : tensor<4x8xf32>
  // CHECK: quilt.gelu %{{.*}} tanh : tensor<4x8xf32>
  %4 = quilt.gelu %x tanh : tensor<4x8xf32>
  // CHECK: quilt.silu %{{.*}} : tensor<2x4x8xbf16>
  %5 = quilt.silu %h : tensor<2x4x8xbf16>
  // CHECK: quilt.quantize %{{.*}} to <bf16> : tensor<4x8xf32>
  %q0 = quilt.quantize %x to <bf16> : tensor<4x8xf32>
  // CHECK: quilt.quantize %{{.*}} to <i8, tensor> scale 5.000000e-02 : tensor<4x8xf32>
  %q1 = quilt.quantize %x to <i8, tensor> scale 0.05 : tensor<4x8xf32>
  // CHECK: quilt.softmax %{{.*}} : tensor<4x8xf32>
  %6 = quilt.softmax %x : tensor<4x8xf32>
  // CHECK: quilt.softmax %{{.*}} {axis = 0 : i64} : tensor<4x8xf32>
  %7 = quilt.softmax %x {axis = 0} : tensor<4x8xf32>
  // CHECK: quilt.rmsnorm %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8xf32>
  %8 = quilt.rmsnorm %x, %g : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: quilt.rmsnorm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<4x8xf32>, tensor<8xf32>
  %9 = quilt.rmsnorm %x, %g {epsilon = 1.0e-5 : f32} : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: quilt.layernorm %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %10 = quilt.layernorm %x, %g, %g : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}

// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<16x64xf32>, %w: !quilt.packed<64x32, precision<i4, group<32>>>,
                 %b: tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  // CHECK: %{{.*}}:2 = quilt.fused (%[[A:.*]] = %{{.*}}, %[[W:.*]] = %{{.*}}, %[[B:.*]] = %{{.*}}) : (tensor<16x64xf32>, !quilt.packed<64x32, precision<i4, group<32>>>, tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  // CHECK-NEXT: %[[L:.*]] = quilt.linear %[[A]], %[[W]] bias %[[B]]
  // CHECK-NEXT: %[[G:.*]] = quilt.gelu %[[L]]
  // CHECK-NEXT: quilt.yield %[[L]], %[[G]] : tensor<16x32xf32>, tensor<16x32xf32>
  // CHECK-NEXT: } attributes {kind = "linear-epilogue"}
  %r:2 = quilt.fused (%a = %x, %ww = %w, %bb = %b)
      : (tensor<16x64xf32>, !quilt.packed<64x32, precision<i4, group<32>>>, tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
    %l = quilt.linear %a, %ww bias %bb : tensor<16x64xf32>, !quilt.packed<64x32, precision<i4, group<32>>>, tensor<32xf32> -> tensor<16x32xf32>
    %g = quilt.gelu %l : tensor<16x32xf32>
    quilt.yield %l, %g : tensor<16x32xf32>, tensor<16x32xf32>
  } attributes {kind = "linear-epilogue"}
  return %r#0, %r#1 : tensor<16x32xf32>, tensor<16x32xf32>
}
