// RUN: quilt-opt %s --convert-quilt-to-nvptx=mma=wgmma | FileCheck %s
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=64x128x64 stages=3" | FileCheck %s --check-prefix=SMALL
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma wgmma-in-flight=1" | FileCheck %s --check-prefix=IN-FLIGHT
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1" | FileCheck %s --check-prefix=TMA
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier" | FileCheck %s --check-prefix=RELEASE
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup" | FileCheck %s --check-prefix=PRODUCER
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup setmaxnreg=0" | FileCheck %s --check-prefix=NO-SETMAXNREG
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup tiles=64x128x64" | FileCheck %s --check-prefix=NO-SETMAXNREG
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup tiles=128x128x64 stages=3" | FileCheck %s --check-prefix=NO-SETMAXNREG
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup persistent-ctas=3 wgmma-in-flight=1" | FileCheck %s --check-prefix=PERSISTENT
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup persistent-ctas=5 cluster=2" | FileCheck %s --check-prefix=CLUSTER

// mma=wgmma: the dense 16-bit GEMM on sm_90a's warpgroup tensor cores. The
// default tile is 128x256x64 on two warpgroups (8 warps), 4 stages of
// (128 + 256) x 128 bytes. Per K slice every thread waits for its cp.async
// group and fences its writes for the async proxy before the barrier;
// then one wgmma.fence, 4 wgmma.mma_async m64n256k16 (16-deep steps of
// the 64-deep slice) on K-major descriptors in the 128-byte swizzle mode
// (address bits 4-17, leading offset 1, stride 1024 >> 4, mode 1:
// 0x4000004000010000 = 4611686293305360384), commit and wait.

// CHECK: gpu.launch_func @quilt_kernels::@wgmma_linear_0 blocks in (%c8{{.*}}threads in (%c256{{.*}}dynamic_shared_memory_size %c196608_i32
// CHECK-SAME: quilt.kernel_config = "{{.*}}\22ahead\22:3,\22bias\22:true,\22block\22:[128,256,64],\22ctas\22:{{[0-9]+}},\22family\22:\22wgmma\22,{{.*}}\22stages\22:4,{{.*}}\22warps\22:[8,1]}"
// CHECK-SAME: quilt.predicted_registers = {{[0-9]+}} : i64
// CHECK: gpu.func @wgmma_linear_0
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.barrier0
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.andi %{{.*}}, %c262143_i32 : i32
// CHECK: arith.constant 4611686293305360384 : i64
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}}<m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: ex2.approx.ftz.f32

// wgmma-in-flight=1 loads 2 slices ahead instead of 3 and leaves the last
// batch running at the end of a slice; it is waited for once after the loop.
// IN-FLIGHT: quilt.kernel_config = "{{.*}}\22ahead\22:2,{{.*}}\22stages\22:4,
// IN-FLIGHT: gpu.func @wgmma_linear_0
// IN-FLIGHT: nvvm.cp.async.commit.group
// IN-FLIGHT: nvvm.cp.async.commit.group
// IN-FLIGHT-NOT: nvvm.cp.async.commit.group
// IN-FLIGHT: scf.for
// IN-FLIGHT: nvvm.cp.async.wait.group 1
// IN-FLIGHT: nvvm.wgmma.commit.group.sync.aligned
// IN-FLIGHT-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// IN-FLIGHT: nvvm.wgmma.wait.group.sync.aligned 0
// IN-FLIGHT-NEXT: nvvm.cp.async.wait.group 0

