// REQUIRES: ptxas
// Every kernel family the NVPTX pipeline emits, with the tiling `auto`
// picks and its heaviest epilogue, is valid PTX for ptxas and keeps its
// working set in registers: no stack frame, no spills. (ptxas reports its
// entries in no promised order: the sed joins each report into one line.)
// RUN: rm -rf %t90 && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_90a output-dir=%t90" -o /dev/null
// RUN: %ptxas -v -arch=sm_90a %t90/kernels.ptx -o %t90/kernels.cubin 2>&1 | sed -n '/Function properties for/{N;s/\n */ /;p}' > %t90/report
// RUN: FileCheck %s --check-prefixes=CHECK,SPARSE < %t90/report
// RUN: not grep -E "[1-9][0-9]* bytes (stack frame|spill)" %t90/report
// RUN: rm -rf %t80 && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_80 output-dir=%t80" -o /dev/null
// RUN: %ptxas -v -arch=sm_80 %t80/kernels.ptx -o %t80/kernels.cubin 2>&1 | sed -n '/Function properties for/{N;s/\n */ /;p}' > %t80/report
// RUN: FileCheck %s --check-prefixes=CHECK,SPARSE < %t80/report
// RUN: not grep -E "[1-9][0-9]* bytes (stack frame|spill)" %t80/report
// mma=wgmma puts the dense 16-bit kernels on sm_90a's warpgroup MMA; they
// keep their working set in registers too.
// RUN: rm -rf %twg && quilt-opt %s --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma output-dir=%twg" -o /dev/null
// RUN: FileCheck %s --check-prefix=WGMMA < %twg/kernels.ptx
// RUN: %ptxas -v -arch=sm_90a %twg/kernels.ptx -o %twg/kernels.cubin 2>&1 | sed -n '/Function properties for/{N;s/\n */ /;p}' > %twg/report
// RUN: FileCheck %s --check-prefixes=CHECK,SPARSE < %twg/report
// RUN: not grep -E "[1-9][0-9]* bytes (stack frame|spill)" %twg/report
// wgmma-in-flight=1 keeps a batch running across the loop's back edge: the
// accumulators must stay in place, or ptxas serializes the wgmma.
// RUN: rm -rf %tf1 && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma wgmma-in-flight=1 output-dir=%tf1" -o /dev/null
// RUN: %ptxas -v -arch=sm_90a %tf1/kernels.ptx -o %tf1/kernels.cubin > %tf1/report 2>&1
// RUN: FileCheck %s --check-prefix=IN-FLIGHT < %tf1/report
// The TMA stages (PTX 8.3 for the tensormap fence): no spill, and the
// manifest lists the two tensor maps quilt-cuda-run encodes.
// RUN: rm -rf %ttma && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma tma=1 output-dir=%ttma" -o /dev/null
// RUN: FileCheck %s --check-prefix=TMA-PTX < %ttma/kernels.ptx
// RUN: %ptxas -v -arch=sm_90a %ttma/kernels.ptx -o %ttma/kernels.cubin > %ttma/report 2>&1
// RUN: FileCheck %s --check-prefix=TMA < %ttma/report
// RUN: FileCheck %s --check-prefix=TMA-MANIFEST < %ttma/dense_fused.json
// The same with mbarrier release and a batch in flight: no CTA barrier in
// the K loop, and still no spill or serialization.
// RUN: rm -rf %tmb && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma tma=1 tma-release=mbarrier wgmma-in-flight=1 output-dir=%tmb" -o /dev/null
// RUN: %ptxas -v -arch=sm_90a %tmb/kernels.ptx -o %tmb/kernels.cubin > %tmb/report 2>&1
// RUN: FileCheck %s --check-prefix=TMA < %tmb/report
// RUN: FileCheck %s --check-prefix=RELEASE-PTX < %tmb/kernels.ptx
// A producer warpgroup (384 threads: at most 168 registers each).
// RUN: rm -rf %twp && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup output-dir=%twp" -o /dev/null
// RUN: %ptxas -v -arch=sm_90a %twp/kernels.ptx -o %twp/kernels.cubin > %twp/report 2>&1
// RUN: FileCheck %s --check-prefix=TMA < %twp/report
// The same persistent (3 CTAs looping over the 8 output tiles), with a
// batch in flight: the outer tile loop keeps the accumulators in place.
// RUN: rm -rf %tps && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup persistent-ctas=3 wgmma-in-flight=1 output-dir=%tps" -o /dev/null
// RUN: %ptxas -v -arch=sm_90a %tps/kernels.ptx -o %tps/kernels.cubin > %tps/report 2>&1
// RUN: FileCheck %s --check-prefix=TMA < %tps/report
// The same in clusters of 2 sharing W^T by TMA multicast: ptxas takes the
// cluster directives, mapa, remote mbarrier arrivals and cluster barriers.
// RUN: rm -rf %tcl && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup persistent-ctas=132 wgmma-in-flight=1 cluster=2 output-dir=%tcl" -o /dev/null
// RUN: FileCheck %s --check-prefix=CLUSTER-PTX < %tcl/kernels.ptx
// RUN: %ptxas -v -arch=sm_90a %tcl/kernels.ptx -o %tcl/kernels.cubin > %tcl/report 2>&1
// RUN: FileCheck %s --check-prefix=TMA < %tcl/report
// int4-load=bulk: the int4 kernels' weights through shared-memory rings
// filled by cp.async.bulk, with their bias and residual epilogues.
// RUN: rm -rf %tbulk && sed -n '/^func.func @int4_/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a int4-load=bulk output-dir=%tbulk" -o /dev/null
// RUN: FileCheck %s --check-prefix=BULK-PTX < %tbulk/kernels.ptx
// RUN: %ptxas -v -arch=sm_90a %tbulk/kernels.ptx -o %tbulk/kernels.cubin 2>&1 | sed -n '/Function properties for/{N;s/\n */ /;p}' > %tbulk/report
// RUN: FileCheck %s --check-prefix=BULK < %tbulk/report
// RUN: not grep -E "[1-9][0-9]* bytes (stack frame|spill)" %tbulk/report
// A 128x256 CTA tile on 2x2 warps (256 accumulators per thread) does
// spill, so the checks above can fail: the register model predicts it, and
// the pipeline's ptxas=auto reports it.
// RUN: rm -rf %tspill && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a tiles=128x256x32 warps=2x2 output-dir=%tspill ptxas=auto" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPILL
// With the warps left to `auto`, the model's pick does not spill: the
// manifest records ptxas's figures beside the prediction.
// RUN: rm -rf %tpick && sed -n '/^func.func @dense_fused/,/^}/p' %s | quilt-opt --quilt-nvptx-pipeline="chip=sm_90a tiles=128x256x32 output-dir=%tpick ptxas=auto" -o /dev/null 2>&1 | FileCheck %s --allow-empty --check-prefix=QUIET
// RUN: FileCheck %s --check-prefix=PICK < %tpick/dense_fused.json

