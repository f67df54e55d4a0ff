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
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

TensorMapRing::TensorMapRing(PtxBuilder &ptx, const GemmProblem &p,
                             const MmaTiling &t, Value tid, Value leader,
                             Value shared, Value mapX, Value mapW, Value m0,
                             Value n0)
    : ptx(ptx), p(p), t(t), tid(tid), shared(shared), mapX(mapX), mapW(mapW),
      m0(m0), n0(n0), leader(leader) {}

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
  ptx.loadTensorBox(ptx.offset(base, ptx.c32(getTileABytes())), mapW, k0, cols,
                    bar);
}

void TensorMapRing::issuePrologue(int64_t slices) {
  ptx.ifThen(leader, [&] {
    // The host wrote the maps before the launch, through the generic proxy.
    ptx.acquireTensorMap(mapX);
    ptx.acquireTensorMap(mapW);
    for (int64_t s = 0; s < t.stages; ++s) {
      ptx.initBarrier(getBarrier(ptx.c32(s)), 1);
      // One arrival per consumer warpgroup.
      if (t.mbarrierRelease)
        ptx.initBarrier(getBarrier(ptx.c32(s), 1), t.blockM / 64);
    }
    // The copies complete on the barriers through the async proxy.
    ptx.fenceProxyAsyncShared();
    for (int64_t s = 0; s < std::min(slices, getKTiles()); ++s)
      issue(ptx.c32(s), ptx.c32(s));
  });
  // Nobody waits on a barrier before it is initialized.
  ptx.barrier();
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
  // One arrival per warpgroup: its wgmma read the stage as one.
  ptx.ifThen(ptx.ult(ptx.rem(tid, 128), 1),
             [&] { ptx.arrive(getBarrier(ptx.rem(kTile, t.stages), 1)); });
}