// tma=1: the same stages filled by TMA. The launch gets two 128-byte
// buffers for the tensor maps of x (64 x 128 boxes of 256 x 512 bf16) and
// of the packed W^T (64 x 256 of 1024 x 512), after the stages 4 mbarriers
// (196608 + 32 bytes). Thread 0 acquires the maps, initializes the
// barriers, fences them for the async proxy and loads 3 slices ahead, two
// boxes of 49152 bytes in all per stage; every thread waits on the stage's
// barrier with the parity of its use, then the CTA barrier frees the stage
// thread 0 refills.
// TMA: %[[MAPX:.*]] = gpu.alloc () : memref<128xi8>
// TMA: %[[MAPW:.*]] = gpu.alloc () : memref<128xi8>
// TMA: gpu.launch_func @quilt_kernels::@wgmma_linear_0 {{.*}}dynamic_shared_memory_size %c196640_i32 args(%arg0 : memref<256x512xbf16>, %{{.*}} : memref<1048576xi8>, %arg2 : memref<1024xf32>, %arg3 : memref<256x1024xbf16>, %[[MAPX]] : memref<128xi8>, %[[MAPW]] : memref<128xi8>)
// TMA-SAME: \22tma\22:true
// TMA-SAME: quilt.tensor_maps = [{argument = 4 : i64, box = array<i64: 64, 128>, dims = array<i64: 512, 256>, element = bf16, source = 0 : i64, swizzle = 128 : i64}, {argument = 5 : i64, box = array<i64: 64, 256>, dims = array<i64: 512, 1024>, element = bf16, source = 1 : i64, swizzle = 128 : i64}]
// TMA: gpu.func @wgmma_linear_0
// TMA-NOT: nvvm.cp.async.shared.global
// TMA: scf.if
// TMA: nvvm.fence.proxy.acquire <gpu>
// TMA: nvvm.fence.proxy.acquire <gpu>
// TMA-COUNT-4: nvvm.mbarrier.init {{.*}}, %c1_i32
// TMA: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// TMA-COUNT-3: nvvm.mbarrier.arrive.expect_tx {{.*}}, %c49152_i32
// TMA: nvvm.barrier0
// TMA: scf.for
// TMA: nvvm.mbarrier.try_wait.parity
// TMA-NEXT: nvvm.barrier0
// TMA: nvvm.mbarrier.arrive.expect_tx
// TMA: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}} box[
// TMA: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}} box[
// TMA: nvvm.wgmma.fence.aligned
// TMA-COUNT-4: nvvm.wgmma.mma_async
// TMA-NOT: nvvm.cp.async.wait.group

// tma-release=mbarrier: a second, "empty" mbarrier per stage (4 more, 64
// bytes in all) with one arrival per warpgroup. No CTA barrier in the K
// loop: after its wgmma are committed, thread 0 waits for the release of
// the stage's previous use (from its second use on) and refills it; after
// the wgmma wait, thread 0 of each warpgroup releases the slice's stage.
// RELEASE: dynamic_shared_memory_size %c196672_i32
// RELEASE-SAME: \22mbarrier_release\22:true
// RELEASE: gpu.func @wgmma_linear_0
// RELEASE: nvvm.mbarrier.init {{.*}}, %c1_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c2_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c1_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c2_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c1_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c2_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c1_i32
// RELEASE: nvvm.mbarrier.init {{.*}}, %c2_i32
// RELEASE: nvvm.barrier0
// RELEASE: scf.for
// RELEASE-NOT: nvvm.barrier0
// RELEASE: nvvm.mbarrier.try_wait.parity
// RELEASE-NOT: nvvm.barrier0
// RELEASE: nvvm.wgmma.commit.group.sync.aligned
// RELEASE: nvvm.mbarrier.try_wait.parity
// RELEASE: nvvm.mbarrier.arrive.expect_tx
// RELEASE: nvvm.wgmma.wait.group.sync.aligned 0
// RELEASE: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// RELEASE-NOT: nvvm.barrier0
// RELEASE: scf.yield

