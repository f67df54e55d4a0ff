func.func @int8(%x: tensor<16x64xf32>, %w: !quilt.packed<64x32, precision<i8, channel>>) -> tensor<16x32xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}
