// RUN: quilt-run %s --entry plain --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry scores --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry batched4d --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry scores8 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry scores --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s

// quilt.matmul through quilt-cpu-pipeline (the right operand packed into f32
// panels at run time, then the linear GEMM kernel) against the reference
// pipeline: a ragged 2-d product, batched attention scores Q K^T
// (transpose_b; K transposed by scalar copies, and with sizes multiples of
// 8 in vector blocks: @scores8), and two batch dims. On 2 threads the
// products of a batch run in parallel, one thread each. Only the f32
// summation order differs.
// CHECK: check vs reference: max_abs_err

func.func @plain(%a: tensor<13x37xf32>, %b: tensor<37x45xf32>) -> tensor<13x45xf32> {
  %c = quilt.matmul %a, %b : tensor<13x37xf32>, tensor<37x45xf32> -> tensor<13x45xf32>
  return %c : tensor<13x45xf32>
}

func.func @scores(%q: tensor<3x20x16xf32>, %k: tensor<3x20x16xf32>) -> tensor<3x20x20xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<3x20x16xf32>, tensor<3x20x16xf32> -> tensor<3x20x20xf32>
  return %s : tensor<3x20x20xf32>
}

func.func @batched4d(%a: tensor<2x3x9x33xf32>, %b: tensor<2x3x33x17xf32>) -> tensor<2x3x9x17xf32> {
  %c = quilt.matmul %a, %b : tensor<2x3x9x33xf32>, tensor<2x3x33x17xf32> -> tensor<2x3x9x17xf32>
  return %c : tensor<2x3x9x17xf32>
}

func.func @scores8(%q: tensor<2x20x16xf32>, %k: tensor<2x24x16xf32>) -> tensor<2x20x24xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x20x16xf32>, tensor<2x24x16xf32> -> tensor<2x20x24xf32>
  return %s : tensor<2x20x24xf32>
}
