// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry tiny --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry unpacked --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry row_major --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry row_major --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry row_major_blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry row_major_blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry roundtrip --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s

// f32 linears through quilt-cpu-pipeline against the reference pipeline on
// seeded random inputs, over the shape classes of the blocked kernel: M = 1,
// ragged M, K and N (13 x 97 x 67: a tail tile, prime K and N, a masked last
// panel), tiny (2 x 3 x 5), and several K blocks, row blocks and column
// panels (200 x 600 x 300), at 1 and 2 threads; a plain tensor weight
// (packed at run time), and one read in place (16 rows, N = 96: three
// 32-column panels of the row-major weight; and 7 x 600 x 1056: K blocks,
// the last one partial, across 33 panels, more than one page-wide group);
// and a pack/unpack round trip
// of an int8 weight.
//
// Tolerance: the CPU kernels round weights and activations exactly as the
// reference does (same scales, same round-half-even), so the results differ
// only by the order of the f32 sums: max |y - y_ref| / max |y_ref| is about
// 1e-6 here (K <= 600; worst case K * 2^-24 = 4e-5), and 1e-5 sits far
// below the format's own rounding error (>= 1e-3 for bf16 and int8), so a
// wrong scale, rounding or padding fails the run.
// CHECK: check vs reference: max_abs_err

func.func @m1(%x: tensor<1x64xf32>, %w: !quilt.packed<64x40, precision<f32>>, %b: tensor<40xf32>) -> tensor<1x40xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<1x64xf32>, !quilt.packed<64x40, precision<f32>>, tensor<40xf32> -> tensor<1x40xf32>
  return %y : tensor<1x40xf32>
}

func.func @ragged(%x: tensor<13x97xf32>, %w: !quilt.packed<97x67, precision<f32>>, %b: tensor<67xf32>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x97xf32>, !quilt.packed<97x67, precision<f32>>, tensor<67xf32> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}

func.func @tiny(%x: tensor<2x3xf32>, %w: !quilt.packed<3x5, precision<f32>>, %b: tensor<5xf32>) -> tensor<2x5xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<2x3xf32>, !quilt.packed<3x5, precision<f32>>, tensor<5xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

func.func @blocks(%x: tensor<200x600xf32>, %w: !quilt.packed<600x300, precision<f32>>, %b: tensor<300xf32>) -> tensor<200x300xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<200x600xf32>, !quilt.packed<600x300, precision<f32>>, tensor<300xf32> -> tensor<200x300xf32>
  return %y : tensor<200x300xf32>
}

func.func @row_major(%x: tensor<16x97xf32>, %w: tensor<97x96xf32>, %b: tensor<96xf32>) -> tensor<16x96xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<16x97xf32>, tensor<97x96xf32>, tensor<96xf32> -> tensor<16x96xf32>
  return %y : tensor<16x96xf32>
}

func.func @row_major_blocks(%x: tensor<7x600xf32>, %w: tensor<600x1056xf32>, %b: tensor<1056xf32>) -> tensor<7x1056xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<7x600xf32>, tensor<600x1056xf32>, tensor<1056xf32> -> tensor<7x1056xf32>
  return %y : tensor<7x1056xf32>
}

func.func @unpacked(%x: tensor<13x97xf32>, %w: tensor<97x67xf32>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w : tensor<13x97xf32>, tensor<97x67xf32> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}
func.func @roundtrip(%w: tensor<97x67xf32>) -> tensor<97x67xf32> {
  %p = quilt.pack %w : tensor<97x67xf32> -> !quilt.packed<97x67, precision<i8, channel>>
  %u = quilt.unpack %p : !quilt.packed<97x67, precision<i8, channel>> -> tensor<97x67xf32>
  return %u : tensor<97x67xf32>
}