// CHECK-DAG: Function properties for dense_fused_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for dense_rows_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for int4_m1_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for int4_m16_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for int8_fused_quantize_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for int8_fused_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-DAG: Function properties for int8_rows_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SPARSE-DAG: Function properties for sparse_linear_0 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

// TMA-PTX: .version 8.3
// TMA-PTX: fence.proxy.tensormap::generic.acquire.gpu
// TMA-PTX: mbarrier.init.shared.b64
// TMA-PTX: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// TMA-PTX-DAG: mbarrier.try_wait.parity.shared.b64
// TMA-PTX-DAG: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// CLUSTER-PTX: .entry dense_fused_linear_0
// CLUSTER-PTX: .explicitcluster
// CLUSTER-PTX-NEXT: .reqnctapercluster 2, 1, 1
// CLUSTER-PTX: fence.mbarrier_init.release.cluster;
// CLUSTER-PTX: barrier.cluster.arrive;
// CLUSTER-PTX-NEXT: barrier.cluster.wait;
// CLUSTER-PTX: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster
// CLUSTER-PTX: mapa.shared::cluster
// CLUSTER-PTX: mbarrier.arrive.release.cluster.shared::cluster.b64
// CLUSTER-PTX: barrier.cluster.arrive;
// CLUSTER-PTX-NEXT: barrier.cluster.wait;
// RELEASE-PTX: .entry dense_fused_linear_0
// RELEASE-PTX-COUNT-1: bar.sync
// RELEASE-PTX-NOT: bar.sync
// RELEASE-PTX: mbarrier.arrive.shared.b64
// TMA-NOT: serialized
// TMA: Function properties for dense_fused_linear_0
// TMA-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// TMA-NOT: serialized
// TMA-MANIFEST: "kind": "tensor_map",
// TMA-MANIFEST-NEXT: "name": "tmp1",
// TMA-MANIFEST-NEXT: "of": "arg0",
// TMA-MANIFEST-NEXT: "swizzle": 128
// TMA-MANIFEST: "kind": "tensor_map",
// TMA-MANIFEST-NEXT: "name": "tmp2",
// TMA-MANIFEST-NEXT: "of": "tmp0",
// TMA-MANIFEST-NEXT: "swizzle": 128
// TMA-MANIFEST: "arg3",
// TMA-MANIFEST-NEXT: "res0",
// TMA-MANIFEST-NEXT: "tmp1",
// TMA-MANIFEST-NEXT: "tmp2"
// TMA-MANIFEST-NEXT: ],
// IN-FLIGHT-NOT: serialized
// IN-FLIGHT: Function properties for dense_fused_linear_0
// IN-FLIGHT-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// IN-FLIGHT-NOT: serialized

// WGMMA: .entry dense_fused_linear_0
// WGMMA: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// WGMMA: .entry dense_rows_linear_0
// WGMMA: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// BULK-PTX: cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes
// BULK-PTX: bar.warp.sync
// BULK-PTX: mbarrier.try_wait.parity
// BULK-PTX: ld.shared.v4.b32
// BULK-DAG: Function properties for int4_m1_linear_0
// BULK-DAG: Function properties for int4_m16_linear_0

