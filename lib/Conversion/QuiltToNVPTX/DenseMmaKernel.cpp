//===- DenseMmaKernel.cpp - Tensor-core GEMM for 16-bit weights -*- C++ -*-===//
//
// One CTA per output tile (Triton's program instance), warps splitting the
// tile, both operands staged through a ring of shared-memory buffers by
// cp.async, fragments read with ldmatrix and multiplied with mma.sync
// m16n8k16 into f32 accumulators, the epilogue applied in registers.
//
// int8 operands move through the same bytes (a 64-byte slice row is 32
// halves or 64 int8): the fragments ldmatrix gives m16n8k16 f16 are those
// of m16n8k32 s8, which sums into i32 accumulators instead.
//
// Shared memory holds each tile row-major with K contiguous (x[M][K] and
// the stored W^T[N][K]), staged and swizzled by TileCopy.cpp.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

std::string MmaTiling::verify() const {
  if (getRowBytes() != 64 && getRowBytes() != 128)
    return elementBytes == 1 ? "int8 block-k must be 64 or 128"
                             : "block-k must be 32 or 64";
  if (warpsM < 1 || warpsN < 1 || blockM % (16 * warpsM) ||
      blockN % (16 * warpsN))
    return "each warp's tile must be a multiple of 16 x 16";
  if (stages < 2)
    return "at least 2 stages are needed";
  // TMA copies whole boxes: no thread has chunks of its own.
  if (!tma && ((blockM * getRowBytes() / 16) % getThreads() ||
               (blockN * getRowBytes() / 16) % getThreads()))
    return "the threads must split the tiles' 16-byte chunks evenly";
  if (getSharedBytes() > 227 * 1024)
    return "the stages need more than 227 KiB of shared memory";
  return "";
}

MmaTiling mlir::quilt::nvptx::chooseDenseTiling(const GemmProblem &problem) {
  MmaTiling tiling;
  // Few rows: a shorter tile wastes fewer mma rows.
  if (problem.m <= 16)
    tiling = {16, 128, 64, 1, 4, 4};
  else if (problem.m <= 64)
    tiling = {64, 128, 32, 2, 2, 4};
  // int8: the same bytes per slice, twice the K.
  if (problem.element == MmaElement::S8) {
    tiling.elementBytes = 1;
    tiling.blockK *= 2;
  }
  return tiling;
}

namespace {

class DenseMmaGenerator {
public:
  DenseMmaGenerator(PtxBuilder &ptx, const GemmProblem &problem,
                    const Epilogue &epilogue, const MmaTiling &tiling)
      : ptx(ptx), p(problem), epilogue(epilogue), t(tiling),
        int8(problem.element == MmaElement::S8) {}

  void build(gpu::GPUModuleOp module, ValueRange args);

private:
  /// mma steps per slice: 32 bytes of K each (k16 f16, k32 s8).
  int64_t kSteps() const { return t.getRowBytes() / 32; }
  Value swizzle(Value row) { return swizzleChunk(ptx, row, t.getRowBytes()); }
  SmallVector<Value> computeStage(Value stage, ValueRange acc);

  PtxBuilder &ptx;
  const GemmProblem &p;
  const Epilogue &epilogue;
  const MmaTiling &t;
  bool int8;
  Value tid, lane, warpM, warpN;
  // ldmatrix offsets within a stage (B's include the A tile before it),
  // per (fragment tile, k16 step).
  SmallVector<SmallVector<Value>> aOffsets, bOffsets;
};

} // namespace

SmallVector<Value> DenseMmaGenerator::computeStage(Value stage,
                                                   ValueRange acc) {
  int64_t mTiles = t.blockM / t.warpsM / 16, nTiles = t.blockN / t.warpsN / 8;
  SmallVector<Value> next(acc.begin(), acc.end());
  for (int64_t kk = 0; kk < kSteps(); ++kk) {
    SmallVector<SmallVector<Value, 4>> a, b;
    for (int64_t mi = 0; mi < mTiles; ++mi)
      a.push_back(ptx.loadMatrixX4(ptx.offset(stage, aOffsets[mi][kk]),
                                   /*transpose=*/false));
    for (int64_t nj = 0; nj < nTiles / 2; ++nj)
      b.push_back(ptx.loadMatrixX4(ptx.offset(stage, bOffsets[nj][kk]),
                                   /*transpose=*/false));
    for (int64_t mi = 0; mi < mTiles; ++mi) {
      for (int64_t ni = 0; ni < nTiles; ++ni) {
        const SmallVector<Value, 4> &pair = b[ni / 2];
        Value bWords[] = {pair[(ni % 2) * 2], pair[(ni % 2) * 2 + 1]};
        int64_t base = (mi * nTiles + ni) * 4;
        ValueRange c = ValueRange(next).slice(base, 4);
        SmallVector<Value, 4> d =
            int8 ? ptx.mmaInt8_16832(a[mi], bWords, c)
                 : ptx.mma16816(p.element, a[mi], bWords, c);
        std::copy(d.begin(), d.end(), next.begin() + base);
      }
    }
  }
  return next;
}

