// RUN: quilt-opt %s --convert-quilt-to-nvptx --split-input-file | FileCheck %s

// A linear with bias, gelu and a residual add becomes one kernel: the host
// function packs the weight (setup) and launches the fused GEMM (run).

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: func.func @fused(%[[X:.*]]: memref<128x256xbf16>, %[[W:.*]]: memref<256x512xf32>, %[[B:.*]]: memref<512xf32>, %[[R:.*]]: memref<128x512xbf16>, %[[Y:.*]]: memref<128x512xbf16>)
// CHECK-SAME: quilt.gpu_results = 1
// CHECK: %[[P:.*]] = gpu.alloc () : memref<262144xi8>
// CHECK: gpu.launch_func @quilt_kernels::@fused_pack_0 {{.*}} args(%[[W]] : memref<256x512xf32>, %[[P]] : memref<262144xi8>) {{.*}}quilt.phase = "setup"
// CHECK: gpu.launch_func @quilt_kernels::@fused_linear_0 blocks in (%c4, {{.*}}) threads in (%c128, {{.*}}) dynamic_shared_memory_size %c65536_i32 args(%[[X]] : {{.*}}, %[[P]] : {{.*}}, %[[B]] : {{.*}}, %[[R]] : {{.*}}, %[[Y]] : {{.*}}) {quilt.bytes = {{.*}}, quilt.flops = 33554432 : i64, quilt.kernel_config = "{{.*}}\22block\22:[128,128,32],\22ctas\22:{{[0-9]+}},\22family\22:\22dense\22{{.*}}", quilt.phase = "run", quilt.predicted_registers = {{[0-9]+}} : i64}
// CHECK-NOT: quilt.
// CHECK: gpu.module @quilt_kernels
// CHECK: gpu.func @fused_linear_0({{.*}}) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-COUNT-4: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 2
// CHECK: nvvm.barrier0
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK: ex2.approx.ftz.f32
func.func @fused(%x: tensor<128x256xbf16>, %w: !quilt.packed<256x512, precision<bf16>>, %b: tensor<512xf32>, %r: tensor<128x512xbf16>) -> tensor<128x512xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<128x256xbf16>, !quilt.packed<256x512, precision<bf16>>, tensor<512xf32> -> tensor<128x512xbf16>
  %g = quilt.gelu %y : tensor<128x512xbf16>
  %s = quilt.add %g, %r : tensor<128x512xbf16>
  return %s : tensor<128x512xbf16>
}

// -----

// Chained linears: the first result lives in a temporary; a residual that
// is produced after the linear cannot be fused (it does not exist yet when
// the kernel runs) and is reported.

// CHECK-LABEL: func.func @chain(
// CHECK: %[[T:.*]] = gpu.alloc () : memref<16x64xf16>
// CHECK: gpu.launch_func @quilt_kernels::@chain_linear_0 {{.*}} args({{.*}}, %[[T]] : memref<16x64xf16>)
// CHECK: gpu.launch_func @quilt_kernels::@chain_linear_1 {{.*}} args(%[[T]] : memref<16x64xf16>,
func.func @chain(%x: tensor<16x32xf16>, %w1: !quilt.packed<32x64, precision<f16>>, %w2: !quilt.packed<64x48, precision<f16>>) -> tensor<16x48xf16> {
  %h = quilt.linear %x, %w1 : tensor<16x32xf16>, !quilt.packed<32x64, precision<f16>> -> tensor<16x64xf16>
  %a = quilt.silu %h : tensor<16x64xf16>
  %y = quilt.linear %a, %w2 : tensor<16x64xf16>, !quilt.packed<64x48, precision<f16>> -> tensor<16x48xf16>
  return %y : tensor<16x48xf16>
}

// -----

// int4 weights with group scales: two setup kernels (scales into the packed
// weight and an f32 scratch, then the fragment-ordered nibbles) and the
// weight-streaming mma kernel: 2 tiles x 4 K-split warps per CTA, weights
// loaded volatile (kept in flight), x and scales through ld.global.nc,
// nibbles made f16 with an or and a sub or an fma by 1/16, each group's
// mma sums scaled once in f32; the warps add their sums in shared memory.

// CHECK-LABEL: func.func @int4(
// CHECK: %[[P:.*]] = gpu.alloc () : memref<67584xi8>
// CHECK: %[[S:.*]] = gpu.alloc () : memref<4096xi8>
// CHECK: gpu.launch_func @quilt_kernels::@int4_pack_0_scales {{.*}}args(%{{.*}}, %[[P]] : memref<67584xi8>, %[[S]] : memref<4096xi8>) {{.*}}quilt.phase = "setup"
// CHECK: gpu.launch_func @quilt_kernels::@int4_pack_0 {{.*}}quilt.phase = "setup"
// CHECK: gpu.launch_func @quilt_kernels::@int4_linear_0 blocks in (%c8{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c128{{[_0-9]*}},
// CHECK: gpu.func @int4_linear_0
// CHECK: llvm.load volatile {{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// CHECK: llvm.load {{.*}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// CHECK: llvm.intr.fma({{.*}}) : (vector<2xf16>, vector<2xf16>, vector<2xf16>) -> vector<2xf16>
// CHECK: nvvm.mma.sync
// CHECK-SAME: : (vector<2xf16>, vector<2xf16>, f32)
// CHECK: llvm.intr.fma({{.*}}) : (f32, f32, f32) -> f32
// CHECK: nvvm.barrier0
func.func @int4(%x: tensor<4x512xf16>, %w: !quilt.packed<512x256, precision<i4, group<128>>>) -> tensor<4x256xf16> {
  %y = quilt.linear %x, %w : tensor<4x512xf16>, !quilt.packed<512x256, precision<i4, group<128>>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}


