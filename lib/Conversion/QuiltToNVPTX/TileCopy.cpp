//===- TileCopy.cpp - Staging K-contiguous tiles in shared memory -*- C++
//-*-===//
//
// The operands of the tensor-core GEMMs move from global to shared memory
// as 16-byte cp.async chunks, each row of a staged slice XOR-swizzled by
// 16-byte chunk. With 128-byte rows this is the layout both ldmatrix
// (conflict-free: the eight rows one ldmatrix reads fall in eight bank
// groups) and wgmma's 128-byte swizzle mode read.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

Value mlir::quilt::nvptx::swizzleChunk(PtxBuilder &ptx, Value row,
                                       int64_t rowBytes) {
  // Rows of one 128-byte line share the XOR.
  int64_t rowsPerLine = std::max<int64_t>(1, 128 / rowBytes);
  return ptx.rem(ptx.div(row, rowsPerLine), rowBytes / 16);
}

TileCopy mlir::quilt::nvptx::planTileCopy(PtxBuilder &ptx,
                                          const TileShape &shape, Value tid,
                                          int64_t threads, Value base,
                                          Value firstRow, int64_t rows,
                                          int64_t limit) {
  TileCopy copy;
  int64_t chunksPerRow = shape.rowBytes / 16;
  int64_t perChunk = 16 / shape.elementBytes;
  for (int64_t i = 0; i < rows * chunksPerRow / threads; ++i) {
    Value index = ptx.add(tid, i * threads);
    Value row = ptx.div(index, chunksPerRow);
    Value chunk = ptx.rem(index, chunksPerRow);
    copy.sharedOffset.push_back(ptx.add(
        ptx.mul(row, shape.rowBytes),
        ptx.mul(ptx.xorI(chunk, swizzleChunk(ptx, row, shape.rowBytes)), 16)));
    Value globalRow = ptx.add(firstRow, row);
    Value valid = ptx.ult(globalRow, limit);
    // Out-of-range rows read nothing but still need a valid address.
    Value safeRow = ptx.select(valid, globalRow, ptx.c32(0));
    Value element =
        ptx.add(ptx.mul(safeRow, shape.k), ptx.mul(chunk, perChunk));
    copy.rowStart.push_back(
        ptx.offset(base, ptx.byteOffset(element, shape.elementBytes)));
    copy.rowValid.push_back(valid);
    copy.chunkColumn.push_back(ptx.mul(chunk, perChunk));
  }
  return copy;
}

void mlir::quilt::nvptx::issueTileCopy(PtxBuilder &ptx, const TileShape &shape,
                                       const TileCopy &copy, Value tileShared,
                                       Value k0) {
  for (auto [i, sharedOffset] : llvm::enumerate(copy.sharedOffset)) {
    Value k = ptx.add(k0, copy.chunkColumn[i]);
    Value valid = ptx.andB(copy.rowValid[i], ptx.ult(k, shape.k));
    Value kBytes =
        ptx.byteOffset(ptx.select(valid, k0, ptx.c32(0)), shape.elementBytes);
    ptx.copyAsync16(ptx.offset(tileShared, sharedOffset),
                    ptx.offset(copy.rowStart[i], kBytes),
                    ptx.select(valid, ptx.c32(16), ptx.c32(0)));
  }
}

int64_t mlir::quilt::nvptx::getOutputTiles(const GemmProblem &p,
                                           const MmaTiling &t) {
  int64_t tilesM = llvm::divideCeil(p.m, t.blockM * t.clusterM) * t.clusterM;
  return tilesM * llvm::divideCeil(p.n, t.blockN);
}

int64_t mlir::quilt::nvptx::getGridCtas(const GemmProblem &p,
                                        const MmaTiling &t) {
  int64_t tiles = getOutputTiles(p, t);
  // Persistent CTAs come in whole clusters (verified: at least one).
  int64_t persistent = t.persistentCtas / t.clusterM * t.clusterM;
  return persistent ? std::min(tiles, persistent) : tiles;
}

