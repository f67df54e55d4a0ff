//===- WgmmaKernel.cpp - Warpgroup tensor-core GEMM (sm_90a) ----*- C++ -*-===//
//
// Hopper's wgmma.mma_async on the dense kernel's data path: the same CTA
// tiles in grouped order, the same cp.async ring of shared-memory stages
// (64-deep 16-bit slices, whose XOR swizzle is wgmma's 128-byte mode), but
// each warpgroup (4 warps) multiplies 64 rows of the tile by all of its
// columns with one instruction per 16-deep step, reading both operands
// from shared memory through descriptors: no ldmatrix, no per-warp
// fragments, and the tensor cores run asynchronously to the warps.
//
// Per K slice: wait for its cp.async group, fence the generic-proxy writes
// for the async proxy wgmma reads through, barrier, refill the stage freed
// one iteration ago, then wgmma.fence, 4 wgmma, commit and wait. Waiting
// for completion before the next barrier is what lets the refill reuse a
// stage; the loads of the next stages overlap the tensor cores. With
// wgmmaInFlight = 1 the wait leaves the last batch running into the next
// slice's barrier and loads, and the refill targets the stage two slices
// back, which the wait has freed.
//
// Not yet run on a GPU: ptxas accepts it (test/Pipelines/nvptx-ptxas.mlir),
// and bench/gpu/variants.txt lists it for the next GPU session to check and
// time. `convert-quilt-to-nvptx{mma=wgmma}` selects it.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

/// One warpgroup computes 64 rows.
static constexpr int64_t kWarpgroupRows = 64;

MmaTiling mlir::quilt::nvptx::chooseWgmmaTiling(const GemmProblem &problem) {
  // cuBLAS's and Triton's Hopper tile: two warpgroups of 64 x 256.
  MmaTiling tiling = {64, 128, 64, 4, 1, 4};
  if (problem.m > kWarpgroupRows)
    tiling = {128, 256, 64, 8, 1, 4};
  // int8: the same 128-byte rows, twice the K.
  if (problem.element == MmaElement::S8) {
    tiling.elementBytes = 1;
    tiling.blockK = 128;
  }
  return tiling;
}

int64_t MmaTiling::getConsumerRegisters() const {
  // The counts hand one CTA the SM's whole register file: a second CTA on
  // the SM would wait forever in setmaxnreg.inc. More than half of sm_90's
  // 228 KiB of shared memory keeps it out.
  if (!producerWarpgroup || !rebalanceRegisters ||
      2 * getSharedBytes() <= 228 * 1024)
    return 0;
  int64_t consumerThreads = 32 * warpsM * warpsN;
  // setmaxnreg counts are multiples of 8; a thread addresses at most 255.
  int64_t registers = std::min<int64_t>(
      248, (65536 - 128 * kProducerRegisters) / consumerThreads / 8 * 8);
  return registers > cost::getRegisterCap(getThreads()) ? registers : 0;
}

std::string mlir::quilt::nvptx::verifyWgmmaTiling(const MmaTiling &t) {
  if (t.getRowBytes() != 128)
    return "wgmma tiles are MxNx64 (int8: MxNx128): 128-byte rows, the "
           "128-byte swizzle";
  if (t.blockM % kWarpgroupRows || t.warpsM != 4 * (t.blockM / 64) ||
      t.warpsN != 1)
    return "wgmma needs M a multiple of 64 and one warpgroup (4 warps) per "
           "64 rows: warps (4 * M / 64)x1";
  if (t.blockN % 16 || t.blockN > 256)
    return "wgmma's N is a multiple of 16 up to 256";
  // ptxas refuses (not spills) a wgmma whose accumulators leave too few
  // registers: 256x256 on 16 warps (128 each of 128) needs 154.
  int64_t cap = cost::getRegisterCap(t.getThreads());
  if (t.blockN / 2 + 32 > cap)
    return "a thread's N / 2 accumulators and 32 more registers must fit in "
           "the " +
           std::to_string(cap) + " it can have";
  // A TMA box is at most 256 elements along each dimension.
  if (t.tma && t.blockM > 256)
    return "TMA loads at most 256 rows per box: M up to 256";
  // Each share starts a 1024-byte swizzle pattern of 8 rows.
  if ((t.blockN / t.clusterM) % 8)
    return "each CTA of a cluster multicasts N / cluster rows of W^T: a "
           "multiple of 8";
  if (t.persistentCtas && t.persistentCtas < t.clusterM)
    return "persistent CTAs come in whole clusters: at least " +
           std::to_string(t.clusterM);
  if (t.wgmmaInFlight > 1 || t.stages < 2 + t.wgmmaInFlight)
    return "wgmma keeps 0 or 1 batches in flight, with at least 2 + that "
           "many stages";
  return t.verify();
}

