// RUN: quilt-opt %s -split-input-file --convert-quilt-to-linalg --cse | FileCheck %s

// y = x W + b: an f32 contraction over K, then the bias epilogue.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[XV:.*]]: tensor<16x64xf32>, %[[WV:.*]]: tensor<64x32xf32>, %[[BV:.*]]: tensor<32xf32>)
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16x32xf32>)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[XV]], %[[WV]] : tensor<16x64xf32>, tensor<64x32xf32>) outs(%[[ZERO]] : tensor<16x32xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[BIAS]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[ACC]], %[[BV]] : tensor<16x32xf32>, tensor<32xf32>)
func.func @linear_bias(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A packed weight is used through its decoded matrix.
// CHECK-LABEL: func.func @linear_packed
// CHECK: %[[P:.*]] = call @quilt_ref_fake_quant_int
// CHECK: %[[D:.*]] = tensor.cast %[[P]] : tensor<?x?xf32> to tensor<64x32xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %[[D]] : tensor<16x64xf32>, tensor<64x32xf32>)
func.func @linear_packed(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
  %y = quilt.linear %x, %p : tensor<16x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// W8A8 with dynamic M and bf16 activations: x is widened to f32, rounded to
// int8 with one scale per row (x^T is rounded per column), multiplied in f32;
// the bias epilogue narrows back to bf16.
// CHECK-LABEL: func.func @linear_w8a8_bf16
// CHECK: %[[DIM:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x64xbf16>
// CHECK: %[[XF:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<?x64xbf16>) outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[XT:.*]] = linalg.generic {{.*}} ins(%[[XF]] : tensor<?x64xf32>) outs(%{{.*}} : tensor<64x?xf32>)
// CHECK: %[[K:.*]] = arith.constant 64 : index
// CHECK: %[[C:.*]] = tensor.cast %[[XT]] : tensor<64x?xf32> to tensor<?x?xf32>
// CHECK: call @quilt_ref_fake_quant_int(%[[C]], %[[K]], %false, %c8_i32, %false)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: outs(%{{.*}} : tensor<?x32xf32>)
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x32xbf16>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.addf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @linear_w8a8_bf16(%x: tensor<?x64xbf16>, %w: tensor<64x32xf32>, %b: tensor<32xbf16>) -> tensor<?x32xbf16> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<?x64xbf16>, tensor<64x32xf32>, tensor<32xbf16> -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// -----

// Batched matmul with transposed rhs: rhs is indexed [b, n, k].
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @matmul_transpose_b
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<8x16x24xf32>)
func.func @matmul_transpose_b(%q: tensor<8x16x32xf32>, %k: tensor<8x24x32xf32>) -> tensor<8x16x24xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<8x16x32xf32>, tensor<8x24x32xf32> -> tensor<8x16x24xf32>
  return %s : tensor<8x16x24xf32>
}

// -----

// f16 matmul: accumulate in f32, then narrow.
// CHECK-LABEL: func.func @matmul_f16
// CHECK: linalg.generic
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: linalg.generic
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_f16(%a: tensor<16x32xf16>, %b: tensor<32x4xf16>) -> tensor<16x4xf16> {
  %c = quilt.matmul %a, %b : tensor<16x32xf16>, tensor<32x4xf16> -> tensor<16x4xf16>
  return %c : tensor<16x4xf16>
}
