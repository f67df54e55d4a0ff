// One linear per weight format of the NVPTX backend, small enough for the
// simulator: 2:4 f16 (mma.sp), int4 with group-128 scales at M = 1 and 16
// and with group-32 scales (loaded every K block) at M = 8 and a ragged N,
// int4 with K = 1408 (11 groups of 128, which no split into 2 or more
// warps divides), int4 at M = 24 (two 16-row blocks of CTAs, the second
// ragged), and W8A8 (int8 weights and activations).
!sparse = !quilt.packed<256x256, precision<f16>, sparsity<nm<2, 4>>>
!int4 = !quilt.packed<512x256, precision<i4, group<128>>>
!int4g32 = !quilt.packed<256x200, precision<i4, group<32>>>
!int4k11 = !quilt.packed<1408x128, precision<i4, group<128>>>
!int4m24 = !quilt.packed<256x96, precision<i4, group<64>>>
!int8 = !quilt.packed<256x256, precision<i8, channel>>

func.func @sparse(%x: tensor<128x256xf16>, %w: !sparse) -> tensor<128x256xf16> {
  %y = quilt.linear %x, %w : tensor<128x256xf16>, !sparse -> tensor<128x256xf16>
  return %y : tensor<128x256xf16>
}

func.func @int4_m1(%x: tensor<1x512xf16>, %w: !int4) -> tensor<1x256xf16> {
  %y = quilt.linear %x, %w : tensor<1x512xf16>, !int4 -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}

func.func @int4_m16(%x: tensor<16x512xf16>, %w: !int4) -> tensor<16x256xf16> {
  %y = quilt.linear %x, %w : tensor<16x512xf16>, !int4 -> tensor<16x256xf16>
  return %y : tensor<16x256xf16>
}

func.func @int4_g32(%x: tensor<8x256xf16>, %w: !int4g32) -> tensor<8x200xf16> {
  %y = quilt.linear %x, %w : tensor<8x256xf16>, !int4g32 -> tensor<8x200xf16>
  return %y : tensor<8x200xf16>
}

func.func @int4_k11(%x: tensor<3x1408xf16>, %w: !int4k11) -> tensor<3x128xf16> {
  %y = quilt.linear %x, %w : tensor<3x1408xf16>, !int4k11 -> tensor<3x128xf16>
  return %y : tensor<3x128xf16>
}

func.func @int4_m24(%x: tensor<24x256xf16>, %w: !int4m24) -> tensor<24x96xf16> {
  %y = quilt.linear %x, %w : tensor<24x256xf16>, !int4m24 -> tensor<24x96xf16>
  return %y : tensor<24x96xf16>
}

func.func @w8a8(%x: tensor<64x256xf16>, %w: !int8) -> tensor<64x256xf16> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<64x256xf16>, !int8 -> tensor<64x256xf16>
  return %y : tensor<64x256xf16>
}
