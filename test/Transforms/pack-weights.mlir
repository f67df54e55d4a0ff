// RUN: quilt-opt %s --quilt-pack-weights --split-input-file | FileCheck %s
// RUN: quilt-opt %s --quilt-cpu-pipeline --split-input-file | FileCheck %s --check-prefix=PIPE
// RUN: quilt-opt %s --quilt-cpu-pipeline=pack-weights=0 --split-input-file | FileCheck %s --check-prefix=NOPACK
// RUN: not quilt-opt %s --quilt-pack-weights --quilt-reference-pipeline --split-input-file 2>&1 | FileCheck %s --check-prefix=REF

// quilt-pack-weights folds quilt.pack of a constant into the bytes the CPU
// packing kernel produces (run through the JIT at compile time): the int8
// panel layout of a 5x3 weight is one 32-column panel of two K words
// (256 bytes), then 32 f32 scales and 32 i32 column sums (128 bytes each).
// The constant and the pack are gone (the bytes are a dense_resource blob,
// 1-byte aligned); quilt-cpu-pipeline runs the pass first, so no packing
// kernel is left in the program.

// CHECK-LABEL: func.func @int8
// CHECK-NOT:     arith.constant
// CHECK-NOT:     quilt.pack
// CHECK:         %[[W:.*]] = quilt.packed_constant "cpu" dense_resource<[[BLOB:packed.*]]> : tensor<512xi8> -> !quilt.packed<5x3, precision<i8, channel>>
// CHECK:         quilt.linear %{{.*}}, %[[W]]
// CHECK:         [[BLOB]]: "0x01000000{{[0-9A-F]+}}"
// PIPE-LABEL:  llvm.func @int8
// PIPE-NOT:      quilt_cpu_pack
// NOPACK:        quilt_cpu_pack_i8
// REF:           error: 'quilt.packed_constant' op holds bytes in the 'cpu' layout
func.func @int8(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %c = arith.constant dense<[[1.0, -2.0, 0.5], [0.25, 3.0, -1.0], [0.0, 1.5, 2.0], [-0.75, 0.125, 1.0], [2.5, -3.5, 0.0]]> : tensor<5x3xf32>
  %w = quilt.pack %c : tensor<5x3xf32> -> !quilt.packed<5x3, precision<i8, channel>>
  %y = quilt.linear %x, %w : tensor<2x5xf32>, !quilt.packed<5x3, precision<i8, channel>> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Constant factors of a low-rank weight are packed as they are, each in the
// f32 panel layout the low-rank format keeps it in: U (5x2) in 5 K words of
// one 32-column panel (640 bytes), V (2x3) from byte 640 (256 bytes).

// CHECK-LABEL: func.func @factors
// CHECK-NOT:     arith.constant
// CHECK-NOT:     quilt.pack_factors
// CHECK:         quilt.packed_constant "cpu" dense_resource<[[BLOB:packed.*]]> : tensor<896xi8> -> !quilt.packed<5x3, structure<lowrank<2>>>
// CHECK:         [[BLOB]]: "0x01000000{{[0-9A-F]+}}"
// PIPE-LABEL:  llvm.func @factors
// PIPE-NOT:      quilt_cpu_pack
// NOPACK:        quilt_cpu_pack_factors_f32_lowrank2_5x3
func.func @factors(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %u = arith.constant dense<[[1.0, -2.0], [0.5, 0.25], [3.0, -1.0], [0.0, 1.5], [2.0, -0.75]]> : tensor<5x2xf32>
  %v = arith.constant dense<[[0.125, 1.0, 2.5], [-3.5, 0.0, 1.0]]> : tensor<2x3xf32>
  %w = quilt.pack_factors %u, %v : tensor<5x2xf32>, tensor<2x3xf32> -> !quilt.packed<5x3, structure<lowrank<2>>>
  %y = quilt.linear %x, %w : tensor<2x5xf32>, !quilt.packed<5x3, structure<lowrank<2>>> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A weight that is not constant, and a format without a CPU layout
// (i8 group scales), keep their quilt.pack.

// CHECK-LABEL: func.func @not_folded
// PIPE:        // -----
// CHECK:         quilt.pack %arg1
// CHECK:         arith.constant
// CHECK:         quilt.pack
func.func @not_folded(%x: tensor<2x4xf32>, %v: tensor<4x4xf32>) -> (!quilt.packed<4x4>, !quilt.packed<4x4, precision<i8, group<2>>>) {
  %p = quilt.pack %v : tensor<4x4xf32> -> !quilt.packed<4x4>
  %c = arith.constant dense<1.0> : tensor<4x4xf32>
  %q = quilt.pack %c : tensor<4x4xf32> -> !quilt.packed<4x4, precision<i8, group<2>>>
  return %p, %q : !quilt.packed<4x4>, !quilt.packed<4x4, precision<i8, group<2>>>
}
