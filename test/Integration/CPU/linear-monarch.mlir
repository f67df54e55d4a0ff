// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry bf16 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry rows --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry dyn --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry unpack_f32 --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry unpack_bf16 --pipeline cpu --check --tolerance 0 | FileCheck %s

// Monarch weights through quilt-cpu-pipeline: the factors L (B x k x B) and
// R (B x B x n) are stored as B blocks each in the native panel layout, and
// the linear is two batched block-diagonal products through an
// intermediate z stored as [m][q][p] (never W, never a permuted x). The
// factors are the reference's, rounded as it rounds them, so the results
// differ only by the order of the f32 sums and by (x L) R against x (L R)
// (about 1e-6 here); decoding uses the reference's expansion and is
// bit-exact. Shapes: 13 rows x 96 x 80 with B = 4 (k = 24, n = 20: ragged
// panels), M = 1, bf16 with act <bf16> and an odd k (B = 3, k = 15: padded
// bf16 pairs), 70 rows (blocks of 32 rows and a tail) and a dynamic M of
// 45 rows.
// CHECK: check vs reference: max_abs_err

func.func @f32(%x: tensor<13x96xf32>, %w: !quilt.packed<96x80, structure<monarch<4>>>, %b: tensor<80xf32>) -> tensor<13x80xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x96xf32>, !quilt.packed<96x80, structure<monarch<4>>>, tensor<80xf32> -> tensor<13x80xf32>
  return %y : tensor<13x80xf32>
}
func.func @m1(%x: tensor<1x128xf32>, %w: !quilt.packed<128x256, structure<monarch<8>>>) -> tensor<1x256xf32> {
  %y = quilt.linear %x, %w : tensor<1x128xf32>, !quilt.packed<128x256, structure<monarch<8>>> -> tensor<1x256xf32>
  return %y : tensor<1x256xf32>
}
func.func @bf16(%x: tensor<30x45xf32>, %w: !quilt.packed<45x36, precision<bf16>, structure<monarch<3>>>, %b: tensor<36xf32>) -> tensor<30x36xf32> {
  %y = quilt.linear %x, %w bias %b act <bf16> : tensor<30x45xf32>, !quilt.packed<45x36, precision<bf16>, structure<monarch<3>>>, tensor<36xf32> -> tensor<30x36xf32>
  return %y : tensor<30x36xf32>
}
func.func @rows(%x: tensor<70x64xf32>, %w: !quilt.packed<64x96, structure<monarch<8>>>, %b: tensor<96xf32>) -> tensor<70x96xf32> {
  // Row blocks of 32, 32, then a static tail of 6 rows.
  %y = quilt.linear %x, %w bias %b : tensor<70x64xf32>, !quilt.packed<64x96, structure<monarch<8>>>, tensor<96xf32> -> tensor<70x96xf32>
  return %y : tensor<70x96xf32>
}
func.func @dyn(%x: tensor<45x64xf32>, %w: !quilt.packed<64x64, precision<bf16>, structure<monarch<8>>>) -> tensor<45x64xf32> {
  // M only known at run time: row blocks of 32 and 13 rows, each in tiles
  // of 12 rows, then rows one by one.
  %xd = tensor.cast %x : tensor<45x64xf32> to tensor<?x64xf32>
  %y = quilt.linear %xd, %w : tensor<?x64xf32>, !quilt.packed<64x64, precision<bf16>, structure<monarch<8>>> -> tensor<?x64xf32>
  %ys = tensor.cast %y : tensor<?x64xf32> to tensor<45x64xf32>
  return %ys : tensor<45x64xf32>
}
func.func @unpack_f32(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, structure<monarch<3>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, structure<monarch<3>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}
func.func @unpack_bf16(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, precision<bf16>, structure<monarch<4>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, precision<bf16>, structure<monarch<4>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}
