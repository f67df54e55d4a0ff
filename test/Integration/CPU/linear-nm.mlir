// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry few --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry nm14_bf16 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry nm28_i8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry nm36_i8_tensor --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry w8a8 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry dynamic_m --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry unpack --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry unpack_i8 --pipeline cpu --check --tolerance 0 | FileCheck %s

// N:M sparse weights through quilt-cpu-pipeline (kept values and byte row
// offsets; x-transposed FMA kernel, or x gathered by row index for M <= 4) against the reference pipeline: 2:4,
// 1:4, 2:8, 3:6 with f32, bf16 and int8 (channel and tensor scales) values,
// W8A8, M = 1 and 3 (gather kernel), ragged M / N (not multiples of the 16-row and 8-column
// tiles), several K blocks (K = 1024: blocks of 256 rows), a dynamic M, 1
// and 2 threads, bias, and decoding (quilt.unpack).
//
// Tolerance: pruning is the reference's own kernel and the values and scales
// are rounded exactly as the reference rounds them, so results differ only
// by the order of the f32 sums (about 1e-6 here, K <= 1024); int8 scales
// multiply the sums instead of each weight, one more rounding of 2^-24.
// Decoding is bit-exact.
// CHECK: check vs reference: max_abs_err

!nm24 = !quilt.packed<64x40, sparsity<nm<2, 4>>>
!r24 = !quilt.packed<100x67, sparsity<nm<2, 4>>>
!b24 = !quilt.packed<1024x50, sparsity<nm<2, 4>>>
!nm14 = !quilt.packed<96x33, precision<bf16>, sparsity<nm<1, 4>>>
!nm28 = !quilt.packed<256x72, precision<i8, channel>, sparsity<nm<2, 8>>>
!nm36 = !quilt.packed<60x20, precision<i8, tensor>, sparsity<nm<3, 6>>>
!q24 = !quilt.packed<128x48, precision<i8, channel>, sparsity<nm<2, 4>>>

func.func @m1(%x: tensor<1x64xf32>, %w: !nm24, %b: tensor<40xf32>) -> tensor<1x40xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<1x64xf32>, !nm24, tensor<40xf32> -> tensor<1x40xf32>
  return %y : tensor<1x40xf32>
}
func.func @ragged(%x: tensor<13x100xf32>, %w: !r24, %b: tensor<67xf32>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x100xf32>, !r24, tensor<67xf32> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}
func.func @blocks(%x: tensor<70x1024xf32>, %w: !b24) -> tensor<70x50xf32> {
  %y = quilt.linear %x, %w : tensor<70x1024xf32>, !b24 -> tensor<70x50xf32>
  return %y : tensor<70x50xf32>
}
func.func @nm14_bf16(%x: tensor<17x96xf32>, %w: !nm14) -> tensor<17x33xf32> {
  %y = quilt.linear %x, %w : tensor<17x96xf32>, !nm14 -> tensor<17x33xf32>
  return %y : tensor<17x33xf32>
}
func.func @nm28_i8(%x: tensor<33x256xf32>, %w: !nm28, %b: tensor<72xf32>) -> tensor<33x72xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<33x256xf32>, !nm28, tensor<72xf32> -> tensor<33x72xf32>
  return %y : tensor<33x72xf32>
}
func.func @nm36_i8_tensor(%x: tensor<5x60xf32>, %w: !nm36) -> tensor<5x20xf32> {
  %y = quilt.linear %x, %w : tensor<5x60xf32>, !nm36 -> tensor<5x20xf32>
  return %y : tensor<5x20xf32>
}
func.func @w8a8(%x: tensor<20x128xf32>, %w: !q24, %b: tensor<48xf32>) -> tensor<20x48xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<20x128xf32>, !q24, tensor<48xf32> -> tensor<20x48xf32>
  return %y : tensor<20x48xf32>
}
func.func @dynamic_m(%x: tensor<9x64xf32>, %w: !nm24) -> tensor<9x40xf32> {
  %xd = tensor.cast %x : tensor<9x64xf32> to tensor<?x64xf32>
  %y = quilt.linear %xd, %w : tensor<?x64xf32>, !nm24 -> tensor<?x40xf32>
  %ys = tensor.cast %y : tensor<?x40xf32> to tensor<9x40xf32>
  return %ys : tensor<9x40xf32>
}
func.func @unpack(%w: tensor<64x37xf32>) -> tensor<64x37xf32> {
  %p = quilt.pack %w : tensor<64x37xf32> -> !quilt.packed<64x37, precision<bf16>, sparsity<nm<2, 4>>>
  %d = quilt.unpack %p : !quilt.packed<64x37, precision<bf16>, sparsity<nm<2, 4>>> -> tensor<64x37xf32>
  return %d : tensor<64x37xf32>
}
func.func @unpack_i8(%w: tensor<48x20xf32>) -> tensor<48x20xf32> {
  %p = quilt.pack %w : tensor<48x20xf32> -> !quilt.packed<48x20, precision<i8, channel>, sparsity<nm<1, 8>>>
  %d = quilt.unpack %p : !quilt.packed<48x20, precision<i8, channel>, sparsity<nm<1, 8>>> -> tensor<48x20xf32>
  return %d : tensor<48x20xf32>
}
func.func @few(%x: tensor<3x1024xf32>, %w: !b24, %b: tensor<50xf32>) -> tensor<3x50xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<3x1024xf32>, !b24, tensor<50xf32> -> tensor<3x50xf32>
  return %y : tensor<3x50xf32>
}
