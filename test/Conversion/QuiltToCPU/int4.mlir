// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni threads=2" \
// RUN:   | FileCheck %s
// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx2" \
// RUN:   | FileCheck %s --check-prefix=AVX2

// An int4 weight is one byte buffer (tensor<?xi8>): the codes of 3 units of
// 16 columns x 8 octets of K, one 32-bit word per column and octet (512
// bytes per unit), then the f32 scales of 2 groups x 48 columns. The M = 1
// linear reads the codes directly: tiles of 8 units (single units here, N =
// 40) in a scf.parallel over column blocks; each code row is a vpermps of a
// table of the 16 code values indexed by a word loaded at a byte offset
// (shifted by 4 for high nibbles), multiplied with FMAs into group sums
// that are scaled once per group. Without AVX-512 (no vpermps on 16 lanes)
// each code is masked out of its word and converted, unsigned; the sums
// start at -8 x the row's sums over the group instead.
// CHECK-LABEL: func.func @m1(
// CHECK-SAME:    %{{.*}}: tensor<1x64xf32>, %[[W:.*]]: tensor<?xi8>)
// CHECK:         call @quilt_cpu_linear_int4_i4g32_64x40_m1(%{{.*}}, %[[W]])
// CHECK-LABEL: func.func private @quilt_cpu_linear_int4_i4g32_64x40_m1(
// CHECK-DAG:     arith.constant dense<[-8.000000e+00, -7.000000e+00, {{.*}}, 7.000000e+00]> : vector<16xf32>
// CHECK-DAG:     memref.view %{{.*}} : memref<?xi8> to memref<3x8x16xi32>
// CHECK-DAG:     memref.view %{{.*}} : memref<?xi8> to memref<2x48xf32>
// CHECK:         scf.parallel
// CHECK:           vector.load %{{.*}} : memref<?xi8>, vector<64xi8>
// CHECK:           func.call @quilt_x86_vpermps_512(
// CHECK:           vector.fma
// CHECK:           arith.shrui %{{.*}} : vector<16xi32>
// CHECK:           func.call @quilt_x86_vpermps_512(
// CHECK:           vector.maskedstore
// CHECK:       func.func private @quilt_x86_vpermps_512(vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK-SAME:    quilt.llvm_intrinsic = "llvm.x86.avx512.permvar.sf.512"
// AVX2-LABEL:  func.func private @quilt_cpu_linear_int4_i4g32_64x40_m1(
// AVX2-NOT:      quilt_x86_vpermps_512
// AVX2-DAG:      arith.constant dense<15> : vector<16xi32>
// AVX2-DAG:      arith.constant -8.000000e+00 : f32
// AVX2-NOT:      arith.constant dense<-8.000000e+00> : vector<16xf32>
// AVX2:          scf.parallel
// AVX2:            vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// AVX2:            arith.mulf
// AVX2:          memref.view %{{.*}} : memref<?xi8> to memref<3x8x16xi32>
// AVX2:          scf.parallel
// AVX2:            vector.broadcast %{{.*}} : f32 to vector<16xf32>
// AVX2:            arith.andi %{{.*}} : vector<16xi32>
// AVX2:            arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// AVX2:            vector.fma
func.func @m1(%x: tensor<1x64xf32>, %w: !quilt.packed<64x40, precision<i4, group<32>>>) -> tensor<1x40xf32> {
  %y = quilt.linear %x, %w : tensor<1x64xf32>, !quilt.packed<64x40, precision<i4, group<32>>> -> tensor<1x40xf32>
  return %y : tensor<1x40xf32>
}

// -----

