// RUN: rm -rf %t && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_90a output-dir=%t" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/kernels.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/lin.json
// RUN: rm -rf %t80 && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_80 tiles=64x64x64 warps=2x2 stages=3 output-dir=%t80" -o /dev/null
// RUN: FileCheck %s --check-prefix=SM80 < %t80/kernels.ptx
// RUN: FileCheck %s --check-prefix=SM80-MANIFEST < %t80/lin.json
// Each chip gets the first PTX ISA that has it (at least 7.1, for mma.sp).
// RUN: rm -rf %t89 && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_89 output-dir=%t89" -o /dev/null
// RUN: FileCheck %s --check-prefix=SM89 < %t89/kernels.ptx

// quilt IR to PTX through LLVM's NVPTX backend: the GEMM stages operands
// with cp.async, reads fragments with ldmatrix, multiplies with bf16
// mma.sync, and keeps everything in registers (no local memory).

// PTX: .version 8.0
// PTX: .target sm_90a
// PTX: .visible .entry lin_pack_0(
// PTX: .visible .entry lin_linear_0(
// PTX: .maxntid 128, 1, 1
// PTX-NOT: .local
// PTX-DAG: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// PTX-DAG: cp.async.commit_group;
// PTX-DAG: cp.async.wait_group 2;
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ex2.approx.ftz.f32

// 2:4 sparse f16 runs mma.sp.
// PTX: .visible .entry sparse_pack_0(
// PTX: .visible .entry sparse_linear_0(
// PTX-NOT: .local
// PTX: mma.sp.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32

// MANIFEST: "buffers": [
// MANIFEST: "dtype": "bf16",
// MANIFEST-NEXT: "index": 0,
// MANIFEST-NEXT: "kind": "input",
// MANIFEST-NEXT: "name": "arg0",
// MANIFEST: "kind": "output",
// MANIFEST-NEXT: "name": "res0",
// MANIFEST: "bytes": 1048576,
// MANIFEST-NEXT: "kind": "temp",
// MANIFEST-NEXT: "name": "tmp0"
// MANIFEST: "chip": "sm_90a",
// MANIFEST: "kernel": "lin_pack_0",
// MANIFEST-NEXT: "phase": "setup",
// MANIFEST: "args": [
// MANIFEST-NEXT: "arg0",
// MANIFEST-NEXT: "tmp0",
// MANIFEST-NEXT: "arg2",
// MANIFEST-NEXT: "res0"
// MANIFEST: "config": {
// MANIFEST: "family": "dense",
// MANIFEST: "flops": 268435456,
// MANIFEST: "grid": [
// MANIFEST-NEXT: 16,
// MANIFEST: "kernel": "lin_linear_0",
// MANIFEST-NEXT: "phase": "run",
// MANIFEST-NEXT: "predicted_registers": {{[0-9]+}},
// MANIFEST-NEXT: "shared_bytes": 65536

// SM80: .version 7.1
// SM80: .target sm_80
// SM80: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM80: mma.sp.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32
// SM89: .version 7.8
// SM89: .target sm_89
// SM89: mma.sp.sync.aligned.m16n8k32
// SM80-MANIFEST: "flops": 268435456,
// SM80-MANIFEST-NEXT: "grid": [
// SM80-MANIFEST-NEXT: 64,
// SM80-MANIFEST: "shared_bytes": 49152

func.func @lin(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x1024, precision<bf16>>, %b: tensor<1024xf32>) -> tensor<256x1024xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<256x512xbf16>, !quilt.packed<512x1024, precision<bf16>>, tensor<1024xf32> -> tensor<256x1024xbf16>
  %z = quilt.silu %y : tensor<256x1024xbf16>
  return %z : tensor<256x1024xbf16>
}

func.func @sparse(%x: tensor<64x256xf16>, %w: !quilt.packed<256x384, precision<f16>, sparsity<nm<2, 4>>>) -> tensor<64x384xf16> {
  %y = quilt.linear %x, %w : tensor<64x256xf16>, !quilt.packed<256x384, precision<f16>, sparsity<nm<2, 4>>> -> tensor<64x384xf16>
  return %y : tensor<64x384xf16>
}
