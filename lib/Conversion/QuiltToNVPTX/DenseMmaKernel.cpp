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
// the stored W^T[N][K]); 16-byte chunks of a row are XOR-swizzled so that
// the eight rows one ldmatrix reads fall in eight different bank groups.
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
  if ((blockM * getRowBytes() / 16) % getThreads() ||
      (blockN * getRowBytes() / 16) % getThreads())
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

/// The per-thread parts of a tile's cp.async copies that do not change
/// along K: where each of the thread's chunks lands in shared memory and
/// where its row starts in global memory.
struct TileCopy {
  SmallVector<Value> sharedOffset; // i32, within the tile
  SmallVector<Value> rowStart;     // !llvm.ptr<1>
  SmallVector<Value> rowValid;     // i1
  SmallVector<Value> chunkColumn;  // i32, the chunk's first K index
};

class DenseMmaGenerator {
public:
  DenseMmaGenerator(PtxBuilder &ptx, const GemmProblem &problem,
                    const Epilogue &epilogue, const MmaTiling &tiling)
      : ptx(ptx), p(problem), epilogue(epilogue), t(tiling),
        int8(problem.element == MmaElement::S8), width(t.elementBytes) {}

  void build(gpu::GPUModuleOp module, ValueRange args);

private:
  int64_t chunksPerRow() const { return t.getRowBytes() / 16; }
  /// mma steps per slice: 32 bytes of K each (k16 f16, k32 s8).
  int64_t kSteps() const { return t.getRowBytes() / 32; }
  /// The XOR applied to a row's chunk index (rows of one 128-byte line
  /// share it).
  Value swizzle(Value row) {
    int64_t rowsPerLine = std::max<int64_t>(1, 128 / t.getRowBytes());
    return ptx.rem(ptx.div(row, rowsPerLine), chunksPerRow());
  }

  TileCopy planCopy(Value base, Value firstRow, int64_t rows, int64_t limit);
  void issueCopy(const TileCopy &copy, Value tileShared, Value k0);
  SmallVector<Value> computeStage(Value stage, ValueRange acc);

  PtxBuilder &ptx;
  const GemmProblem &p;
  const Epilogue &epilogue;
  const MmaTiling &t;
  bool int8;
  int64_t width; // bytes per element
  Value tid, lane, warpM, warpN;
  // ldmatrix offsets within a stage (B's include the A tile before it),
  // per (fragment tile, k16 step).
  SmallVector<SmallVector<Value>> aOffsets, bOffsets;
};

} // namespace

TileCopy DenseMmaGenerator::planCopy(Value base, Value firstRow, int64_t rows,
                                     int64_t limit) {
  TileCopy copy;
  int64_t chunks = rows * chunksPerRow();
  for (int64_t i = 0; i < chunks / t.getThreads(); ++i) {
    Value index = ptx.add(tid, i * t.getThreads());
    Value row = ptx.div(index, chunksPerRow());
    Value chunk = ptx.rem(index, chunksPerRow());
    copy.sharedOffset.push_back(
        ptx.add(ptx.mul(row, t.getRowBytes()),
                ptx.mul(ptx.xorI(chunk, swizzle(row)), 16)));
    Value globalRow = ptx.add(firstRow, row);
    Value valid = ptx.ult(globalRow, limit);
    // Out-of-range rows read nothing but still need a valid address.
    Value safeRow = ptx.select(valid, globalRow, ptx.c32(0));
    Value element = ptx.add(ptx.mul(safeRow, p.k), ptx.mul(chunk, 16 / width));
    copy.rowStart.push_back(ptx.offset(base, ptx.byteOffset(element, width)));
    copy.rowValid.push_back(valid);
    copy.chunkColumn.push_back(ptx.mul(chunk, 16 / width));
  }
  return copy;
}

