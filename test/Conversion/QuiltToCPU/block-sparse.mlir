// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni,+avx512bf16 threads=2" \
// RUN:   | FileCheck %s

// A block-sparse weight is a byte buffer whose size depends on the data
// (tensor<?xi8>). The linear copies x into [block row][row][16] order
// (8 block rows x 30 rows x 16 floats, row by row in a scf.parallel), splits
// the block columns between 2 threads by their kept blocks, and for each
// register tile (two of 15 rows) loops over a block column's kept blocks:
// prefetch of a later block's rows of x, broadcast FMAs into 15
// accumulators, then bias and one store per row.
// CHECK-LABEL: func.func @f32(
// CHECK-SAME:    %{{.*}}: tensor<30x128xf32>, %[[W:.*]]: tensor<?xi8>, %{{.*}}: tensor<96xf32>)
// CHECK:         call @quilt_cpu_linear_blocksparse_f32_blk16x16d0p25_128x96_m30_bias(%{{.*}}, %[[W]], %{{.*}})
// CHECK-LABEL: func.func private @quilt_cpu_linear_blocksparse_f32_blk16x16d0p25_128x96_m30_bias(
// CHECK:         %[[A:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c30{{.*}})
// CHECK:           vector.store %{{.*}}, %[[A]]
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?xi32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c30{{.*}} step %c15
// CHECK:             scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:               memref.prefetch %[[A]]
// CHECK:               vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:               vector.fma
// CHECK:             arith.addf
// CHECK:             vector.store
func.func @f32(%x: tensor<30x128xf32>, %w: !quilt.packed<128x96, sparsity<block<16x16>, density = 0.25>>, %b: tensor<96xf32>) -> tensor<30x96xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<30x128xf32>, !quilt.packed<128x96, sparsity<block<16x16>, density = 0.25>>, tensor<96xf32> -> tensor<30x96xf32>
  return %y : tensor<30x96xf32>
}

// -----

// Packing prunes with the reference kernel, counts the kept blocks of each
// block column (8 x 3 flags), allocates the buffer for that count and stores
// the blocks' values rounded to bf16; decoding widens them back.
// CHECK-LABEL: func.func @pack(
// CHECK:         %[[P:.*]] = call @quilt_cpu_pack_blocksparse_bf16_blk5x16d0p30_40x48(%{{.*}}) : (tensor<40x48xf32>) -> tensor<?xi8>
// CHECK:         call @quilt_cpu_unpack_blocksparse_bf16_blk5x16d0p30_40x48(%[[P]]) : (tensor<?xi8>) -> tensor<40x48xf32>
// CHECK-LABEL: func.func private @quilt_cpu_pack_blocksparse_bf16_blk5x16d0p30_40x48(
// CHECK:         call @quilt_ref_prune_blocks(
// CHECK:         memref.alloc() : memref<8x3xi8>
// CHECK:         memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// CHECK-LABEL: func.func private @quilt_cpu_unpack_blocksparse_bf16_blk5x16d0p30_40x48(
// CHECK:         arith.extf %{{.*}} : bf16 to f32
func.func @pack(%w: tensor<40x48xf32>) -> tensor<40x48xf32> {
  %p = quilt.pack %w : tensor<40x48xf32> -> !quilt.packed<40x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>>
  %d = quilt.unpack %p : !quilt.packed<40x48, precision<bf16>, sparsity<block<5x16>, density = 0.3>> -> tensor<40x48xf32>
  return %d : tensor<40x48xf32>
}

// -----

// int8 blocks: words of four rows widened in registers (two shifts and a
// conversion), and the column scale applied in the epilogue.
// CHECK-LABEL: func.func private @quilt_cpu_linear_blocksparse_i8c_blk16x32d0p50_64x64_m4(
// CHECK:         arith.shrsi %{{.*}} : vector<16xi32>
// CHECK:         arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:         vector.fma
// CHECK:         arith.mulf %{{.*}} : vector<16xf32>
func.func @i8(%x: tensor<4x64xf32>, %w: !quilt.packed<64x64, precision<i8, channel>, sparsity<block<16x32>, density = 0.5>>) -> tensor<4x64xf32> {
  %y = quilt.linear %x, %w : tensor<4x64xf32>, !quilt.packed<64x64, precision<i8, channel>, sparsity<block<16x32>, density = 0.5>> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// W8A8: x quantized per row to u8 words (no [block row][row] copy), the
// block's quads multiplied on the vpdpbusd stand-in, and an epilogue that
// removes the +128 shift with the column sums and applies both scales.
// CHECK-LABEL: func.func private @quilt_cpu_linear_blocksparse_i8c_blk16x16d0p25_128x64_m8_acti8c(
// CHECK:         math.roundeven %{{.*}} : vector<16xf32>
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?xi32>
// CHECK:         scf.for {{.*}} iter_args(
// CHECK:           memref.prefetch
// CHECK:           func.call @quilt_x86_vpdpbusd_512(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK:         arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:         arith.subf
// CHECK:         arith.mulf
func.func @w8a8(%x: tensor<8x128xf32>, %w: !quilt.packed<128x64, precision<i8, channel>, sparsity<block<16x16>, density = 0.25>>) -> tensor<8x64xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<8x128xf32>, !quilt.packed<128x64, precision<i8, channel>, sparsity<block<16x16>, density = 0.25>> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Blocks narrower than a 16-lane vector keep the reference lowering: the
// weight is its dense decoded matrix (read in place: few rows, N = 64).
// CHECK-LABEL: func.func @narrow(
// CHECK-SAME:    tensor<64x64xf32>)
// CHECK:         call @quilt_cpu_linear_fma_f32_64x64_rowmajor_m4(
// CHECK-NOT:     blocksparse
func.func @narrow(%x: tensor<4x64xf32>, %w: !quilt.packed<64x64, sparsity<block<4x8>, density = 0.5>>) -> tensor<4x64xf32> {
  %y = quilt.linear %x, %w : tensor<4x64xf32>, !quilt.packed<64x64, sparsity<block<4x8>, density = 0.5>> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