// tma-producer=warpgroup: 384 threads, the third warpgroup's first thread
// (256) initializes the barriers, then loads every slice in its own loop,
// waiting for a stage's release from its second use on; the consumers
// (threads below 256) wait, multiply, release and store. The producer
// warpgroup keeps 40 registers per thread and the consumers take 232
// ((65536 - 128 x 40) / 256, rounded down to 8), more than the launch's
// 168.
// PRODUCER: threads in (%c384{{.*}}dynamic_shared_memory_size %c196672_i32
// PRODUCER-SAME: \22consumer_registers\22:232
// PRODUCER-SAME: \22producer_warpgroup\22:true
// PRODUCER: gpu.func @wgmma_linear_0
// PRODUCER: %[[LEADER:.*]] = arith.cmpi eq, %{{.*}}, %c256_i32
// PRODUCER: scf.if %[[LEADER]] {
// PRODUCER: nvvm.mbarrier.init
// PRODUCER-NOT: nvvm.cp.async.bulk.tensor
// PRODUCER: nvvm.barrier0
// PRODUCER: %[[PRODUCERS:.*]] = arith.cmpi ult, %c255_i32, %{{.*}} : i32
// PRODUCER-NEXT: scf.if %[[PRODUCERS]] {
// PRODUCER-NEXT: nvvm.setmaxregister decrease 40
// PRODUCER-NEXT: scf.if %[[LEADER]] {
// PRODUCER: scf.for
// PRODUCER: nvvm.mbarrier.try_wait.parity
// PRODUCER: nvvm.mbarrier.arrive.expect_tx
// PRODUCER: nvvm.cp.async.bulk.tensor.shared.cluster.global
// PRODUCER: nvvm.cp.async.bulk.tensor.shared.cluster.global
// PRODUCER: arith.cmpi ult, %{{.*}}, %c256_i32
// PRODUCER: nvvm.setmaxregister increase 232
// PRODUCER: scf.for
// PRODUCER-NOT: nvvm.cp.async.bulk.tensor
// PRODUCER: nvvm.wgmma.wait.group.sync.aligned 0
// PRODUCER: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// PRODUCER: ex2.approx.ftz.f32

// setmaxnreg=0 keeps the launch's registers; so does a 64-row tile, whose
// one consumer warpgroup has up to 255 already, and a CTA whose 96 KiB of
// stages leave room for a second one on the SM, which would wait forever
// for the registers the first took.
// NO-SETMAXNREG-NOT: nvvm.setmaxregister

// persistent-ctas=3: 3 CTAs for the 2 x 4 output tiles of 128x256; CTA b
// owns tiles b, b + 3, ... ((8 + 2 - b) / 3 of them). The producer loads
// 8 K slices per owned tile in one loop; the consumers loop over their
// tiles, each a K loop numbered on from 8 i, then its epilogue; with a
// batch in flight, the last slice of each tile is released after the
// final wait so the next tile's loads can reuse its stage.
// PERSISTENT: gpu.launch_func @quilt_kernels::@wgmma_linear_0 blocks in (%c3,{{.*}}threads in (%c384
// PERSISTENT-SAME: \22persistent_ctas\22:3,\22problem\22:[{{[0-9,]+}}],\22producer_warpgroup\22:true
// PERSISTENT: gpu.func @wgmma_linear_0
// PERSISTENT: %[[LAST:.*]] = arith.subi %c10_i32, %[[CTA:.*]] : i32
// PERSISTENT: %[[OWN:.*]] = arith.divui %[[LAST]], %c3_i32 : i32
// PERSISTENT: %[[SLICES:.*]] = arith.muli %[[OWN]], %c8_i32
// PERSISTENT: scf.for %{{.*}} = %c0_i32{{.*}} to %[[SLICES]] step
// PERSISTENT: nvvm.mbarrier.arrive.expect_tx
// PERSISTENT: nvvm.cp.async.bulk.tensor.shared.cluster.global
// PERSISTENT: scf.for %[[TILE:.*]] = %c0_i32{{.*}} to %[[OWN]] step
// PERSISTENT: %[[FIRST:.*]] = arith.muli %[[TILE]], %c8_i32
// PERSISTENT: scf.for %[[K:.*]] = %c0_i32{{.*}} to %c8_i32
// PERSISTENT-NEXT: arith.addi %[[FIRST]], %[[K]] : i32
// PERSISTENT: nvvm.mbarrier.try_wait.parity
// PERSISTENT: nvvm.wgmma.wait.group.sync.aligned 1
// PERSISTENT: nvvm.mbarrier.arrive
// PERSISTENT: scf.yield
// PERSISTENT: nvvm.wgmma.wait.group.sync.aligned 0
// PERSISTENT-NEXT: %c7_i32 = arith.constant 7 : i32
// PERSISTENT-NEXT: arith.addi %[[FIRST]], %c7_i32 : i32
// PERSISTENT: nvvm.mbarrier.arrive
// PERSISTENT: ex2.approx.ftz.f32