void DenseMmaGenerator::issueCopy(const TileCopy &copy, Value tileShared,
                                  Value k0) {
  for (auto [i, sharedOffset] : llvm::enumerate(copy.sharedOffset)) {
    Value k = ptx.add(k0, copy.chunkColumn[i]);
    Value valid = ptx.andB(copy.rowValid[i], ptx.ult(k, p.k));
    Value kBytes = ptx.byteOffset(ptx.select(valid, k0, ptx.c32(0)), width);
    ptx.copyAsync16(ptx.offset(tileShared, sharedOffset),
                    ptx.offset(copy.rowStart[i], kBytes),
                    ptx.select(valid, ptx.c32(16), ptx.c32(0)));
  }
}

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
  ImplicitLocOpBuilder &b = ptx.b;
  int64_t mTiles = t.blockM / t.warpsM / 16, nTiles = t.blockN / t.warpsN / 8;
  int64_t warpTileM = t.blockM / t.warpsM, warpTileN = t.blockN / t.warpsN;

  tid = ptx.threadId();
  lane = ptx.rem(tid, 32);
  Value warp = ptx.div(tid, 32);
  warpM = ptx.rem(warp, t.warpsM);
  warpN = ptx.div(warp, t.warpsM);

  // Grouped tile order (Triton's GROUP_M): consecutive CTAs share weight
  // columns and sweep 8 row tiles, so tiles are reused from L2.
  int64_t tilesM = llvm::divideCeil(p.m, t.blockM);
  int64_t tilesN = llvm::divideCeil(p.n, t.blockN);
  int64_t groupM = std::min<int64_t>(8, tilesM);
  Value pid = ptx.blockId(gpu::Dimension::x);
  Value group = ptx.div(pid, groupM * tilesN);
  Value firstM = ptx.mul(group, groupM);
  Value groupRows = ptx.minU(ptx.c32(groupM),
                             arith::SubIOp::create(b, ptx.c32(tilesM), firstM));
  Value inGroup = ptx.rem(pid, groupM * tilesN);
  Value tileM = ptx.add(firstM, arith::RemUIOp::create(b, inGroup, groupRows));
  Value tileN = arith::DivUIOp::create(b, inGroup, groupRows);
  Value m0 = ptx.mul(tileM, t.blockM), n0 = ptx.mul(tileN, t.blockN);

  Value x = ptx.globalBase(args[0]), w = ptx.globalBase(args[1]);
  EpilogueOperands out;
  unsigned next = 2;
  if (epilogue.biasType)
    out.bias = ptx.globalBase(args[next++]);
  if (epilogue.residual)
    out.residual = ptx.globalBase(args[next++]);
  out.output = ptx.globalBase(args[next]);
  if (epilogue.dequantize) {
    // The scales follow the values (Int8Layout).
    out.rowScales = ptx.offset(
        x, arith::ConstantIntOp::create(b, ptx.i64, p.m * p.k).getResult());
    out.colScales = ptx.offset(
        w, arith::ConstantIntOp::create(b, ptx.i64, p.n * p.k).getResult());
  }

  Value shared = ptx.sharedBase(module);
  int64_t tileABytes = t.blockM * t.getRowBytes();
  int64_t stageBytes = (t.blockM + t.blockN) * t.getRowBytes();
  TileCopy copyA = planCopy(x, m0, t.blockM, p.m);
  TileCopy copyB = planCopy(w, n0, t.blockN, p.n);

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
                  ptx.c32(tileABytes)));
    }
  }

  int64_t kTiles = llvm::divideCeil(p.k, t.blockK);
  auto issueTile = [&](Value kTile, Value stage) {
    Value stageBase = ptx.offset(shared, ptx.mul(stage, stageBytes));
    Value k0 = ptx.mul(kTile, t.blockK);
    issueCopy(copyA, stageBase, k0);
    issueCopy(copyB, ptx.offset(stageBase, ptx.c32(tileABytes)), k0);
  };
  // Prologue: the first stages - 1 tiles in flight.
  for (int64_t s = 0; s + 1 < t.stages; ++s) {
    if (s < kTiles)
      issueTile(ptx.c32(s), ptx.c32(s));
    ptx.commitGroup();
  }

  SmallVector<Value> zeros(mTiles * nTiles * 4,
                           int8 ? ptx.c32(0) : ptx.cf32(0.0f));
  SmallVector<Value> acc = ptx.forLoop(
      ptx.c32(0), ptx.c32(kTiles), 1, zeros,
      [&](Value kTile, ValueRange carried) -> SmallVector<Value> {
        // Tile kTile has landed (at most stages - 2 younger groups are
        // pending) and every warp is done with the stage refilled below.
        ptx.waitGroup(t.stages - 2);
        ptx.barrier();
        Value ahead = ptx.add(kTile, t.stages - 1);
        ptx.ifThen(ptx.ult(ahead, kTiles),
                   [&] { issueTile(ahead, ptx.rem(ahead, t.stages)); });
        ptx.commitGroup();
        Value stage = ptx.rem(kTile, t.stages);
        return computeStage(ptx.offset(shared, ptx.mul(stage, stageBytes)),
                            carried);
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
      storeAccumulatorPair(ptx, epilogue, out, p.m, p.n, row, col, acc[base],
                           acc[base + 1]);
      storeAccumulatorPair(ptx, epilogue, out, p.m, p.n, ptx.add(row, 8), col,
                           acc[base + 2], acc[base + 3]);
    }
  }
}

KernelLaunch mlir::quilt::nvptx::buildDenseMmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const GemmProblem &problem, const Epilogue &epilogue,
    const MmaTiling &tiling, ArrayRef<Type> argumentTypes) {
  gpu::GPUFuncOp func = createKernel(builder, loc, module, name, argumentTypes,
                                     tiling.getThreads());
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  DenseMmaGenerator(ptx, problem, epilogue, tiling)
      .build(module, func.getArguments());
  gpu::ReturnOp::create(b);

  KernelLaunch launch;
  launch.func = func;
  launch.grid = {int64_t(llvm::divideCeil(problem.m, tiling.blockM) *
                         llvm::divideCeil(problem.n, tiling.blockN)),
                 1, 1};
  launch.threads = tiling.getThreads();
  launch.sharedBytes = tiling.getSharedBytes();
  return launch;
}
