// RUN: quilt-opt %s --quilt-fuse-blocks -o %t.mlir
// RUN: quilt-opt %t.mlir --convert-quilt-to-cpu -o %t.cpu.mlir
// RUN: FileCheck %s --check-prefix=KERNEL < %t.cpu.mlir
// RUN: FileCheck %s --check-prefix=TRANSPOSE < %t.cpu.mlir
// RUN: quilt-run %t.mlir --entry scaled --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %t.mlir --entry masked --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %t.mlir --entry single --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %t.mlir --entry heads --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %t.mlir --entry blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s

// Short-sequence attention blocks formed by quilt-fuse-blocks, compiled as
// one kernel each (FusedAttention.cpp), against the reference pipeline on
// seeded random inputs in [-1, 1): 21 queries take the transposed-K path,
// fewer the dot products. Ragged sizes (queries not a multiple of the 4-row
// tile, keys and head sizes not of 16 lanes) exercise the partial tile and
// the masked lanes; the bound is the unfused ops' (f32 sums in another
// order, polynomial exp).
// CHECK: check vs reference: max_abs_err

// Every block became the attention kernel, with no score-sized buffer.
// KERNEL-COUNT-5: call @quilt_cpu_fused_attention
// KERNEL-LABEL: func.func private @quilt_cpu_fused_attention(
// KERNEL-NOT: memref.alloc() {{.*}} : memref<3x21x37xf32>
// KERNEL: return

// Keys and head size multiples of 8 (@blocks): K is transposed in 8 x 8
// blocks of shuffled vectors (the first shuffle interleaves two key rows).
// TRANSPOSE: vector.shuffle %{{.+}}, %{{.+}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xf32>, vector<8xf32>

// Scale, as with 1/sqrt(d).
func.func @scaled(%q: tensor<3x21x20xf32>, %k: tensor<3x37x20xf32>, %v: tensor<3x37x24xf32>, %scale: tensor<3x21x37xf32>) -> tensor<3x21x24xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<3x21x20xf32>, tensor<3x37x20xf32> -> tensor<3x21x37xf32>
  %t = quilt.mul %s, %scale : tensor<3x21x37xf32>
  %p = quilt.softmax %t : tensor<3x21x37xf32>
  %o = quilt.matmul %p, %v : tensor<3x21x37xf32>, tensor<3x37x24xf32> -> tensor<3x21x24xf32>
  return %o : tensor<3x21x24xf32>
}

// Scale then an additive mask: a chain of two.
func.func @masked(%q: tensor<2x9x24xf32>, %k: tensor<2x40x24xf32>, %v: tensor<2x40x32xf32>, %scale: tensor<2x9x40xf32>, %mask: tensor<2x9x40xf32>) -> tensor<2x9x32xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x9x24xf32>, tensor<2x40x24xf32> -> tensor<2x9x40xf32>
  %t = quilt.mul %s, %scale : tensor<2x9x40xf32>
  %u = quilt.add %t, %mask : tensor<2x9x40xf32>
  %p = quilt.softmax %u : tensor<2x9x40xf32>
  %o = quilt.matmul %p, %v : tensor<2x9x40xf32>, tensor<2x40x32xf32> -> tensor<2x9x32xf32>
  return %o : tensor<2x9x32xf32>
}

// One head without a batch dim, no chain, one query (decoding).
func.func @single(%q: tensor<1x64xf32>, %k: tensor<50x64xf32>, %v: tensor<50x16xf32>) -> tensor<1x16xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<1x64xf32>, tensor<50x64xf32> -> tensor<1x50xf32>
  %p = quilt.softmax %s : tensor<1x50xf32>
  %o = quilt.matmul %p, %v : tensor<1x50xf32>, tensor<50x16xf32> -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}

// Batch and heads: two leading dims.
func.func @heads(%q: tensor<2x3x8x16xf32>, %k: tensor<2x3x17x16xf32>, %v: tensor<2x3x17x8xf32>) -> tensor<2x3x8x8xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x3x8x16xf32>, tensor<2x3x17x16xf32> -> tensor<2x3x8x17xf32>
  %p = quilt.softmax %s : tensor<2x3x8x17xf32>
  %o = quilt.matmul %p, %v : tensor<2x3x8x17xf32>, tensor<2x3x17x8xf32> -> tensor<2x3x8x8xf32>
  return %o : tensor<2x3x8x8xf32>
}

// 24 queries (transposed K), 40 keys and 16 features: 8 x 8 transpose
// blocks, K^T rows padded past 40 keys.
func.func @blocks(%q: tensor<2x24x16xf32>, %k: tensor<2x40x16xf32>, %v: tensor<2x40x8xf32>) -> tensor<2x24x8xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x24x16xf32>, tensor<2x40x16xf32> -> tensor<2x24x40xf32>
  %p = quilt.softmax %s : tensor<2x24x40xf32>
  %o = quilt.matmul %p, %v : tensor<2x24x40xf32>, tensor<2x40x8xf32> -> tensor<2x24x8xf32>
  return %o : tensor<2x24x8xf32>
}
