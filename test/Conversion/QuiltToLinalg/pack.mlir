// RUN: quilt-opt %s -split-input-file --convert-quilt-to-linalg --cse | FileCheck %s

// A packed value is its decoded dense matrix: a dense f32 format is the
// identity, and unpack is the identity. No kernel is needed.
// CHECK-LABEL: func.func @dense_f32
// CHECK-SAME: (%[[W:.*]]: tensor<64x32xf32>) -> tensor<64x32xf32>
// CHECK-NEXT: return %[[W]] : tensor<64x32xf32>
// CHECK-NOT: func.func private @quilt_ref_
func.func @dense_f32(%w: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32>
  %u = quilt.unpack %p : !quilt.packed<64x32> -> tensor<64x32xf32>
  return %u : tensor<64x32xf32>
}

// -----

// Functions that pass packed weights get dense signatures.
// CHECK-LABEL: func.func @signature
// CHECK-SAME: (%[[P:.*]]: tensor<64x32xf32>) -> tensor<64x32xf32>
// CHECK-NEXT: return %[[P]]
func.func @signature(%p: !quilt.packed<64x32, precision<bf16>>) -> tensor<64x32xf32> {
  %u = quilt.unpack %p : !quilt.packed<64x32, precision<bf16>> -> tensor<64x32xf32>
  return %u : tensor<64x32xf32>
}

// -----

// CHECK-LABEL: func.func @bf16
// CHECK: %[[C:.*]] = tensor.cast %{{.*}} : tensor<64x32xf32> to tensor<?x?xf32>
// CHECK: %[[R:.*]] = call @quilt_ref_round_bf16(%[[C]]) : (tensor<?x?xf32>) -> tensor<?x?xf32>
// CHECK: tensor.cast %[[R]] : tensor<?x?xf32> to tensor<64x32xf32>
// Only the kernels in use stay in the module.
// CHECK: func.func private @quilt_ref_round_bf16
// CHECK-NOT: func.func private @quilt_ref_round_f16
func.func @bf16(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<bf16>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<bf16>>
  return %p : !quilt.packed<64x32, precision<bf16>>
}

// -----

// Per-channel scales: one group spanning K.
// CHECK-LABEL: func.func @int8_channel
// CHECK-DAG: %[[K:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK-DAG: %[[BITS:.*]] = arith.constant 8 : i32
// CHECK: call @quilt_ref_fake_quant_int(%{{.*}}, %[[K]], %[[FALSE]], %[[BITS]], %[[FALSE]])
func.func @int8_channel(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<i8, channel>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
  return %p : !quilt.packed<64x32, precision<i8, channel>>
}

// -----

// CHECK-LABEL: func.func @int4_group_zero_point
// CHECK-DAG: %[[G:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK-DAG: %[[TRUE:.*]] = arith.constant true
// CHECK-DAG: %[[BITS:.*]] = arith.constant 4 : i32
// CHECK: call @quilt_ref_fake_quant_int(%{{.*}}, %[[G]], %[[FALSE]], %[[BITS]], %[[TRUE]])
func.func @int4_group_zero_point(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<i4, group<16>, zero_point>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i4, group<16>, zero_point>>
  return %p : !quilt.packed<64x32, precision<i4, group<16>, zero_point>>
}

// -----

// f8 without a granularity is a plain (saturating) cast...
// CHECK-LABEL: func.func @f8_cast
// CHECK: %[[FALSE:.*]] = arith.constant false
// CHECK: call @quilt_ref_fake_quant_f8e4m3fn(%{{.*}}, %{{.*}}, %[[FALSE]], %[[FALSE]])
func.func @f8_cast(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<f8E4M3FN>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<f8E4M3FN>>
  return %p : !quilt.packed<64x32, precision<f8E4M3FN>>
}

// -----

