// RUN: quilt-opt %s --convert-quilt-to-nvptx --split-input-file --verify-diagnostics

// What the NVPTX backend cannot compile yet is reported where it is, never
// crashed on.

func.func @mixed(%x: tensor<16x32xf16>, %w: !quilt.packed<32x64, precision<bf16>>) -> tensor<16x64xf16> {
  // expected-error @below {{x is 'f16' but the weight computes in 'bf16'; tensor cores need both the same}}
  %y = quilt.linear %x, %w : tensor<16x32xf16>, !quilt.packed<32x64, precision<bf16>> -> tensor<16x64xf16>
  return %y : tensor<16x64xf16>
}

// -----

func.func @int4_zero_point(%x: tensor<4x512xf16>, %w: !quilt.packed<512x256, precision<i4, group<128>, zero_point>>) -> tensor<4x256xf16> {
  // expected-error @below {{has no GPU kernel yet (supported: dense bf16 and f16, 2:4 sparse bf16 and f16, symmetric i4 with group scales of a multiple of 16, and symmetric i8 with channel scales)}}
  %y = quilt.linear %x, %w : tensor<4x512xf16>, !quilt.packed<512x256, precision<i4, group<128>, zero_point>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}

// -----

func.func @ragged_k(%x: tensor<16x36xbf16>, %w: !quilt.packed<36x64, precision<bf16>>) -> tensor<16x64xbf16> {
  // expected-error @below {{K = 36 is not a multiple of 8 (16-byte rows)}}
  %y = quilt.linear %x, %w : tensor<16x36xbf16>, !quilt.packed<36x64, precision<bf16>> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}

// -----

func.func @dense_weight(%x: tensor<16x32xbf16>, %w: tensor<32x64xf32>) -> tensor<16x64xbf16> {
  // expected-error @below {{the weight must be a !quilt.packed argument}}
  %y = quilt.linear %x, %w : tensor<16x32xbf16>, tensor<32x64xf32> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}

// -----

func.func @softmax(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @below {{'quilt.softmax' has no GPU kernel yet}}
  %y = quilt.softmax %x {axis = 1 : i64} : tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

func.func @dynamic(%x: tensor<?x32xbf16>, %w: !quilt.packed<32x64, precision<bf16>>) -> tensor<?x64xbf16> {
  // expected-error @below {{x must be a static 2-d tensor}}
  %y = quilt.linear %x, %w : tensor<?x32xbf16>, !quilt.packed<32x64, precision<bf16>> -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

func.func @act(%x: tensor<16x32xbf16>, %w: !quilt.packed<32x64, precision<bf16>>) -> tensor<16x64xbf16> {
  // expected-error @below {{`act` rounding is only supported as `act <i8, channel>` with an i8 weight}}
  %y = quilt.linear %x, %w act <bf16> : tensor<16x32xbf16>, !quilt.packed<32x64, precision<bf16>> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}

// -----

func.func @int4_ragged_k(%x: tensor<4x96xf16>, %w: !quilt.packed<96x64, precision<i4, group<32>>>) -> tensor<4x64xf16> {
  // expected-error @below {{K = 96 is not a multiple of 64 (64-deep int4 blocks)}}
  %y = quilt.linear %x, %w : tensor<4x96xf16>, !quilt.packed<96x64, precision<i4, group<32>>> -> tensor<4x64xf16>
  return %y : tensor<4x64xf16>
}

// -----

func.func @returns_argument(%x: tensor<16x32xbf16>, %w: !quilt.packed<32x64, precision<bf16>>) -> (tensor<16x64xbf16>, tensor<16x32xbf16>) {
  %y = quilt.linear %x, %w : tensor<16x32xbf16>, !quilt.packed<32x64, precision<bf16>> -> tensor<16x64xbf16>
  // expected-error @below {{a result is an argument or returned twice}}
  return %y, %x : tensor<16x64xbf16>, tensor<16x32xbf16>
}

// -----

func.func @sparse_1of4(%x: tensor<16x64xf16>, %w: !quilt.packed<64x64, precision<f16>, sparsity<nm<1, 4>>>) -> tensor<16x64xf16> {
  // expected-error @below {{has no GPU kernel yet}}
  %y = quilt.linear %x, %w : tensor<16x64xf16>, !quilt.packed<64x64, precision<f16>, sparsity<nm<1, 4>>> -> tensor<16x64xf16>
  return %y : tensor<16x64xf16>
}

// -----

func.func @sparse_ragged_k(%x: tensor<16x96xf16>, %w: !quilt.packed<96x64, precision<f16>, sparsity<nm<2, 4>>>) -> tensor<16x64xf16> {
  // expected-error @below {{K = 96 is not a multiple of 64 (64-deep 2:4 tiles)}}
  %y = quilt.linear %x, %w : tensor<16x96xf16>, !quilt.packed<96x64, precision<f16>, sparsity<nm<2, 4>>> -> tensor<16x64xf16>
  return %y : tensor<16x64xf16>
}

// -----

func.func @sparse_ragged_n(%x: tensor<16x64xbf16>, %w: !quilt.packed<64x40, precision<bf16>, sparsity<nm<2, 4>>>) -> tensor<16x40xbf16> {
  // expected-error @below {{N = 40 is not a multiple of 16 (2:4 metadata tiles)}}
  %y = quilt.linear %x, %w : tensor<16x64xbf16>, !quilt.packed<64x40, precision<bf16>, sparsity<nm<2, 4>>> -> tensor<16x40xbf16>
  return %y : tensor<16x40xbf16>
}

// -----

func.func @sparse_mixed(%x: tensor<16x64xbf16>, %w: !quilt.packed<64x64, precision<f16>, sparsity<nm<2, 4>>>) -> tensor<16x64xbf16> {
  // expected-error @below {{x is 'bf16' but the weight computes in 'f16'}}
  %y = quilt.linear %x, %w : tensor<16x64xbf16>, !quilt.packed<64x64, precision<f16>, sparsity<nm<2, 4>>> -> tensor<16x64xbf16>
  return %y : tensor<16x64xbf16>
}

// -----

func.func @int8_weight_only(%x: tensor<16x64xf16>, %w: !quilt.packed<64x32, precision<i8, channel>>) -> tensor<16x32xf16> {
  // expected-error @below {{an i8 weight needs `act <i8, channel>`}}
  %y = quilt.linear %x, %w : tensor<16x64xf16>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<16x32xf16>
  return %y : tensor<16x32xf16>
}

// -----

func.func @int8_act_per_tensor(%x: tensor<16x64xf16>, %w: !quilt.packed<64x32, precision<i8, channel>>) -> tensor<16x32xf16> {
  // expected-error @below {{an i8 weight needs `act <i8, channel>`}}
  %y = quilt.linear %x, %w act <i8, tensor> : tensor<16x64xf16>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<16x32xf16>
  return %y : tensor<16x32xf16>
}

// -----

func.func @int8_group(%x: tensor<16x256xf16>, %w: !quilt.packed<256x32, precision<i8, group<128>>>) -> tensor<16x32xf16> {
  // expected-error @below {{has no GPU kernel yet}}
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x256xf16>, !quilt.packed<256x32, precision<i8, group<128>>> -> tensor<16x32xf16>
  return %y : tensor<16x32xf16>
}

// -----

func.func @int8_ragged_k(%x: tensor<16x40xf32>, %w: !quilt.packed<40x32, precision<i8, channel>>) -> tensor<16x32xf32> {
  // expected-error @below {{K = 40 is not a multiple of 16 (16-byte rows)}}
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x40xf32>, !quilt.packed<40x32, precision<i8, channel>> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}
