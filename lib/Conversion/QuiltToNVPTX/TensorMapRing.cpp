//===- TensorMapRing.cpp - Shared-memory stages filled by TMA ---*- C++ -*-===//
//
// Hopper's tensor memory accelerator copies a whole box of a tensor into
// shared memory from one instruction: one thread issues two per K slice
// where cp.async has every thread compute addresses for its 16-byte chunks
// and predicate the edges. The box lands in the 128-byte swizzle the
// tensor map names, the layout the cp.async ring writes by hand and wgmma's
// descriptors read. Each stage has an mbarrier: the issuing thread arrives
// on it expecting the boxes' bytes, the copies complete them, and the
// barrier's phase flips once the stage is full. Stage s is used for slices
// s, s + stages, ...: the j-th use completes phase j, so readers wait on
// parity (kTile / stages) & 1.
//
// Persistent CTAs number the slices on across their output tiles: stage
// and parity follow the running count, and a stage freed by the last
// slices of one tile is refilled with the first of the next while the
// consumers store.
//
// A stage may be refilled once no warpgroup reads it any more. By default
// a CTA barrier per K slice (after every warpgroup's wgmma wait) tells.
// With mbarrierRelease each stage has a second, "empty" barrier that one
// thread per warpgroup arrives on once its wgmma have read the stage; the
// refill of use j + 1 waits for phase j of it, so warpgroups only wait for
// data, never for each other, and thread 0 only for the stage it refills.
//
// A cluster of clusterM CTAs computes clusterM row tiles of the same
// columns, so they read the same W^T slices: each CTA loads rows
// [rank, rank + 1) x blockN / clusterM of the slice and multicasts them
// into every CTA's stage, completing on every CTA's "full" barrier, which
// still expects a whole stage. L2 delivers W^T once per cluster instead of
// once per CTA. A CTA's refill writes its peers' stages too, so every
// warpgroup releases a stage on the "empty" barrier of every CTA, and the
// refill waits for all clusterM x warpgroups of them. Remote arrivals and
// copies need the peers' barriers initialized first and their shared
// memory alive until the last: a cluster barrier after the setup and one
// before exit.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

TensorMapRing::TensorMapRing(PtxBuilder &ptx, const GemmProblem &p,
                             const MmaTiling &t, Value tid, Value leader,
                             Value shared, Value mapX, Value mapW, Value m0,
                             Value n0)
    : ptx(ptx), p(p), t(t), tid(tid), shared(shared), mapX(mapX), mapW(mapW),
      m0(m0), n0(n0), leader(leader) {
  if (t.clusterM > 1)
    rank = ptx.clusterRank();
}

Value TensorMapRing::getStage(Value index) {
  return ptx.offset(shared, ptx.mul(index, t.getStageBytes()));
}

Value TensorMapRing::getBarrier(Value stage, int64_t kind) {
  int64_t first = t.stages * t.getStageBytes() + kind * t.stages * 8;
  return ptx.offset(shared, ptx.add(ptx.mul(stage, 8), first));
}

void TensorMapRing::loopOverTiles(Value first, int64_t stride, Value count) {
  firstTile = first;
  tileStride = stride;
  slices = count;
}

void TensorMapRing::issue(Value kTile, Value stage) {
  Value bar = getBarrier(stage);
  ptx.arriveExpectBytes(bar, t.getStageBytes());
  Value base = getStage(stage);
  Value rows = m0, cols = n0;
  if (firstTile) {
    Value tileIndex = ptx.div(kTile, getKTiles());
    std::tie(rows, cols) = getTileOrigin(
        ptx, p, t, ptx.add(firstTile, ptx.mul(tileIndex, tileStride)));
    kTile = ptx.rem(kTile, getKTiles());
  }
  Value k0 = ptx.mul(kTile, t.blockK);
  ptx.loadTensorBox(base, mapX, k0, rows, bar);
  Value tileB = ptx.offset(base, ptx.c32(getTileABytes()));
  if (t.clusterM == 1) {
    ptx.loadTensorBox(tileB, mapW, k0, cols, bar);
    return;
  }
  // This CTA's share of W^T, to the same place in every CTA of the cluster.
  Value first = ptx.mul(rank, t.blockN / t.clusterM);
  Value everyCta = arith::ConstantIntOp::create(ptx.b, ptx.b.getI16Type(),
                                                (int64_t(1) << t.clusterM) - 1);
  ptx.loadTensorBox(ptx.offset(tileB, ptx.mul(first, t.getRowBytes())), mapW,
                    k0, ptx.add(cols, first), bar, everyCta);
}

void TensorMapRing::issuePrologue(int64_t slices) {
  ptx.ifThen(leader, [&] {
    // The host wrote the maps before the launch, through the generic proxy.
    ptx.acquireTensorMap(mapX);
    ptx.acquireTensorMap(mapW);
    for (int64_t s = 0; s < t.stages; ++s) {
      ptx.initBarrier(getBarrier(ptx.c32(s)), 1);
      // One arrival per consumer warpgroup of the cluster.
      if (t.mbarrierRelease)
        ptx.initBarrier(getBarrier(ptx.c32(s), 1), t.blockM / 64 * t.clusterM);
    }
    // The copies complete on the barriers through the async proxy.
    ptx.fenceProxyAsyncShared();
    if (t.clusterM > 1)
      ptx.fenceBarrierInit();
  });
  auto issueFirst = [&] {
    for (int64_t s = 0; s < std::min(slices, getKTiles()); ++s)
      issue(ptx.c32(s), ptx.c32(s));
  };
  if (t.clusterM == 1) {
    ptx.ifThen(leader, issueFirst);
    // Nobody waits on a barrier before it is initialized.
    ptx.barrier();
    return;
  }
  // Nor copies into, or arrives on, a peer's before it is.
  ptx.clusterBarrier();
  if (slices)
    ptx.ifThen(leader, issueFirst);
}

void TensorMapRing::leaveCluster() {
  if (t.clusterM > 1)
    ptx.clusterBarrier();
}

void TensorMapRing::waitForSlice(Value kTile) {
  Value stage = ptx.rem(kTile, t.stages);
  ptx.waitBarrier(getBarrier(stage), ptx.andI(ptx.div(kTile, t.stages), 1));
}

void TensorMapRing::refill(Value kTile) {
  Value limit = slices ? slices : ptx.c32(getKTiles());
  ptx.ifThen(ptx.andB(leader, ptx.ult(kTile, limit)), [&] {
    Value stage = ptx.rem(kTile, t.stages);
    if (t.mbarrierRelease) {
      // Use j >= 1 of the stage waits for the release of use j - 1.
      Value use = ptx.div(kTile, t.stages);
      ptx.ifThen(ptx.ult(ptx.c32(0), use), [&] {
        ptx.waitBarrier(getBarrier(stage, 1), ptx.andI(ptx.add(use, 1), 1));
      });
    }
    issue(kTile, stage);
  });
}

void TensorMapRing::release(Value kTile) {
  // One arrival per warpgroup: its wgmma read the stage as one. In a
  // cluster, on every CTA's barrier: each refill writes all their stages.
  ptx.ifThen(ptx.ult(ptx.rem(tid, 128), 1), [&] {
    Value bar = getBarrier(ptx.rem(kTile, t.stages), 1);
    if (t.clusterM == 1) {
      ptx.arrive(bar);
      return;
    }
    for (int64_t r = 0; r < t.clusterM; ++r)
      ptx.arriveInCluster(ptx.mapToCluster(bar, ptx.c32(r)));
  });
}
