// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry wide --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry bf16 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry i8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry i8t --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry a8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry a8t --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry a8dyn --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry a8odd --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry unpack_bf16 --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry unpack_i8 --pipeline cpu --check --tolerance 0 | FileCheck %s

// Block-sparse weights through quilt-cpu-pipeline: the blocks the
// reference keeps are stored by block columns (BSR) and the linear
// accumulates a register tile over each block column's kept blocks. The
// stored values are the reference's (same pruning, same rounding, same
// int8 scales), so the results differ only by the order of the f32 sums
// (about 1e-6 here); decoding is bit-exact. Shapes: 16 x 16 blocks at
// density 0.25 with 30 rows (two balanced tiles of 15) and a bias; M = 1;
// 32-column blocks of 8 rows at density 0.4 over a dynamic M of 53 rows
// (two tiles of 24, then 5 rows one by one); bf16 with act <bf16> and an
// odd block height (5: padded pairs); int8 per channel and per tensor with
// 6-row blocks (padded quads). W8A8 (int8 weights, `act <i8, ...>`) runs
// on vpdpbusd with x quantized per row (or tensor) as the reference does,
// so it too differs only by the order of the sums: 16 x 16 blocks with a
// bias over 30 rows, 8 x 32 blocks per tensor at M = 1, 12 x 16 blocks
// over a dynamic M of 53 rows; blocks of 6 rows do not hold whole quads
// and take the f32 kernel on the rounded x instead.
// CHECK: check vs reference: max_abs_err

func.func @f32(%x: tensor<30x128xf32>, %w: !quilt.packed<128x96, sparsity<block<16x16>, density = 0.25>>, %b: tensor<96xf32>) -> tensor<30x96xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<30x128xf32>, !quilt.packed<128x96, sparsity<block<16x16>, density = 0.25>>, tensor<96xf32> -> tensor<30x96xf32>
  return %y : tensor<30x96xf32>
}
func.func @m1(%x: tensor<1x256xf32>, %w: !quilt.packed<256x64, sparsity<block<16x16>, density = 0.3>>) -> tensor<1x64xf32> {
  %y = quilt.linear %x, %w : tensor<1x256xf32>, !quilt.packed<256x64, sparsity<block<16x16>, density = 0.3>> -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}
func.func @wide(%x: tensor<53x64xf32>, %w: !quilt.packed<64x128, sparsity<block<8x32>, density = 0.4>>, %b: tensor<128xf32>) -> tensor<53x128xf32> {
  %xd = tensor.cast %x : tensor<53x64xf32> to tensor<?x64xf32>
  %y = quilt.linear %xd, %w bias %b : tensor<?x64xf32>, !quilt.packed<64x128, sparsity<block<8x32>, density = 0.4>>, tensor<128xf32> -> tensor<?x128xf32>
  %ys = tensor.cast %y : tensor<?x128xf32> to tensor<53x128xf32>
  return %ys : tensor<53x128xf32>
}
func.func @bf16(%x: tensor<17x80xf32>, %w: !quilt.packed<80x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>>, %b: tensor<48xf32>) -> tensor<17x48xf32> {
  %y = quilt.linear %x, %w bias %b act <bf16> : tensor<17x80xf32>, !quilt.packed<80x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>>, tensor<48xf32> -> tensor<17x48xf32>
  return %y : tensor<17x48xf32>
}
func.func @i8(%x: tensor<26x96xf32>, %w: !quilt.packed<96x64, precision<i8, channel>, sparsity<block<6x16>, density = 0.25>>) -> tensor<26x64xf32> {
  %y = quilt.linear %x, %w : tensor<26x96xf32>, !quilt.packed<96x64, precision<i8, channel>, sparsity<block<6x16>, density = 0.25>> -> tensor<26x64xf32>
  return %y : tensor<26x64xf32>
}
func.func @i8t(%x: tensor<3x96xf32>, %w: !quilt.packed<96x64, precision<i8, tensor>, sparsity<block<6x16>, density = 0.5>>) -> tensor<3x64xf32> {
  %y = quilt.linear %x, %w : tensor<3x96xf32>, !quilt.packed<96x64, precision<i8, tensor>, sparsity<block<6x16>, density = 0.5>> -> tensor<3x64xf32>
  return %y : tensor<3x64xf32>
}
func.func @a8(%x: tensor<30x128xf32>, %w: !quilt.packed<128x96, precision<i8, channel>, sparsity<block<16x16>, density = 0.25>>, %b: tensor<96xf32>) -> tensor<30x96xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<30x128xf32>, !quilt.packed<128x96, precision<i8, channel>, sparsity<block<16x16>, density = 0.25>>, tensor<96xf32> -> tensor<30x96xf32>
  return %y : tensor<30x96xf32>
}
func.func @a8t(%x: tensor<1x128xf32>, %w: !quilt.packed<128x64, precision<i8, tensor>, sparsity<block<8x32>, density = 0.5>>) -> tensor<1x64xf32> {
  %y = quilt.linear %x, %w act <i8, tensor> : tensor<1x128xf32>, !quilt.packed<128x64, precision<i8, tensor>, sparsity<block<8x32>, density = 0.5>> -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}
func.func @a8dyn(%x: tensor<53x96xf32>, %w: !quilt.packed<96x64, precision<i8, channel>, sparsity<block<12x16>, density = 0.4>>) -> tensor<53x64xf32> {
  %xd = tensor.cast %x : tensor<53x96xf32> to tensor<?x96xf32>
  %y = quilt.linear %xd, %w act <i8, channel> : tensor<?x96xf32>, !quilt.packed<96x64, precision<i8, channel>, sparsity<block<12x16>, density = 0.4>> -> tensor<?x64xf32>
  %ys = tensor.cast %y : tensor<?x64xf32> to tensor<53x64xf32>
  return %ys : tensor<53x64xf32>
}
func.func @a8odd(%x: tensor<9x96xf32>, %w: !quilt.packed<96x64, precision<i8, channel>, sparsity<block<6x16>, density = 0.4>>) -> tensor<9x64xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<9x96xf32>, !quilt.packed<96x64, precision<i8, channel>, sparsity<block<6x16>, density = 0.4>> -> tensor<9x64xf32>
  return %y : tensor<9x64xf32>
}
func.func @unpack_bf16(%w: tensor<40x48xf32>) -> tensor<40x48xf32> {
  %p = quilt.pack %w : tensor<40x48xf32> -> !quilt.packed<40x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>>
  %d = quilt.unpack %p : !quilt.packed<40x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>> -> tensor<40x48xf32>
  return %d : tensor<40x48xf32>
}
func.func @unpack_i8(%w: tensor<48x64xf32>) -> tensor<48x64xf32> {
  %p = quilt.pack %w : tensor<48x64xf32> -> !quilt.packed<48x64, precision<i8, channel>, sparsity<block<6x32>, density = 0.25>>
  %d = quilt.unpack %p : !quilt.packed<48x64, precision<i8, channel>, sparsity<block<6x32>, density = 0.25>> -> tensor<48x64xf32>
  return %d : tensor<48x64xf32>
}