std::pair<Value, Value> mlir::quilt::nvptx::getTileOrigin(PtxBuilder &ptx,
                                                          const GemmProblem &p,
                                                          const MmaTiling &t,
                                                          Value tile) {
  // Grouped tile order (Triton's GROUP_M): consecutive CTAs share weight
  // columns and sweep 8 row tiles, so tiles are reused from L2.
  // A cluster's CTAs take its clusterM row tiles: the order is that of
  // clusterM-times-taller tiles.
  ImplicitLocOpBuilder &b = ptx.b;
  int64_t rowsPerTile = t.blockM * t.clusterM;
  int64_t tilesM = llvm::divideCeil(p.m, rowsPerTile);
  int64_t tilesN = llvm::divideCeil(p.n, t.blockN);
  int64_t groupM =
      std::min<int64_t>(std::max<int64_t>(8 / t.clusterM, 1), tilesM);
  Value cta = tile ? tile : ptx.blockId(gpu::Dimension::x);
  Value pid = t.clusterM > 1 ? ptx.div(cta, t.clusterM) : cta;
  Value group = ptx.div(pid, groupM * tilesN);
  Value firstM = ptx.mul(group, groupM);
  Value groupRows = ptx.minU(ptx.c32(groupM),
                             arith::SubIOp::create(b, ptx.c32(tilesM), firstM));
  Value inGroup = ptx.rem(pid, groupM * tilesN);
  Value tileM = ptx.add(firstM, arith::RemUIOp::create(b, inGroup, groupRows));
  Value tileN = arith::DivUIOp::create(b, inGroup, groupRows);
  Value m0 = ptx.mul(tileM, rowsPerTile);
  if (t.clusterM > 1)
    m0 = ptx.add(m0, ptx.mul(ptx.rem(cta, t.clusterM), t.blockM));
  return {m0, ptx.mul(tileN, t.blockN)};
}

KernelLaunch mlir::quilt::nvptx::getTileLaunch(gpu::GPUFuncOp func,
                                               const GemmProblem &p,
                                               const MmaTiling &t) {
  KernelLaunch launch;
  launch.func = func;
  launch.grid = {getGridCtas(p, t), 1, 1};
  launch.cluster = {t.clusterM, 1, 1};
  launch.threads = t.getThreads();
  launch.sharedBytes = t.getSharedBytes();
  return launch;
}

KernelLaunch mlir::quilt::nvptx::buildTileKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    ArrayRef<Type> argumentTypes, const GemmProblem &p, const MmaTiling &t,
    function_ref<void(PtxBuilder &, ValueRange)> build) {
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, t.getThreads());
  // .reqnctapercluster: launched in clusters of exactly this shape.
  if (t.clusterM > 1)
    func.setKnownClusterSizeAttr(
        builder.getDenseI32ArrayAttr({int32_t(t.clusterM), 1, 1}));
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  build(ptx, func.getArguments());
  gpu::ReturnOp::create(b);
  return getTileLaunch(func, p, t);
}

StageRing::StageRing(PtxBuilder &ptx, const GemmProblem &p, const MmaTiling &t,
                     Value tid, Value shared, Value x, Value w, Value m0,
                     Value n0)
    : ptx(ptx), p(p), t(t), shape{p.k, t.elementBytes, t.getRowBytes()},
      shared(shared), copyA(planTileCopy(ptx, shape, tid, t.getThreads(), x, m0,
                                         t.blockM, p.m)),
      copyB(planTileCopy(ptx, shape, tid, t.getThreads(), w, n0, t.blockN,
                         p.n)) {}

Value StageRing::getStage(Value index) {
  return ptx.offset(shared, ptx.mul(index, t.getStageBytes()));
}

void StageRing::issue(Value kTile, Value stage) {
  Value base = getStage(stage);
  Value k0 = ptx.mul(kTile, t.blockK);
  issueTileCopy(ptx, shape, copyA, base, k0);
  issueTileCopy(ptx, shape, copyB, ptx.offset(base, ptx.c32(getTileABytes())),
                k0);
}

void StageRing::waitForSlice(int64_t ahead) {
  ptx.waitGroup(ahead - 1);
  ptx.fenceProxyAsyncShared();
}

void StageRing::refill(Value kTile) {
  ptx.ifThen(ptx.ult(kTile, getKTiles()),
             [&] { issue(kTile, ptx.rem(kTile, t.stages)); });
  ptx.commitGroup();
}

void StageRing::issuePrologue(int64_t slices) {
  for (int64_t s = 0; s < slices; ++s) {
    if (s < getKTiles())
      issue(ptx.c32(s), ptx.c32(s));
    ptx.commitGroup();
  }
}
