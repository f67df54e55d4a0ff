// RUN: quilt-opt %s "--convert-quilt-to-nvptx=int4-load=bulk warps=1x2 stages=2" | FileCheck %s
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=int4-load=bulk warps=1x2" | FileCheck %s --check-prefix=WHOLE

// int4-load=bulk: each warp's weights stream through a ring of shared
// memory filled by cp.async.bulk. K = 1408 is 11 groups of 128: 2 warps
// along K take 6 groups (12 blocks) each, 3 stages of 4 blocks of its 2
// tiles (2 x 2 KiB per stage). With stages=2 the ring holds 2 of them:
// lane 0 initializes the barriers and copies stages 0 and 1, every lane
// waits for a stage one block before its first (the weights of a block
// are read one block ahead of their use; parity 0), and after the
// last block of stage 0 lane 0 refills its slot with stage 2, whose wait
// is the slot's second phase (parity 1). Shared memory: 2 warps x (2 x 4
// KiB of ring + 2 barriers), then the K split's sums (2 x 2 x 4 x 128 B).
// CHECK: gpu.launch_func @quilt_kernels::@refill_linear_0 blocks in (%c4{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c64{{[_0-9]*}}, {{.*}} dynamic_shared_memory_size %c18464_i32
// CHECK-SAME: \22stages\22:2,{{.*}}\22tma\22:true
// CHECK: gpu.func @refill_linear_0
// CHECK: scf.if
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32{{[_0-9]*}}
// CHECK: nvvm.mbarrier.init %{{.*}}, %c1_i32{{[_0-9]*}}
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c4096_i32
// CHECK-COUNT-2: nvvm.cp.async.bulk.shared.cluster.global {{.*}}, %c2048_i32
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c4096_i32
// CHECK-COUNT-2: nvvm.cp.async.bulk.shared.cluster.global {{.*}}, %c2048_i32
// CHECK: nvvm.bar.warp.sync
// CHECK: nvvm.mbarrier.try_wait.parity %{{.*}}, %c0_i32{{[_0-9]*}}, %c10000000_i32
// CHECK: llvm.load {{.*}} : !llvm.ptr<3> -> vector<4xi32>
// CHECK-COUNT-24: nvvm.mma.sync
// CHECK: nvvm.mbarrier.try_wait.parity %{{.*}}, %c0_i32{{[_0-9]*}}, %c10000000_i32
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK: nvvm.bar.warp.sync
// CHECK-NEXT: scf.if
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c4096_i32
// CHECK-COUNT-2: nvvm.cp.async.bulk.shared.cluster.global {{.*}}, %c2048_i32
// CHECK: nvvm.mbarrier.try_wait.parity %{{.*}}, %c1_i32{{[_0-9]*}}, %c10000000_i32
// CHECK-NOT: nvvm.cp.async.bulk
// CHECK: gpu.return

// Without stages the ring holds the warp's 3 stages: no refill.
// WHOLE: dynamic_shared_memory_size %c26672_i32
// WHOLE-SAME: \22stages\22:3,{{.*}}\22tma\22:true
// WHOLE-COUNT-6: nvvm.cp.async.bulk.shared.cluster.global
// WHOLE-NOT: nvvm.cp.async.bulk
// WHOLE: gpu.return
func.func @refill(%x: tensor<3x1408xf16>, %w: !quilt.packed<1408x128, precision<i4, group<128>>>) -> tensor<3x128xf16> {
  %y = quilt.linear %x, %w : tensor<3x1408xf16>, !quilt.packed<1408x128, precision<i4, group<128>>> -> tensor<3x128xf16>
  return %y : tensor<3x128xf16>
}
