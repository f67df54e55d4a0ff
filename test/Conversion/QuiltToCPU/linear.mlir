// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni,+avx512bf16 threads=2" \
// RUN:   | FileCheck %s
// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni,+avx512bf16 bf16-dot=1" \
// RUN:   | FileCheck %s --check-prefix=DOT
// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw" \
// RUN:   | FileCheck %s --check-prefix=NOVNNI

// A native f32 weight is one byte buffer of 32-column panels: 2 panels x 64
// rows x 32 floats. The linear calls a kernel named after its microkernel,
// layout and M; its column blocks run in a scf.parallel (2 threads), the
// register tile accumulates with FMAs of broadcast activations and stores
// with masks (N = 40 is not a multiple of 16).
// CHECK-LABEL: func.func @f32(
// CHECK-SAME:    %{{.*}}: tensor<13x64xf32>, %[[W:.*]]: tensor<16384xi8>)
// CHECK:         call @quilt_cpu_linear_fma_f32_64x40_m13(%{{.*}}, %[[W]])
// CHECK-LABEL: func.func private @quilt_cpu_linear_fma_f32_64x40_m13(
// CHECK:         bufferization.to_buffer %{{.*}} read_only
// CHECK:         memref.view %{{.*}} : memref<16384xi8> to memref<2x64x32xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK:           vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:           vector.fma
// CHECK:           vector.maskedstore
// CHECK:         bufferization.to_tensor %{{.*}} restrict writable
func.func @f32(%x: tensor<13x64xf32>, %w: !quilt.packed<64x40, precision<f32>>) -> tensor<13x40xf32> {
  %y = quilt.linear %x, %w : tensor<13x64xf32>, !quilt.packed<64x40, precision<f32>> -> tensor<13x40xf32>
  return %y : tensor<13x40xf32>
}

// -----

// bf16 x bf16: by default FMAs on bf16 widened in registers (the A copy
// rounds x to bf16); with bf16-dot, vdpbf16ps through x86vector.
// CHECK-LABEL: func.func private @quilt_cpu_linear_fma_bf16_64x40_m13_actbf16(
// CHECK-SAME:    tensor<8192xi8>
// CHECK:         arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:         memref.view %{{.*}} : memref<8192xi8> to memref<2x32x32xi32>
// CHECK:         arith.shli
// CHECK:         vector.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:         vector.fma
// DOT-LABEL:   func.func private @quilt_cpu_linear_bf16dot_bf16_64x40_m13(
// DOT:           x86vector.avx512.dot %{{.*}} : vector<32xbf16> -> vector<16xf32>
func.func @bf16(%x: tensor<13x64xf32>, %w: !quilt.packed<64x40, precision<bf16>>) -> tensor<13x40xf32> {
  %y = quilt.linear %x, %w act <bf16> : tensor<13x64xf32>, !quilt.packed<64x40, precision<bf16>> -> tensor<13x40xf32>
  return %y : tensor<13x40xf32>
}

// -----

// W8A8 with a dynamic M: activations quantized per row to u8 (round to
// nearest even, +128), products through the vpdpbusd stand-in (replaced by
// llvm.call_intrinsic after bufferization), and an epilogue that removes the
// shift with the column sums, scales and adds the bias. Weight bytes: 2
// panels x 16 quads x 32 columns, then 64 scales and 64 column sums.
// CHECK-LABEL: func.func @int8(
// CHECK-SAME:    tensor<4608xi8>
// CHECK:         call @quilt_cpu_linear_vnni_i8_64x40_mdyn_bias(
// CHECK-LABEL: func.func private @quilt_cpu_linear_vnni_i8_64x40_mdyn_bias(
// CHECK:         memref.dim
// CHECK:         math.roundeven %{{.*}} : vector<16xf32>
// CHECK:         memref.view %{{.*}}[%{{.*}}][] : memref<4608xi8> to memref<64xf32>
// CHECK:         memref.view %{{.*}}[%{{.*}}][] : memref<4608xi8> to memref<64xi32>
// CHECK:         func.call @quilt_x86_vpdpbusd_512(%{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK:         arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:         arith.select
// CHECK:       func.func private @quilt_x86_vpdpbusd_512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-SAME:    attributes {quilt.llvm_intrinsic = "llvm.x86.avx512.vpdpbusd.512"}
// Without VNNI the activations are rounded as the reference does and the
// int8 weights are widened in registers.
// NOVNNI-LABEL: func.func @int8(
// NOVNNI:         call @quilt_ref_fake_quant_int(
// NOVNNI:         call @quilt_cpu_linear_fma_i8_64x40_mdyn_bias(
func.func @int8(%x: tensor<?x64xf32>, %w: !quilt.packed<64x40, precision<i8, channel>>, %b: tensor<40xf32>) -> tensor<?x40xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<?x64xf32>, !quilt.packed<64x40, precision<i8, channel>>, tensor<40xf32> -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// Packing at run time, and formats without a native or compressed layout:
// an fp8 weight is projected by the reference kernels to the dense f32 it
// decodes to, then packed into f32 panels for the same FMA kernel.
// CHECK-LABEL: func.func @pack(
// CHECK-SAME:    %{{.*}}: tensor<64x40xf32>) -> tensor<4608xi8>
// CHECK:         call @quilt_cpu_pack_i8_64x40(
// CHECK-LABEL: func.func @fp8(
// CHECK:         call @quilt_ref_fake_quant_f8e4m3fn(
// CHECK:         call @quilt_cpu_pack_f32_64x40(
// CHECK:         call @quilt_cpu_linear_fma_f32_64x40_m2(
func.func @pack(%w: tensor<64x40xf32>) -> !quilt.packed<64x40, precision<i8, channel>> {
  %p = quilt.pack %w : tensor<64x40xf32> -> !quilt.packed<64x40, precision<i8, channel>>
  return %p : !quilt.packed<64x40, precision<i8, channel>>
}
func.func @fp8(%x: tensor<2x64xf32>, %w: tensor<64x40xf32>) -> tensor<2x40xf32> {
  %p = quilt.pack %w : tensor<64x40xf32> -> !quilt.packed<64x40, precision<f8E4M3FN, channel>>
  %y = quilt.linear %x, %p : tensor<2x64xf32>, !quilt.packed<64x40, precision<f8E4M3FN, channel>> -> tensor<2x40xf32>
  return %y : tensor<2x40xf32>
}