// ...with one, it is scaled.
// CHECK-LABEL: func.func @f8_scaled
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: call @quilt_ref_fake_quant_f8e4m3fn(%{{.*}}, %{{.*}}, %[[TRUE]], %[[TRUE]])
func.func @f8_scaled(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<f8E4M3FN, tensor>> {
  %q = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<f8E4M3FN, tensor>>
  return %q : !quilt.packed<64x32, precision<f8E4M3FN, tensor>>
}

// -----

// Sparsity is applied before the precision.
// CHECK-LABEL: func.func @nm_int8
// CHECK-DAG: %[[N:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[M:.*]] = arith.constant 4 : index
// CHECK: %[[S:.*]] = call @quilt_ref_prune_nm(%{{.*}}, %[[N]], %[[M]])
// CHECK: %[[SC:.*]] = tensor.cast %[[S]] : tensor<?x?xf32> to tensor<64x32xf32>
// CHECK: %[[SD:.*]] = tensor.cast %[[SC]] : tensor<64x32xf32> to tensor<?x?xf32>
// CHECK: call @quilt_ref_fake_quant_int(%[[SD]],
func.func @nm_int8(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<2, 4>>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<2, 4>>>
  return %p : !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<2, 4>>>
}

// -----

// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[R:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[D:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: call @quilt_ref_prune_blocks(%{{.*}}, %[[R]], %[[C]], %[[D]])
func.func @block(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, sparsity<block<16x8>, density = 0.25>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<block<16x8>, density = 0.25>>
  return %p : !quilt.packed<64x32, sparsity<block<16x8>, density = 0.25>>
}

// -----

// CHECK-LABEL: func.func @unstructured
// CHECK: %[[D:.*]] = arith.constant 1.000000e-01 : f32
// CHECK: call @quilt_ref_prune_unstructured(%{{.*}}, %[[D]])
func.func @unstructured(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, sparsity<unstructured, density = 0.1>> {
  %q = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<unstructured, density = 0.1>>
  return %q : !quilt.packed<64x32, sparsity<unstructured, density = 0.1>>
}

// -----

// Block-diagonal masks the weight; scales then apply to the masked matrix.
// CHECK-LABEL: func.func @blockdiag
// CHECK: %[[B:.*]] = arith.constant 4 : index
// CHECK: call @quilt_ref_mask_blockdiag(%{{.*}}, %[[B]])
// CHECK: call @quilt_ref_fake_quant_int
func.func @blockdiag(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<i8, channel>, structure<blockdiag<4>>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>, structure<blockdiag<4>>>
  return %p : !quilt.packed<64x32, precision<i8, channel>, structure<blockdiag<4>>>
}

// -----

// Monarch quantizes its two factors (per-tensor), not their product.
// CHECK-LABEL: func.func @monarch_int8
// CHECK: %[[F:.*]]:2 = call @quilt_ref_monarch_factors(%{{.*}}, %{{.*}}) : (tensor<?x?xf32>, index) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>)
// CHECK: %[[L:.*]] = tensor.cast %[[F]]#0 : tensor<?x?x?xf32> to tensor<4x16x4xf32>
// CHECK: %[[R:.*]] = tensor.cast %[[F]]#1 : tensor<?x?x?xf32> to tensor<4x4x8xf32>
// CHECK: tensor.collapse_shape %[[L]] {{\[\[}}0, 1], [2]] : tensor<4x16x4xf32> into tensor<64x4xf32>
// CHECK: call @quilt_ref_fake_quant_int
// CHECK: tensor.collapse_shape %[[R]] {{\[\[}}0, 1], [2]] : tensor<4x4x8xf32> into tensor<16x8xf32>
// CHECK: call @quilt_ref_fake_quant_int
// CHECK: call @quilt_ref_monarch_expand
// CHECK-NOT: call @quilt_ref_fake_quant_int
// CHECK: return
func.func @monarch_int8(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<i8, tensor>, structure<monarch<4>>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, tensor>, structure<monarch<4>>>
  return %p : !quilt.packed<64x32, precision<i8, tensor>, structure<monarch<4>>>
}

// -----

// CHECK-LABEL: func.func @lowrank_bf16
// CHECK: %[[F:.*]]:2 = call @quilt_ref_lowrank_factors(%{{.*}}, %{{.*}}) : (tensor<?x?xf32>, index) -> (tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK: tensor.cast %[[F]]#0 : tensor<?x?xf32> to tensor<64x8xf32>
// CHECK: tensor.cast %[[F]]#1 : tensor<?x?xf32> to tensor<8x32xf32>
// CHECK: call @quilt_ref_round_bf16
// CHECK: call @quilt_ref_round_bf16
// CHECK: call @quilt_ref_lowrank_expand
// CHECK: func.func private @quilt_ref_jacobi_eigh
func.func @lowrank_bf16(%w: tensor<64x32xf32>) -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>> {
  %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
  return %p : !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
}

// -----

// Given factors are only rounded and multiplied out: no factorization.
// CHECK-LABEL: func.func @factors_bf16
// CHECK-NOT: quilt_ref_lowrank_factors
// CHECK: call @quilt_ref_round_bf16
// CHECK: call @quilt_ref_round_bf16
// CHECK: call @quilt_ref_lowrank_expand
// CHECK-NOT: func.func private @quilt_ref_jacobi_eigh
func.func @factors_bf16(%u: tensor<64x8xf32>, %v: tensor<8x32xf32>) -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>> {
  %p = quilt.pack_factors %u, %v : tensor<64x8xf32>, tensor<8x32xf32> -> !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
  return %p : !quilt.packed<64x32, precision<bf16>, structure<lowrank<8>>>
}