// cluster=2: CTAs 2c and 2c + 1 form a cluster (persistent-ctas=5 gives
// two whole clusters) and take row tiles 2i and 2i + 1 of the same
// columns. Each loads its x box and half of the W^T slice (128 of 256
// rows, from row 128 x rank), which it multicasts to both CTAs; a stage's
// "empty" barrier counts the 2 warpgroups of both CTAs, and each
// warpgroup arrives on the barrier of rank 0 and of rank 1. Cluster
// barriers follow the barrier setup and end the kernel.
// CLUSTER: gpu.launch_func @quilt_kernels::@wgmma_linear_0 clusters in (%c2, %c1{{.*}}) blocks in (%c4,
// CLUSTER-SAME: \22cluster_m\22:2
// CLUSTER-SAME: box = array<i64: 64, 128>, dims = array<i64: 512, 1024>
// CLUSTER: gpu.func @wgmma_linear_0{{.*}}known_cluster_size = array<i32: 2, 1, 1>
// CLUSTER: %[[RANK:.*]] = nvvm.read.ptx.sreg.cluster.ctarank : i32
// CLUSTER: nvvm.mbarrier.init %{{.*}}, %c1_i32
// CLUSTER: nvvm.mbarrier.init %{{.*}}, %c4_i32
// CLUSTER: nvvm.fence.mbarrier.init
// CLUSTER: nvvm.cluster.arrive{{$}}
// CLUSTER-NEXT: nvvm.cluster.wait{{$}}
// CLUSTER: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c49152_i32
// CLUSTER: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CLUSTER-NOT: multicast_mask
// CLUSTER: arith.muli %[[RANK]], %c128_i32
// CLUSTER: %[[MASK:.*]] = arith.constant 3 : i16
// CLUSTER: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}} multicast_mask = %[[MASK]]
// CLUSTER: nvvm.wgmma.wait.group.sync.aligned 0
// CLUSTER: nvvm.mapa %{{.*}}, %c0_i32{{.*}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CLUSTER-NEXT: nvvm.mbarrier.arrive %{{.*}} {scope = #nvvm.mem_scope<cluster>} : !llvm.ptr<7>
// CLUSTER: nvvm.mapa %{{.*}}, %c1_i32{{.*}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CLUSTER-NEXT: nvvm.mbarrier.arrive %{{.*}} {scope = #nvvm.mem_scope<cluster>} : !llvm.ptr<7>
// CLUSTER: nvvm.cluster.arrive{{$}}
// CLUSTER-NEXT: nvvm.cluster.wait{{$}}
// CLUSTER-NEXT: gpu.return

// SMALL: threads in (%c128{{.*}}dynamic_shared_memory_size %c73728_i32
// SMALL: nvvm.wgmma.mma_async {{.*}}<m = 64, n = 128, k = 16>
func.func @wgmma(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x1024, precision<bf16>>, %b: tensor<1024xf32>) -> tensor<256x1024xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<256x512xbf16>, !quilt.packed<512x1024, precision<bf16>>, tensor<1024xf32> -> tensor<256x1024xbf16>
  %g = quilt.gelu %y : tensor<256x1024xbf16>
  return %g : tensor<256x1024xbf16>
}