void DenseMmaGenerator::build(gpu::GPUModuleOp module, ValueRange args) {
  int64_t mTiles = t.blockM / t.warpsM / 16, nTiles = t.blockN / t.warpsN / 8;
  int64_t warpTileM = t.blockM / t.warpsM, warpTileN = t.blockN / t.warpsN;

  tid = ptx.threadId();
  lane = ptx.rem(tid, 32);
  Value warp = ptx.div(tid, 32);
  warpM = ptx.rem(warp, t.warpsM);
  warpN = ptx.div(warp, t.warpsM);

  Value m0, n0;
  std::tie(m0, n0) = getTileOrigin(ptx, p, t);

  Value x = ptx.globalBase(args[0]), w = ptx.globalBase(args[1]);
  EpilogueOperands out = getGemmEpilogueOperands(ptx, epilogue, p, args);

  Value shared = ptx.sharedBase(module);
  StageRing ring(ptx, p, t, tid, shared, x, w, m0, n0);

  // ldmatrix addresses: A fragments are 16 rows x (k, k+8); B fragments
  // two n8 tiles x (k, k+8) each, see the mma.sync fragment layouts.
  Value laneRow = ptx.add(ptx.mul(warpM, warpTileM), ptx.rem(lane, 16));
  Value swizzleA = swizzle(laneRow);
  for (int64_t mi = 0; mi < mTiles; ++mi) {
    aOffsets.emplace_back();
    for (int64_t kk = 0; kk < kSteps(); ++kk) {
      Value chunk = ptx.add(ptx.div(lane, 16), kk * 2);
      aOffsets.back().push_back(
          ptx.add(ptx.mul(ptx.add(laneRow, mi * 16), t.getRowBytes()),
                  ptx.mul(ptx.xorI(chunk, swizzleA), 16)));
    }
  }
  Value laneCol = ptx.add(ptx.add(ptx.mul(warpN, warpTileN), ptx.rem(lane, 8)),
                          ptx.mul(ptx.div(lane, 16), 8));
  Value swizzleB = swizzle(laneCol);
  for (int64_t nj = 0; nj < nTiles / 2; ++nj) {
    bOffsets.emplace_back();
    for (int64_t kk = 0; kk < kSteps(); ++kk) {
      Value chunk = ptx.add(ptx.rem(ptx.div(lane, 8), 2), kk * 2);
      bOffsets.back().push_back(
          ptx.add(ptx.add(ptx.mul(ptx.add(laneCol, nj * 16), t.getRowBytes()),
                          ptx.mul(ptx.xorI(chunk, swizzleB), 16)),
                  ptx.c32(ring.getTileABytes())));
    }
  }

  int64_t kTiles = ring.getKTiles();
  ring.issuePrologue(t.getSlicesAhead());

  SmallVector<Value> zeros(mTiles * nTiles * 4,
                           int8 ? ptx.c32(0) : ptx.cf32(0.0f));
  SmallVector<Value> acc = ptx.forLoop(
      ptx.c32(0), ptx.c32(kTiles), 1, zeros,
      [&](Value kTile, ValueRange carried) -> SmallVector<Value> {
        // Tile kTile has landed (at most stages - 2 younger groups are
        // pending) and every warp is done with the stage refilled below.
        ptx.waitGroup(t.stages - 2);
        ptx.barrier();
        ring.refill(ptx.add(kTile, t.stages - 1));
        return computeStage(ring.getStage(ptx.rem(kTile, t.stages)), carried);
      });
  ptx.waitGroup(0);

  // Accumulator (mi, ni): rows lane/4 and lane/4 + 8 of the 16, columns
  // 2 * (lane % 4) and the next of the 8.
  Value rowBase =
      ptx.add(ptx.add(m0, ptx.mul(warpM, warpTileM)), ptx.div(lane, 4));
  Value colBase = ptx.add(ptx.add(n0, ptx.mul(warpN, warpTileN)),
                          ptx.mul(ptx.rem(lane, 4), 2));
  for (int64_t mi = 0; mi < mTiles; ++mi) {
    for (int64_t ni = 0; ni < nTiles; ++ni) {
      int64_t base = (mi * nTiles + ni) * 4;
      Value row = ptx.add(rowBase, mi * 16), col = ptx.add(colBase, ni * 8);
      storeAccumulatorFragment(ptx, epilogue, out, p.m, p.n, row, col,
                               ArrayRef(acc).slice(base, 4));
    }
  }
}

KernelLaunch mlir::quilt::nvptx::buildDenseMmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const GemmProblem &problem, const Epilogue &epilogue,
    const MmaTiling &tiling, ArrayRef<Type> argumentTypes) {
  return buildTileKernel(
      builder, loc, module, name, argumentTypes, problem, tiling,
      [&](PtxBuilder &ptx, ValueRange args) {
        DenseMmaGenerator(ptx, problem, epilogue, tiling).build(module, args);
      });
}
