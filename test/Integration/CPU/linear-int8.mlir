// RUN: quilt-run %s --entry m1 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry tiny --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry per_tensor --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry weights_only --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry ragged --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s

// W8A8 through quilt-cpu-pipeline (vpdpbusd on u8 activations and s8
// weights) against the reference pipeline: per-channel and per-tensor
// scales, int8 weights with f32 activations, over the shape classes of the
// blocked kernel (M = 1; ragged 13 x 97 x 67, K not a multiple of 4; tiny
// 2 x 3 x 5; 200 x 600 x 300), 1 and 2 threads.
//
// Tolerance: the CPU kernels round weights and activations exactly as the
// reference does (same scales, same round-half-even), so the results differ
// only by the order of the f32 sums: max |y - y_ref| / max |y_ref| is about
// 1e-6 here (K <= 600; worst case K * 2^-24 = 4e-5), and 1e-5 sits far
// below the format's own rounding error (>= 1e-3 for bf16 and int8), so a
// wrong scale, rounding or padding fails the run.
// CHECK: check vs reference: max_abs_err

func.func @m1(%x: tensor<1x64xf32>, %w: !quilt.packed<64x40, precision<i8, channel>>, %b: tensor<40xf32>) -> tensor<1x40xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<1x64xf32>, !quilt.packed<64x40, precision<i8, channel>>, tensor<40xf32> -> tensor<1x40xf32>
  return %y : tensor<1x40xf32>
}

func.func @ragged(%x: tensor<13x97xf32>, %w: !quilt.packed<97x67, precision<i8, channel>>, %b: tensor<67xf32>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<13x97xf32>, !quilt.packed<97x67, precision<i8, channel>>, tensor<67xf32> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}

func.func @tiny(%x: tensor<2x3xf32>, %w: !quilt.packed<3x5, precision<i8, channel>>, %b: tensor<5xf32>) -> tensor<2x5xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<2x3xf32>, !quilt.packed<3x5, precision<i8, channel>>, tensor<5xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

func.func @blocks(%x: tensor<200x600xf32>, %w: !quilt.packed<600x300, precision<i8, channel>>, %b: tensor<300xf32>) -> tensor<200x300xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<200x600xf32>, !quilt.packed<600x300, precision<i8, channel>>, tensor<300xf32> -> tensor<200x300xf32>
  return %y : tensor<200x300xf32>
}

func.func @per_tensor(%x: tensor<13x97xf32>, %w: !quilt.packed<97x67, precision<i8, tensor>>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w act <i8, tensor> : tensor<13x97xf32>, !quilt.packed<97x67, precision<i8, tensor>> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}
func.func @weights_only(%x: tensor<13x97xf32>, %w: !quilt.packed<97x67, precision<i8, channel>>) -> tensor<13x67xf32> {
  %y = quilt.linear %x, %w : tensor<13x97xf32>, !quilt.packed<97x67, precision<i8, channel>> -> tensor<13x67xf32>
  return %y : tensor<13x67xf32>
}
