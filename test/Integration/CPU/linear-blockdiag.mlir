// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry bf16 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry i8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry unpack_bf16 --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry unpack_i8 --pipeline cpu --check --tolerance 0 | FileCheck %s

// Block-diagonal weights through quilt-cpu-pipeline: the B diagonal blocks
// are stored in the native panel layout of the precision and the linear is
// B GEMMs on column slices of x. The stored values are the reference's
// (same rounding, same int8 column scales), so the results differ only by
// the order of the f32 sums (about 1e-6 here); decoding is bit-exact.
// Shapes: 13 rows (a balanced tile of 7 and a tail of 6) x 96 x 80 with 4
// blocks of 24 x 20 (ragged 32-column panels), M = 1 (few-row sums),
// an odd block height (bf16 pairs and int8 quads padded: 5 blocks of
// 15 x 8) and a dynamic M.
// CHECK: check vs reference: max_abs_err

func.func @f32(%x: tensor<13x96xf32>, %w: !quilt.packed<96x80, structure<blockdiag<4>>>, %b: tensor<80xf32>) -> tensor<13x80xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x96xf32>, !quilt.packed<96x80, structure<blockdiag<4>>>, tensor<80xf32> -> tensor<13x80xf32>
  return %y : tensor<13x80xf32>
}
func.func @m1(%x: tensor<1x256xf32>, %w: !quilt.packed<256x128, structure<blockdiag<2>>>) -> tensor<1x128xf32> {
  %y = quilt.linear %x, %w : tensor<1x256xf32>, !quilt.packed<256x128, structure<blockdiag<2>>> -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}
func.func @bf16(%x: tensor<30x75xf32>, %w: !quilt.packed<75x40, precision<bf16>, structure<blockdiag<5>>>, %b: tensor<40xf32>) -> tensor<30x40xf32> {
  %y = quilt.linear %x, %w bias %b act <bf16> : tensor<30x75xf32>, !quilt.packed<75x40, precision<bf16>, structure<blockdiag<5>>>, tensor<40xf32> -> tensor<30x40xf32>
  return %y : tensor<30x40xf32>
}
func.func @i8(%x: tensor<29x75xf32>, %w: !quilt.packed<75x40, precision<i8, channel>, structure<blockdiag<5>>>) -> tensor<29x40xf32> {
  // M only known at run time: two tiles of 12 rows, then 5 rows one by one.
  %xd = tensor.cast %x : tensor<29x75xf32> to tensor<?x75xf32>
  %y = quilt.linear %xd, %w : tensor<?x75xf32>, !quilt.packed<75x40, precision<i8, channel>, structure<blockdiag<5>>> -> tensor<?x40xf32>
  %ys = tensor.cast %y : tensor<?x40xf32> to tensor<29x40xf32>
  return %ys : tensor<29x40xf32>
}
func.func @unpack_bf16(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, precision<bf16>, structure<blockdiag<3>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, precision<bf16>, structure<blockdiag<3>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}
func.func @unpack_i8(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, precision<i8, channel>, structure<blockdiag<3>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, precision<i8, channel>, structure<blockdiag<3>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}
