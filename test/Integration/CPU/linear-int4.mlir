// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry f32 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry f32_blocks --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry f32_blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry a8 --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry a8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry a8_blocks --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry unpack --pipeline cpu --check --tolerance 0 | FileCheck %s

// int4 weights through quilt-cpu-pipeline against the reference pipeline:
// symmetric and zero-point codes; group, channel and tensor scales; f32,
// bf16 (rounded by the caller) and int8 activations (W4A8 on vpdpbusd);
// over the kernel's shape classes: M = 1 (tiles of 8 units, then single
// units for N = 200), a few rows, many rows (f32: dequantized K blocks;
// W4A8: groups in K blocks, and a channel group split in segments of 128 +
// 3 octets for K = 1042), K not a multiple of 8 (58, 1042: padded codes and
// activations), ragged N, dynamic M; 1 and 2 threads. Each entry returns
// several linears (quilt-run compiles the whole module per run); --check
// takes the largest error.
//
// Tolerance: packing rounds exactly as the reference quantizes (same
// scales, zero points and codes; quilt.unpack is bit-exact), and W4A8
// quantizes the activations exactly as the reference rounds them, so the
// results differ only by the order of the f32 sums and by scaling a group's
// sum once instead of each product: max |y - y_ref| / max |y_ref| is about
// 1e-7 to 1e-6 here, far below the format's own error (>= 1e-2 for int4),
// so a wrong code, scale, zero point or offset fails the run.
// CHECK: check vs reference: max_abs_err

!g128 = !quilt.packed<512x200, precision<i4, group<128>>>
!g64z = !quilt.packed<256x72, precision<i4, group<64>, zero_point>>
!g32 = !quilt.packed<96x67, precision<i4, group<32>>>
!g40 = !quilt.packed<600x300, precision<i4, group<40>>>
!ch58 = !quilt.packed<58x33, precision<i4, channel>>
!ch58z = !quilt.packed<58x33, precision<i4, channel, zero_point>>
!chlong = !quilt.packed<1042x48, precision<i4, channel, zero_point>>
!tz = !quilt.packed<40x20, precision<i4, tensor, zero_point>>
!g8z = !quilt.packed<64x40, precision<i4, group<8>, zero_point>>

// f32 activations, few rows: codes dequantized in registers.
func.func @f32(%x1: tensor<1x512xf32>, %w1: !g128, %b1: tensor<200xf32>,
               %x2: tensor<1x256xf32>, %w2: !g64z,
               %x3: tensor<13x96xf32>, %w3: !g32, %b3: tensor<67xf32>,
               %x4: tensor<7x58xf32>, %w4: !ch58, %b4: tensor<33xf32>,
               %x5: tensor<3x40xf32>, %w5: !tz,
               %x6: tensor<29x96xf32>)
    -> (tensor<1x200xf32>, tensor<1x72xf32>, tensor<13x67xf32>, tensor<7x33xf32>,
        tensor<3x20xf32>, tensor<13x67xf32>, tensor<29x67xf32>) {
  %y1 = quilt.linear %x1, %w1 bias %b1 : tensor<1x512xf32>, !g128, tensor<200xf32> -> tensor<1x200xf32>
  %y2 = quilt.linear %x2, %w2 : tensor<1x256xf32>, !g64z -> tensor<1x72xf32>
  %y3 = quilt.linear %x3, %w3 bias %b3 : tensor<13x96xf32>, !g32, tensor<67xf32> -> tensor<13x67xf32>
  %y4 = quilt.linear %x4, %w4 bias %b4 : tensor<7x58xf32>, !ch58, tensor<33xf32> -> tensor<7x33xf32>
  %y5 = quilt.linear %x5, %w5 : tensor<3x40xf32>, !tz -> tensor<3x20xf32>
  %y6 = quilt.linear %x3, %w3 act <bf16> : tensor<13x96xf32>, !g32 -> tensor<13x67xf32>
  %xd = tensor.cast %x6 : tensor<29x96xf32> to tensor<?x96xf32>
  %yd = quilt.linear %xd, %w3 : tensor<?x96xf32>, !g32 -> tensor<?x67xf32>
  %y7 = tensor.cast %yd : tensor<?x67xf32> to tensor<29x67xf32>
  return %y1, %y2, %y3, %y4, %y5, %y6, %y7
      : tensor<1x200xf32>, tensor<1x72xf32>, tensor<13x67xf32>, tensor<7x33xf32>,
        tensor<3x20xf32>, tensor<13x67xf32>, tensor<29x67xf32>
}