// W4A8: the kernel quantizes x to s8 per row (no +128 shift), sums each
// row's codes per group, and multiplies the unsigned nibbles (an AND, and
// a shift and an AND) with vpdpbusd; the zero points (u8 per group and
// column) follow the scales. Without VNNI, x is rounded to int8 by the
// caller and the f32-activation kernel runs.
// CHECK-LABEL: func.func private @quilt_cpu_linear_int4_i4g32z_64x40_m16_acti8c(
// CHECK-NOT:     dense<128> : vector<16xi32>
// CHECK:         math.roundeven %{{.*}} : vector<16xf32>
// CHECK:         vector.reduction <add>, %{{.*}} : vector<8xi32> into i32
// CHECK-DAG:     memref.view %{{.*}} : memref<?xi8> to memref<2x48xf32>
// CHECK-DAG:     memref.view %{{.*}} : memref<?xi8> to memref<2x48xi8>
// CHECK:         scf.parallel
// CHECK:           arith.shrui %{{.*}} : vector<16xi32>
// CHECK:           arith.andi %{{.*}} : vector<16xi32>
// CHECK:           func.call @quilt_x86_vpdpbusd_512(
// CHECK:           arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:           vector.fma
// AVX2-LABEL:  func.func @a8(
// AVX2:          call @quilt_ref_fake_quant_int(
// AVX2:          call @quilt_cpu_linear_int4_i4g32z_64x40_m16(
func.func @a8(%x: tensor<16x64xf32>, %w: !quilt.packed<64x40, precision<i4, group<32>, zero_point>>) -> tensor<16x40xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x64xf32>, !quilt.packed<64x40, precision<i4, group<32>, zero_point>> -> tensor<16x40xf32>
  return %y : tensor<16x40xf32>
}

// -----

// f32 activations and many rows: each thread dequantizes a K block of W
// (256 rows x 64 units, q * scale) into a 1 MiB buffer once and runs FMA
// tiles of 12 rows x 2 units on it, reading a padded copy of x.
// CHECK-LABEL: func.func private @quilt_cpu_linear_int4_i4c_64x40_m64(
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?x80xf32>
// CHECK:         scf.parallel
// CHECK:           memref.alloc() {alignment = 64 : i64} : memref<64x256x16xf32>
// CHECK:           func.call @quilt_x86_vpermps_512(
// CHECK:           arith.mulf %{{.*}} : vector<16xf32>
// CHECK:           vector.store %{{.*}} : memref<64x256x16xf32>, vector<16xf32>
// CHECK:           vector.load %{{.*}} : memref<64x256x16xf32>, vector<16xf32>
// CHECK:           vector.fma
func.func @many_rows(%x: tensor<64x64xf32>, %w: !quilt.packed<64x40, precision<i4, channel>>) -> tensor<64x40xf32> {
  %y = quilt.linear %x, %w : tensor<64x64xf32>, !quilt.packed<64x40, precision<i4, channel>> -> tensor<64x40xf32>
  return %y : tensor<64x40xf32>
}

// -----

// Packing quantizes exactly as the reference (scale = absmax / 7,
// round-half-even, clamp to [-8, 7]) and stores q + 8 two per byte; a group
// that is not whole code words (4 rows) keeps the reference lowering.
// CHECK-LABEL: func.func @pack(
// CHECK:         call @quilt_cpu_pack_int4_i4g32_64x40(%{{.*}}) : (tensor<64x40xf32>) -> tensor<?xi8>
// CHECK-LABEL: func.func @group4(
// CHECK-SAME:    tensor<64x40xf32>
// CHECK:         call @quilt_cpu_linear_fma_f32_64x40_m2(
// CHECK-LABEL: func.func private @quilt_cpu_pack_int4_i4g32_64x40(
// CHECK:         memref.view %{{.*}} : memref<1920xi8> to memref<3x8x16x4xi8>
// CHECK:         arith.divf %{{.*}} : f32
// CHECK:         math.roundeven
// CHECK:         arith.shli
// CHECK:         memref.store %{{.*}} : memref<3x8x16x4xi8>
func.func @pack(%w: tensor<64x40xf32>) -> !quilt.packed<64x40, precision<i4, group<32>>> {
  %p = quilt.pack %w : tensor<64x40xf32> -> !quilt.packed<64x40, precision<i4, group<32>>>
  return %p : !quilt.packed<64x40, precision<i4, group<32>>>
}
func.func @group4(%x: tensor<2x64xf32>, %w: !quilt.packed<64x40, precision<i4, group<4>>>) -> tensor<2x40xf32> {
  %y = quilt.linear %x, %w : tensor<2x64xf32>, !quilt.packed<64x40, precision<i4, group<4>>> -> tensor<2x40xf32>
  return %y : tensor<2x40xf32>
}