// W8A8 with mma=wgmma: s8 x s8 into i32, k32 per instruction.
// WGMMA: .entry int8_fused_linear_0
// WGMMA: wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8
// WGMMA: .entry int8_rows_linear_0
// WGMMA: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8

// SPILL: warning: NVPTX backend: the register model predicts {{[0-9]+}} registers per thread for this tiling, over the 255 a thread can have: it will spill
// SPILL: warning: quilt-export-nvptx: ptxas spills {{[1-9][0-9]*}} bytes of kernel dense_fused_linear_0 to local memory
// QUIET-NOT: warning
// PICK: "block": [
// PICK-NEXT: 256,
// PICK: "warps": [
// PICK-NEXT: 2,
// PICK-NEXT: 4
// PICK: "kernel": "dense_fused_linear_0",
// PICK-NEXT: "phase": "run",
// PICK-NEXT: "predicted_registers": {{[0-9]+}},
// PICK-NEXT: "registers": {{[0-9]+}},
// PICK-NEXT: "shared_bytes": {{[0-9]+}},
// PICK-NEXT: "spill_load_bytes": 0,
// PICK-NEXT: "spill_store_bytes": 0,
// PICK-NEXT: "stack_bytes": 0

func.func @dense_fused(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x1024, precision<bf16>>, %b: tensor<1024xf32>, %r: tensor<256x1024xbf16>) -> tensor<256x1024xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<256x512xbf16>, !quilt.packed<512x1024, precision<bf16>>, tensor<1024xf32> -> tensor<256x1024xbf16>
  %g = quilt.gelu %y : tensor<256x1024xbf16>
  %s = quilt.add %g, %r : tensor<256x1024xbf16>
  return %s : tensor<256x1024xbf16>
}

func.func @dense_rows(%x: tensor<16x512xf16>, %w: !quilt.packed<512x1024, precision<f16>>, %b: tensor<1024xf32>) -> tensor<16x1024xf16> {
  %y = quilt.linear %x, %w bias %b : tensor<16x512xf16>, !quilt.packed<512x1024, precision<f16>>, tensor<1024xf32> -> tensor<16x1024xf16>
  %a = quilt.silu %y : tensor<16x1024xf16>
  return %a : tensor<16x1024xf16>
}

func.func @int4_m1(%x: tensor<1x1024xf16>, %w: !quilt.packed<1024x2048, precision<i4, group<128>>>, %b: tensor<2048xf32>) -> tensor<1x2048xf16> {
  %y = quilt.linear %x, %w bias %b : tensor<1x1024xf16>, !quilt.packed<1024x2048, precision<i4, group<128>>>, tensor<2048xf32> -> tensor<1x2048xf16>
  %a = quilt.silu %y : tensor<1x2048xf16>
  return %a : tensor<1x2048xf16>
}

func.func @int4_m16(%x: tensor<16x1024xf16>, %w: !quilt.packed<1024x2048, precision<i4, group<128>>>, %b: tensor<2048xf32>, %r: tensor<16x2048xf16>) -> tensor<16x2048xf16> {
  %y = quilt.linear %x, %w bias %b : tensor<16x1024xf16>, !quilt.packed<1024x2048, precision<i4, group<128>>>, tensor<2048xf32> -> tensor<16x2048xf16>
  %g = quilt.gelu %y : tensor<16x2048xf16>
  %s = quilt.add %g, %r : tensor<16x2048xf16>
  return %s : tensor<16x2048xf16>
}

func.func @sparse(%x: tensor<256x512xf16>, %w: !quilt.packed<512x1024, precision<f16>, sparsity<nm<2, 4>>>, %b: tensor<1024xf32>) -> tensor<256x1024xf16> {
  %y = quilt.linear %x, %w bias %b : tensor<256x512xf16>, !quilt.packed<512x1024, precision<f16>, sparsity<nm<2, 4>>>, tensor<1024xf32> -> tensor<256x1024xf16>
  %a = quilt.relu %y : tensor<256x1024xf16>
  return %a : tensor<256x1024xf16>
}

func.func @int8_fused(%x: tensor<256x512xf16>, %w: !quilt.packed<512x1024, precision<i8, channel>>, %b: tensor<1024xf16>, %r: tensor<256x1024xf16>) -> tensor<256x1024xf16> {
  %y = quilt.linear %x, %w bias %b act <i8, channel> : tensor<256x512xf16>, !quilt.packed<512x1024, precision<i8, channel>>, tensor<1024xf16> -> tensor<256x1024xf16>
  %g = quilt.gelu %y : tensor<256x1024xf16>
  %s = quilt.add %g, %r : tensor<256x1024xf16>
  return %s : tensor<256x1024xf16>
}

func.func @int8_rows(%x: tensor<16x512xbf16>, %w: !quilt.packed<512x1024, precision<i8, channel>>) -> tensor<16x1024xbf16> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x512xbf16>, !quilt.packed<512x1024, precision<i8, channel>> -> tensor<16x1024xbf16>
  %a = quilt.silu %y : tensor<16x1024xbf16>
  return %a : tensor<16x1024xbf16>
}