// -----

// A dense f32 tensor weight is read in place, without packing, where each
// panel is streamed once anyway (M <= 48) and N is a multiple of the 32-
// column panel: a strided view makes panel p, row k the row-major
// W[k, 32p : 32p + 32]. With more rows, or a ragged N, it is packed on every
// call.
// CHECK-LABEL: func.func @row_major(
// CHECK:         call @quilt_cpu_linear_fma_f32_64x64_rowmajor_m16(
// CHECK-LABEL: func.func @many_rows(
// CHECK:         call @quilt_cpu_pack_f32_64x64(
// CHECK:         call @quilt_cpu_linear_fma_f32_64x64_m64(
// CHECK-LABEL: func.func @ragged(
// CHECK:         call @quilt_cpu_pack_f32_64x40(
// CHECK:         call @quilt_cpu_linear_fma_f32_64x40_m16(
// CHECK-LABEL: func.func private @quilt_cpu_linear_fma_f32_64x64_rowmajor_m16(
// CHECK-SAME:    %{{.*}}: tensor<16x64xf32>, %{{.*}}: tensor<64x64xf32>)
// CHECK:         memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [2, 64, 32], strides: [32, 64, 1] : memref<64x64xf32> to memref<2x64x32xf32, strided<[32, 64, 1]>>
// CHECK:         vector.load %{{.*}} : memref<2x64x32xf32, strided<[32, 64, 1]>>, vector<16xf32>
func.func @row_major(%x: tensor<16x64xf32>, %w: tensor<64x64xf32>) -> tensor<16x64xf32> {
  %y = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x64xf32> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
func.func @many_rows(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %y = quilt.linear %x, %w : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %y : tensor<64x64xf32>
}
func.func @ragged(%x: tensor<16x64xf32>, %w: tensor<64x40xf32>) -> tensor<16x40xf32> {
  %y = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x40xf32> -> tensor<16x40xf32>
  return %y : tensor<16x40xf32>
}

// -----

// quilt.matmul: per batch, the right operand (transposed for transpose_b,
// by a kernel of its own) is packed into f32 panels at run time and
// multiplied by the linear kernel. On 2 threads the 3 products run in
// parallel (scf.forall), each on one thread (the `_serial` kernel, with no
// parallel loop of its own); on one thread, in an scf.for.
// CHECK-LABEL: func.func @scores(
// CHECK:         scf.forall (%[[I:.*]]) in (3) shared_outs(
// CHECK:           tensor.extract_slice %{{.*}} : tensor<3x20x16xf32> to tensor<20x16xf32>
// CHECK:           call @quilt_cpu_transpose_f32_20x16(%{{.*}}) : (tensor<20x16xf32>) -> tensor<16x20xf32>
// CHECK:           call @quilt_cpu_pack_f32_16x20(
// CHECK:           call @quilt_cpu_linear_fma_f32_16x20_m20_serial(
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[I]], 0, 0] [1, 20, 20] [1, 1, 1] : tensor<20x20xf32> into tensor<3x20x20xf32>
// CHECK-LABEL: func.func private @quilt_cpu_linear_fma_f32_16x20_m20_serial(
// CHECK-NOT:     scf.parallel
// CHECK:         return
// NOVNNI-LABEL: func.func @scores(
// NOVNNI:         scf.for
// NOVNNI:           call @quilt_cpu_transpose_f32_20x16(
// NOVNNI:           call @quilt_cpu_linear_fma_f32_16x20_m20(
// NOVNNI:           tensor.insert_slice %{{.*}} : tensor<20x20xf32> into tensor<3x20x20xf32>
func.func @scores(%q: tensor<3x20x16xf32>, %k: tensor<3x20x16xf32>) -> tensor<3x20x20xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<3x20x16xf32>, tensor<3x20x16xf32> -> tensor<3x20x20xf32>
  return %s : tensor<3x20x20xf32>
}