// f32 activations, many rows: dequantized K blocks of W.
func.func @f32_blocks(%x1: tensor<200x600xf32>, %w1: !g40, %b1: tensor<300xf32>,
                      %x2: tensor<60x1042xf32>, %w2: !chlong)
    -> (tensor<200x300xf32>, tensor<60x48xf32>) {
  %y1 = quilt.linear %x1, %w1 bias %b1 : tensor<200x600xf32>, !g40, tensor<300xf32> -> tensor<200x300xf32>
  %y2 = quilt.linear %x2, %w2 : tensor<60x1042xf32>, !chlong -> tensor<60x48xf32>
  return %y1, %y2 : tensor<200x300xf32>, tensor<60x48xf32>
}

// W4A8, few rows.
func.func @a8(%x1: tensor<1x512xf32>, %w1: !g128, %b1: tensor<200xf32>,
              %x2: tensor<16x96xf32>, %w2: !g32, %b2: tensor<67xf32>,
              %x3: tensor<7x58xf32>, %w3: !ch58z,
              %x4: tensor<5x64xf32>, %w4: !g8z, %b4: tensor<40xf32>,
              %x5: tensor<29x96xf32>)
    -> (tensor<1x200xf32>, tensor<16x67xf32>, tensor<7x33xf32>, tensor<5x40xf32>,
        tensor<29x67xf32>) {
  %y1 = quilt.linear %x1, %w1 bias %b1 act <i8, channel> : tensor<1x512xf32>, !g128, tensor<200xf32> -> tensor<1x200xf32>
  %y2 = quilt.linear %x2, %w2 bias %b2 act <i8, channel> : tensor<16x96xf32>, !g32, tensor<67xf32> -> tensor<16x67xf32>
  %y3 = quilt.linear %x3, %w3 act <i8, tensor> : tensor<7x58xf32>, !ch58z -> tensor<7x33xf32>
  %y4 = quilt.linear %x4, %w4 bias %b4 act <i8, channel> : tensor<5x64xf32>, !g8z, tensor<40xf32> -> tensor<5x40xf32>
  %xd = tensor.cast %x5 : tensor<29x96xf32> to tensor<?x96xf32>
  %yd = quilt.linear %xd, %w2 act <i8, channel> : tensor<?x96xf32>, !g32 -> tensor<?x67xf32>
  %y5 = tensor.cast %yd : tensor<?x67xf32> to tensor<29x67xf32>
  return %y1, %y2, %y3, %y4, %y5
      : tensor<1x200xf32>, tensor<16x67xf32>, tensor<7x33xf32>, tensor<5x40xf32>,
        tensor<29x67xf32>
}

// W4A8, many rows: group sums in K blocks; channel groups in segments.
func.func @a8_blocks(%x1: tensor<200x600xf32>, %w1: !g40, %b1: tensor<300xf32>,
                     %x2: tensor<60x1042xf32>, %w2: !chlong)
    -> (tensor<200x300xf32>, tensor<60x48xf32>) {
  %y1 = quilt.linear %x1, %w1 bias %b1 act <i8, channel> : tensor<200x600xf32>, !g40, tensor<300xf32> -> tensor<200x300xf32>
  %y2 = quilt.linear %x2, %w2 act <i8, channel> : tensor<60x1042xf32>, !chlong -> tensor<60x48xf32>
  return %y1, %y2 : tensor<200x300xf32>, tensor<60x48xf32>
}

// Decoding is bit-exact.
func.func @unpack(%w1: tensor<96x40xf32>, %w2: tensor<58x33xf32>)
    -> (tensor<96x40xf32>, tensor<58x33xf32>) {
  %p1 = quilt.pack %w1 : tensor<96x40xf32> -> !quilt.packed<96x40, precision<i4, group<32>>>
  %d1 = quilt.unpack %p1 : !quilt.packed<96x40, precision<i4, group<32>>> -> tensor<96x40xf32>
  %p2 = quilt.pack %w2 : tensor<58x33xf32> -> !ch58z
  %d2 = quilt.unpack %p2 : !ch58z -> tensor<58x33xf32>
  return %d1, %d2 : tensor<96x40xf32>, tensor<58x33xf32>
}