namespace {

class WgmmaGenerator {
public:
  WgmmaGenerator(PtxBuilder &ptx, const GemmProblem &problem,
                 const Epilogue &epilogue, const MmaTiling &tiling)
      : ptx(ptx), p(problem), epilogue(epilogue), t(tiling) {}

  void build(gpu::GPUModuleOp module, ValueRange args);

private:
  /// The K loop over the stages of `ring` (StageRing or TensorMapRing),
  /// up to the last wait; returns the accumulators. `firstSlice`: the
  /// ring's number of the first K slice (persistent CTAs; default 0).
  template <typename Ring>
  SmallVector<Value> multiply(Ring &ring, Value aRows, Value firstSlice = {});
  /// The consumers and the producer warpgroup of a TMA ring.
  void buildWarpSpecialized(TensorMapRing &ring, Value tid, Value leader,
                            Value aRows, Value m0, Value n0,
                            const EpilogueOperands &out);
  /// Applies the epilogue to this thread's accumulators and stores them.
  void store(ArrayRef<Value> acc, Value tid, Value m0, Value n0,
             const EpilogueOperands &out);

  PtxBuilder &ptx;
  const GemmProblem &p;
  const Epilogue &epilogue;
  const MmaTiling &t;
};

} // namespace

template <typename Ring>
SmallVector<Value> WgmmaGenerator::multiply(Ring &ring, Value aRows,
                                            Value firstSlice) {
  constexpr bool tma = std::is_same_v<Ring, TensorMapRing>;
  int64_t kTiles = ring.getKTiles();
  int64_t ahead = t.getSlicesAhead();
  // A producer warpgroup issues every load itself.
  bool producer = tma && t.producerWarpgroup;
  if (!producer)
    ring.issuePrologue(ahead);
  // int8 sums are exact i32.
  SmallVector<Value> zeros(
      t.blockN / 2, p.element == MmaElement::S8 ? ptx.c32(0) : ptx.cf32(0.0f));
  bool released = tma && t.mbarrierRelease;
  SmallVector<Value> acc = ptx.forLoop(
      ptx.c32(0), ptx.c32(kTiles), 1, zeros,
      [&](Value kTile, ValueRange carried) -> SmallVector<Value> {
        // The ring's own number of this K slice.
        Value slice = firstSlice ? ptx.add(firstSlice, kTile) : kTile;
        if constexpr (tma)
          ring.waitForSlice(slice);
        else
          ring.waitForSlice(ahead);
        if (!released) {
          // Every warpgroup is past the previous slice's wait, so the
          // stage the refill overwrites is no longer read.
          ptx.barrier();
          ring.refill(ptx.add(kTile, ahead));
        }
        Value base = ring.getStage(ptx.rem(slice, t.stages));
        Value tileA = ptx.offset(base, aRows);
        Value tileB = ptx.offset(base, ptx.c32(ring.getTileABytes()));
        SmallVector<Value> sums(carried.begin(), carried.end());
        ptx.wgmmaFence();
        // Steps 16 deep (int8: 32) are 32 bytes along the 128-byte rows.
        for (int64_t kk = 0; kk < t.getRowBytes() / 32; ++kk)
          sums = ptx.wgmma(
              p.element,
              ptx.wgmmaDescriptor(ptx.offset(tileA, ptx.c32(32 * kk))),
              ptx.wgmmaDescriptor(ptx.offset(tileB, ptx.c32(32 * kk))), sums);
        ptx.wgmmaCommitGroup();
        if constexpr (tma) {
          // Thread 0 refills while its warpgroup's wgmma run.
          if (released && !producer)
            ring.refill(ptx.add(slice, ahead));
        }
        ptx.wgmmaWaitGroup(t.wgmmaInFlight);
        if constexpr (tma) {
          // The wait leaves the batches up to slice kTile - inFlight done.
          if (released && t.wgmmaInFlight)
            ptx.ifThen(ptx.ult(ptx.c32(0), kTile),
                       [&] { ring.release(ptx.add(slice, -1)); });
          else if (released)
            ring.release(slice);
        }
        return sums;
      });
  if (t.wgmmaInFlight)
    ptx.wgmmaWaitGroup(0);
  if constexpr (!tma)
    ptx.waitGroup(0);
  // The next tile's slices reuse the stage of this one's last: release it.
  if constexpr (tma)
    if (firstSlice && released && t.wgmmaInFlight)
      ring.release(ptx.add(firstSlice, kTiles - 1));
  return acc;
}

