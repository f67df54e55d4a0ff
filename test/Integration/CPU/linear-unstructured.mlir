// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry few --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry dense_ish --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry bf16 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry i8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry w8a8_tensor --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry unpack --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry unpack_i8 --pipeline cpu --check --tolerance 0 | FileCheck %s

// Unstructured sparse weights through quilt-cpu-pipeline (8 compressed
// columns interleaved, u16 row indices; x-transposed FMA kernel, or x
// gathered by row index for M <= 4) against
// the reference pipeline: densities 0.1 to 0.5, f32, bf16 and int8 values,
// W8A8, M = 1 and 4 (gather kernel), ragged M / N, 1 and 2 threads, bias, and decoding.
//
// Tolerance: pruning is the reference's own kernel and the values and scales
// are rounded exactly as the reference rounds them, so results differ only
// by the order of the f32 sums (about 1e-6 here); int8 scales multiply the
// sums instead of each weight, one more rounding of 2^-24. Decoding is
// bit-exact.
// CHECK: check vs reference: max_abs_err

!u10 = !quilt.packed<64x40, sparsity<unstructured, density = 0.1>>
!u20 = !quilt.packed<300x67, sparsity<unstructured, density = 0.2>>
!u50 = !quilt.packed<128x48, sparsity<unstructured, density = 0.5>>
!ub = !quilt.packed<96x33, precision<bf16>, sparsity<unstructured, density = 0.25>>
!ui = !quilt.packed<200x72, precision<i8, channel>, sparsity<unstructured, density = 0.1>>
!ut = !quilt.packed<64x24, precision<i8, tensor>, sparsity<unstructured, density = 0.3>>

func.func @m1(%x: tensor<1x64xf32>, %w: !u10, %b: tensor<40xf32>) -> tensor<1x40xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<1x64xf32>, !u10, tensor<40xf32> -> tensor<1x40xf32>
  return %y : tensor<1x40xf32>
}
func.func @ragged(%x: tensor<53x300xf32>, %w: !u20, %b: tensor<67xf32>) -> tensor<53x67xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<53x300xf32>, !u20, tensor<67xf32> -> tensor<53x67xf32>
  return %y : tensor<53x67xf32>
}
func.func @dense_ish(%x: tensor<16x128xf32>, %w: !u50) -> tensor<16x48xf32> {
  %y = quilt.linear %x, %w : tensor<16x128xf32>, !u50 -> tensor<16x48xf32>
  return %y : tensor<16x48xf32>
}
func.func @bf16(%x: tensor<7x96xf32>, %w: !ub) -> tensor<7x33xf32> {
  %y = quilt.linear %x, %w : tensor<7x96xf32>, !ub -> tensor<7x33xf32>
  return %y : tensor<7x33xf32>
}
func.func @i8(%x: tensor<33x200xf32>, %w: !ui, %b: tensor<72xf32>) -> tensor<33x72xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<33x200xf32>, !ui, tensor<72xf32> -> tensor<33x72xf32>
  return %y : tensor<33x72xf32>
}
func.func @w8a8_tensor(%x: tensor<9x64xf32>, %w: !ut) -> tensor<9x24xf32> {
  %y = quilt.linear %x, %w act <i8, tensor> : tensor<9x64xf32>, !ut -> tensor<9x24xf32>
  return %y : tensor<9x24xf32>
}
func.func @unpack(%w: tensor<64x37xf32>) -> tensor<64x37xf32> {
  %p = quilt.pack %w : tensor<64x37xf32> -> !quilt.packed<64x37, sparsity<unstructured, density = 0.15>>
  %d = quilt.unpack %p : !quilt.packed<64x37, sparsity<unstructured, density = 0.15>> -> tensor<64x37xf32>
  return %d : tensor<64x37xf32>
}
func.func @unpack_i8(%w: tensor<48x20xf32>) -> tensor<48x20xf32> {
  %p = quilt.pack %w : tensor<48x20xf32> -> !quilt.packed<48x20, precision<i8, channel>, sparsity<unstructured, density = 0.2>>
  %d = quilt.unpack %p : !quilt.packed<48x20, precision<i8, channel>, sparsity<unstructured, density = 0.2>> -> tensor<48x20xf32>
  return %d : tensor<48x20xf32>
}
func.func @few(%x: tensor<4x300xf32>, %w: !u20) -> tensor<4x67xf32> {
  %y = quilt.linear %x, %w : tensor<4x300xf32>, !u20 -> tensor<4x67xf32>
  return %y : tensor<4x67xf32>
}
