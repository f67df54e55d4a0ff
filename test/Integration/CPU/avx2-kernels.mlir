// REQUIRES: host-avx2
// RUN: quilt-run %s --entry dense --cpu-features=+avx2,+fma --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry dense --cpu-features=+avx2,+fma --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry gated --cpu-features=+avx2,+fma --passes quilt-fuse-blocks --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry bf16gelu --cpu-features=+avx2,+fma --passes quilt-fuse-blocks --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry int4 --cpu-features=+avx2,+fma --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry int4 --cpu-features=+avx2,+fma --check --tolerance 1e-5 --threads 2 | FileCheck %s

// The kernels generated for 16 ymm registers, run on any host with AVX2
// (on an AVX-512 host too), against the reference pipeline:
// - dense: the GEMM's narrow 6 x 16 tiles (f32, bf16 and int8 weights
//   widened in registers; M = 13 and a dynamic M = 29: partial tiles and a
//   tail tile; ragged N = 40 and 70: a half panel past N), and the
//   full-width tiles with accumulator sets capped by the register budget
//   (M = 1 and 2);
// - gated: a gated MLP block at M = 16, which on 16 registers is two GEMMs
//   with the silu * product epilogue, not a paired one;
// - bf16gelu: bf16 weights with a fused epilogue take narrow tiles of at
//   most 5 rows (13 = 5 + 5 + 3: a tail tile);
// - int4: codes decoded without vpermps, symmetric codes as unsigned with
//   the sums started at -8 x the row sums (M = 1 and 2, group and channel
//   scales), zero points (M = 3), and K blocks dequantized once (M = 13).
// Tolerance: as the host kernels' tests, only the order of the f32 sums
// differs (measured max_rel_err 2.5e-7 to 4.5e-7 on Zen 3).
// CHECK: check vs reference: max_abs_err

!f32w = !quilt.packed<96x40>
!bf16w = !quilt.packed<75x70, precision<bf16>>
!i8w = !quilt.packed<64x40, precision<i8, channel>>

func.func @dense(%x13: tensor<13x96xf32>, %w1: !f32w, %b1: tensor<40xf32>,
                 %x29: tensor<29x75xf32>, %w2: !bf16w,
                 %x16: tensor<16x64xf32>, %w3: !i8w,
                 %x1: tensor<1x96xf32>, %x2: tensor<2x96xf32>)
    -> (tensor<13x40xf32>, tensor<29x70xf32>, tensor<16x40xf32>,
        tensor<1x40xf32>, tensor<2x40xf32>) {
  %y1 = quilt.linear %x13, %w1 bias %b1 : tensor<13x96xf32>, !f32w, tensor<40xf32> -> tensor<13x40xf32>
  %g1 = quilt.gelu %y1 : tensor<13x40xf32>
  %xd = tensor.cast %x29 : tensor<29x75xf32> to tensor<?x75xf32>
  %yd = quilt.linear %xd, %w2 : tensor<?x75xf32>, !bf16w -> tensor<?x70xf32>
  %y2 = tensor.cast %yd : tensor<?x70xf32> to tensor<29x70xf32>
  %y3 = quilt.linear %x16, %w3 : tensor<16x64xf32>, !i8w -> tensor<16x40xf32>
  %y4 = quilt.linear %x1, %w1 : tensor<1x96xf32>, !f32w -> tensor<1x40xf32>
  %y5 = quilt.linear %x2, %w1 bias %b1 : tensor<2x96xf32>, !f32w, tensor<40xf32> -> tensor<2x40xf32>
  return %g1, %y2, %y3, %y4, %y5
      : tensor<13x40xf32>, tensor<29x70xf32>, tensor<16x40xf32>,
        tensor<1x40xf32>, tensor<2x40xf32>
}

!up = !quilt.packed<64x96, precision<bf16>>
!down = !quilt.packed<96x64, precision<bf16>>

func.func @gated(%x: tensor<16x64xf32>, %wu: !up, %wg: !up, %wd: !down) -> tensor<16x64xf32> {
  %u = quilt.linear %x, %wu : tensor<16x64xf32>, !up -> tensor<16x96xf32>
  %g = quilt.linear %x, %wg : tensor<16x64xf32>, !up -> tensor<16x96xf32>
  %s = quilt.silu %g : tensor<16x96xf32>
  %p = quilt.mul %s, %u : tensor<16x96xf32>
  %y = quilt.linear %p, %wd : tensor<16x96xf32>, !down -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

func.func @bf16gelu(%x: tensor<13x64xf32>, %w: !up, %b: tensor<96xf32>) -> tensor<13x96xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x64xf32>, !up, tensor<96xf32> -> tensor<13x96xf32>
  %g = quilt.gelu %y : tensor<13x96xf32>
  return %g : tensor<13x96xf32>
}

!g32 = !quilt.packed<256x72, precision<i4, group<32>>>
!g64z = !quilt.packed<256x72, precision<i4, group<64>, zero_point>>
!ch = !quilt.packed<96x40, precision<i4, channel>>

func.func @int4(%x1: tensor<1x256xf32>, %w1: !g32, %b1: tensor<72xf32>,
                %x3: tensor<3x256xf32>, %w2: !g64z,
                %x13: tensor<13x256xf32>,
                %x2: tensor<2x96xf32>, %w3: !ch)
    -> (tensor<1x72xf32>, tensor<3x72xf32>, tensor<13x72xf32>,
        tensor<13x72xf32>, tensor<2x40xf32>) {
  %y1 = quilt.linear %x1, %w1 bias %b1 : tensor<1x256xf32>, !g32, tensor<72xf32> -> tensor<1x72xf32>
  %y2 = quilt.linear %x3, %w2 : tensor<3x256xf32>, !g64z -> tensor<3x72xf32>
  %y3 = quilt.linear %x13, %w1 : tensor<13x256xf32>, !g32 -> tensor<13x72xf32>
  %y4 = quilt.linear %x13, %w2 : tensor<13x256xf32>, !g64z -> tensor<13x72xf32>
  %y5 = quilt.linear %x2, %w3 : tensor<2x96xf32>, !ch -> tensor<2x40xf32>
  return %y1, %y2, %y3, %y4, %y5
      : tensor<1x72xf32>, tensor<3x72xf32>, tensor<13x72xf32>,
        tensor<13x72xf32>, tensor<2x40xf32>
}