void WgmmaGenerator::build(gpu::GPUModuleOp module, ValueRange args) {
  Value tid = ptx.threadId();
  Value warpgroup = ptx.div(tid, 128);
  Value m0, n0;
  std::tie(m0, n0) = getTileOrigin(ptx, p, t);

  EpilogueOperands out = getGemmEpilogueOperands(ptx, epilogue, p, args);
  Value shared = ptx.sharedBase(module);
  // This warpgroup's 64 rows of the A tile (8 KiB, so 1024-byte aligned
  // like the stage: the swizzle pattern starts on its boundary).
  Value aRows = ptx.mul(warpgroup, kWarpgroupRows * t.getRowBytes());
  if (!t.tma) {
    StageRing ring(ptx, p, t, tid, shared, ptx.globalBase(args[0]),
                   ptx.globalBase(args[1]), m0, n0);
    store(multiply(ring, aRows), tid, m0, n0, out);
    return;
  }
  // The tensor maps are the last two arguments; the producer warpgroup
  // follows the consumers.
  int64_t consumers = 128 * (t.blockM / kWarpgroupRows);
  Value leader = t.producerWarpgroup
                     ? arith::CmpIOp::create(ptx.b, arith::CmpIPredicate::eq,
                                             tid, ptx.c32(consumers))
                           .getResult()
                     : ptx.ult(tid, 1);
  TensorMapRing ring(ptx, p, t, tid, leader, shared,
                     ptx.toGeneric(ptx.globalBase(args[args.size() - 2])),
                     ptx.toGeneric(ptx.globalBase(args.back())), m0, n0);
  if (!t.producerWarpgroup)
    store(multiply(ring, aRows), tid, m0, n0, out);
  else
    buildWarpSpecialized(ring, tid, leader, aRows, m0, n0, out);
  ring.leaveCluster();
}

