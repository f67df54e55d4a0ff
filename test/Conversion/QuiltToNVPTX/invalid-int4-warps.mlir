// RUN: quilt-opt %s "--convert-quilt-to-nvptx=warps=12x4" --verify-diagnostics

// An int4 CTA of 12 warps side by side x 4 along K would have 48 warps.
func.func @warps(%x: tensor<4x512xf16>, %w: !quilt.packed<512x256, precision<i4, group<128>>>) -> tensor<4x256xf16> {
  // expected-error @below {{int4 tiling of 2 tiles x 12x4 warps, 4 blocks ahead: a CTA has at most 32 warps (warpsN x splitK)}}
  %y = quilt.linear %x, %w : tensor<4x512xf16>, !quilt.packed<512x256, precision<i4, group<128>>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}