// -----

// 2:4 sparse f16: one setup kernel prunes like the reference and writes
// the kept values and the metadata; the GEMM runs mma.sp on W^T x^T with
// cp.async stages and ldmatrix, 64 K deep.

// CHECK-LABEL: func.func @sparse(
// CHECK: gpu.alloc () : memref<110592xi8>
// CHECK: gpu.launch_func @quilt_kernels::@sparse_pack_0 {{.*}}quilt.phase = "setup"
// CHECK: gpu.launch_func @quilt_kernels::@sparse_linear_0 blocks in (%c3{{[_0-9]*}}, {{.*}}) threads in (%c128{{[_0-9]*}}, {{.*}}) dynamic_shared_memory_size %c69632_i32
// CHECK: gpu.func @sparse_pack_0
// CHECK: arith.cmpf oge
// CHECK: arith.cmpf ogt
// CHECK: gpu.func @sparse_linear_0
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: scf.for
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sp.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] sparseMetadata[{{.*}}] selector[{{.*}}]
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 32>
func.func @sparse(%x: tensor<64x256xf16>, %w: !quilt.packed<256x384, precision<f16>, sparsity<nm<2, 4>>>) -> tensor<64x384xf16> {
  %y = quilt.linear %x, %w : tensor<64x256xf16>, !quilt.packed<256x384, precision<f16>, sparsity<nm<2, 4>>> -> tensor<64x384xf16>
  return %y : tensor<64x384xf16>
}

// -----

// W8A8: an i8 weight with channel scales and `act <i8, channel>`. Setup
// computes the weight's per-column scales, then W^T as int8 words; every
// call quantizes x per row (one warp a row, its max |x| reduced by
// butterfly shuffles, round-half-even like the reference) into a scratch
// buffer before the GEMM, which is the dense kernel on int8 bytes (64-deep
// int8 slices, the 16-bit kernel's 32-deep bytes): mma.sync m16n8k32 s8
// into i32 sums that the epilogue turns to f32 times both scales before
// the bias and the fused relu.

// CHECK-LABEL: func.func @int8(
// CHECK-SAME: %[[X:[^:]*]]: memref<48x256xf32>, %[[W:[^:]*]]: memref<256x384xf32>
// CHECK: %[[P:.*]] = gpu.alloc () : memref<99840xi8>
// CHECK: gpu.launch_func @quilt_kernels::@int8_pack_0_scales {{.*}}args(%[[W]] : memref<256x384xf32>, %[[P]] : memref<99840xi8>) {{.*}}quilt.phase = "setup"
// CHECK: gpu.launch_func @quilt_kernels::@int8_pack_0 blocks in (%c96{{.*}}args(%[[W]] : memref<256x384xf32>, %[[P]] : memref<99840xi8>) {{.*}}quilt.phase = "setup"
// CHECK: %[[Q:.*]] = gpu.alloc () : memref<12480xi8>
// CHECK: gpu.launch_func @quilt_kernels::@int8_quantize_0 blocks in (%c6{{.*}}args(%[[X]] : memref<48x256xf32>, %[[Q]] : memref<12480xi8>) {{.*}}quilt.phase = "run"
// CHECK: gpu.launch_func @quilt_kernels::@int8_linear_0 {{.*}}dynamic_shared_memory_size %c49152_i32 args(%[[Q]] : memref<12480xi8>, %[[P]] : memref<99840xi8>, {{.*}}quilt.kernel_config = "{{.*}}\22block\22:[64,128,64],\22ctas\22:{{[0-9]+}},\22family\22:\22int8\22{{.*}}", quilt.phase = "run"
// CHECK: gpu.func @int8_pack_0_scales
// CHECK: arith.divf %{{.*}}, %cst{{.*}} : f32
// CHECK: gpu.func @int8_pack_0(
// CHECK-COUNT-4: llvm.inline_asm "cvt.rni.f32.f32 $0, $1;"
// CHECK: llvm.store {{.*}} : i32, !llvm.ptr<1>
// CHECK: gpu.func @int8_quantize_0
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK: gpu.shuffle xor %{{.*}}, %c16_i32
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32
// CHECK: gpu.func @int8_linear_0
// CHECK: nvvm.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>} : (i32, i32, i32) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.mulf
// CHECK: arith.maximumf
func.func @int8(%x: tensor<48x256xf32>, %w: !quilt.packed<256x384, precision<i8, channel>>, %b: tensor<384xf32>) -> tensor<48x384xf32> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<48x256xf32>, !quilt.packed<256x384, precision<i8, channel>>, tensor<384xf32> -> tensor<48x384xf32>
  %r = quilt.relu %y : tensor<48x384xf32>
  return %r : tensor<48x384xf32>
}