void WgmmaGenerator::buildWarpSpecialized(TensorMapRing &ring, Value tid,
                                          Value leader, Value aRows, Value m0,
                                          Value n0,
                                          const EpilogueOperands &out) {
  int64_t consumers = 128 * (t.blockM / kWarpgroupRows);
  int64_t kTiles = ring.getKTiles();
  // Persistent: this CTA's tiles are blockIdx.x, + grid, ...; the grid is
  // never larger than the tiles, so each CTA has at least one.
  int64_t grid = 0;
  Value first, ownTiles, slices = ptx.c32(kTiles);
  if (t.persistentCtas) {
    int64_t tiles = getOutputTiles(p, t);
    grid = getGridCtas(p, t);
    first = ptx.blockId(gpu::Dimension::x);
    ownTiles = ptx.div(
        arith::SubIOp::create(ptx.b, ptx.c32(tiles + grid - 1), first), grid);
    slices = ptx.mul(ownTiles, kTiles);
    ring.loopOverTiles(first, grid, slices);
  }
  ring.issuePrologue(0);
  // setmaxnreg is per warpgroup: all its warps execute it.
  int64_t consumerRegisters = t.getConsumerRegisters();
  Value producer = ptx.ult(ptx.c32(consumers - 1), tid);
  ptx.ifThen(producer, [&] {
    if (consumerRegisters)
      ptx.setMaxRegisters(MmaTiling::kProducerRegisters, /*increase=*/false);
    ptx.ifThen(leader, [&] {
      // Loads run as far ahead as the stages' releases allow.
      ptx.forLoop(ptx.c32(0), slices, 1, {},
                  [&](Value slice, ValueRange) -> SmallVector<Value> {
                    ring.refill(slice);
                    return {};
                  });
    });
  });
  ptx.ifThen(ptx.ult(tid, consumers), [&] {
    if (consumerRegisters)
      ptx.setMaxRegisters(consumerRegisters, /*increase=*/true);
    if (!t.persistentCtas) {
      store(multiply(ring, aRows), tid, m0, n0, out);
      return;
    }
    ptx.forLoop(ptx.c32(0), ownTiles, 1, {},
                [&](Value i, ValueRange) -> SmallVector<Value> {
                  SmallVector<Value> acc =
                      multiply(ring, aRows, ptx.mul(i, kTiles));
                  // Where the tile goes, only now: nothing of the epilogue
                  // is live across the K loop beside the accumulators. Where
                  // LLVM can prove a CTA's tiles share their columns, it
                  // would hoist the bias and output addresses of every
                  // column out of the tile loop (~100 registers): the tile
                  // is opaque to it.
                  Value tile = ptx.opaque(ptx.add(first, ptx.mul(i, grid)));
                  auto [rows, cols] = getTileOrigin(ptx, p, t, tile);
                  store(acc, tid, rows, cols, out);
                  return {};
                });
  });
}

void WgmmaGenerator::store(ArrayRef<Value> acc, Value tid, Value m0, Value n0,
                           const EpilogueOperands &out) {
  // Accumulator 4j + i: row (warp in group) * 16 + lane / 4 (+ 8 for i >=
  // 2), column 8j + 2 (lane % 4) + i % 2, as mma.sync's m16n8 tiles.
  Value warpgroup = ptx.div(tid, 128);
  Value warp = ptx.rem(ptx.div(tid, 32), 4);
  Value lane = ptx.rem(tid, 32);
  Value row = ptx.add(ptx.add(ptx.add(m0, ptx.mul(warpgroup, kWarpgroupRows)),
                              ptx.mul(warp, 16)),
                      ptx.div(lane, 4));
  Value colBase = ptx.add(n0, ptx.mul(ptx.rem(lane, 4), 2));
  for (int64_t j = 0; j < t.blockN / 8; ++j) {
    storeAccumulatorFragment(ptx, epilogue, out, p.m, p.n, row,
                             ptx.add(colBase, j * 8), acc.slice(4 * j, 4));
  }
}

SmallVector<TensorMapSpec, 2>
mlir::quilt::nvptx::getWgmmaTensorMaps(const GemmProblem &problem,
                                       const MmaTiling &tiling, Type element,
                                       int64_t arguments) {
  // x[M][K] and W^T[N][K], K contiguous: 64-element (128-byte) rows.
  return {{arguments - 2,
           0,
           element,
           {problem.k, problem.m},
           {tiling.blockK, tiling.blockM},
           128},
          {arguments - 1,
           1,
           element,
           {problem.k, problem.n},
           // In a cluster each CTA loads its share of the slice's rows.
           {tiling.blockK, tiling.blockN / tiling.clusterM},
           128}};
}

KernelLaunch mlir::quilt::nvptx::buildWgmmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const GemmProblem &problem, const Epilogue &epilogue,
    const MmaTiling &tiling, ArrayRef<Type> argumentTypes) {
  return buildTileKernel(
      builder, loc, module, name, argumentTypes, problem, tiling,
      [&](PtxBuilder &ptx, ValueRange args) {
        WgmmaGenerator(ptx, problem, epilogue, tiling).build(module, args);
      });
}
