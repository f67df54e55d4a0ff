//===- SparseMmaKernel.cpp - 2:4 sparse tensor-core GEMM --------*- C++ -*-===//
//
// 2:4 sparse 16-bit weights through mma.sp.sync m16n8k32. Only the A
// operand of mma.sp may be sparse, so the kernel computes y^T = W^T x^T:
// the kept weight values W_c[N][K / 2] are A (16 weight columns per mma),
// x[M][K] is B (8 rows per mma), as in the dense kernel both are staged
// through a cp.async ring of shared memory and read with ldmatrix.
//
// Packed layout: W_c row n holds, for every group of 4 K rows, its 2 kept
// values in K order, so an mma's 16 x 16 block of W_c is an ordinary A
// fragment. Metadata: for every 16-column tile and 32-deep K step, 16
// words; word 2g + h is the register lane 4g + h passes to mma.sp (lanes
// 4g + 2 and 4g + 3 read the same word; selector 0 ignores them): its low
// half covers column g, its high half column g + 8, both for K rows
// 16h..16h+15 of the step, one 4-bit nibble per group of 4 rows holding
// the two kept row indices (first in bits 0-1).
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

//===----------------------------------------------------------------------===//
// Packing (setup)
//===----------------------------------------------------------------------===//

KernelLaunch mlir::quilt::nvptx::buildSparsePackKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const SparseLayout &layout, Type elementType,
    ArrayRef<Type> argumentTypes) {
  constexpr int64_t kThreads = 256;
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per metadata word: ((tile * kSteps + step) * 16 + 2g + h),
  // which covers 2 columns x 4 groups and writes their kept values too.
  int64_t kSteps = layout.k / 32;
  int64_t words = layout.n / 16 * kSteps * 16;
  Value index = ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kThreads),
                        ptx.threadId());
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  ptx.ifThen(ptx.ult(index, words), [&] {
    Value h = ptx.rem(index, 2), g = ptx.rem(ptx.div(index, 2), 8);
    Value step = ptx.rem(ptx.div(index, 16), kSteps);
    Value tile = ptx.div(index, 16 * kSteps);
    Value word = ptx.c32(0);
    for (int64_t r = 0; r < 2; ++r) {
      Value col = ptx.add(ptx.add(ptx.mul(tile, 16), g), r * 8);
      for (int64_t j = 0; j < 4; ++j) {
        // Group q: K rows 4q..4q+3.
        Value q = ptx.add(ptx.add(ptx.mul(step, 8), ptx.mul(h, 4)), j);
        SmallVector<Value> w, mag;
        for (int64_t s = 0; s < 4; ++s) {
          Value row = ptx.add(ptx.mul(q, 4), s);
          w.push_back(ptx.load(
              ptx.f32,
              ptx.offset(dense, ptx.byteOffset(
                                    ptx.add(ptx.mul(row, layout.n), col), 4)),
              4));
          mag.push_back(arith::MaximumFOp::create(
              b, w.back(), arith::NegFOp::create(b, w.back())));
        }
        // The reference's rank: members with a larger |w|, or an equal one
        // at a lower row, beat s; the 2 unbeaten-enough are kept.
        SmallVector<Value> keep;
        for (int64_t s = 0; s < 4; ++s) {
          Value rank = ptx.c32(0);
          for (int64_t t = 0; t < 4; ++t) {
            if (t == s)
              continue;
            Value beats = arith::CmpFOp::create(
                b,
                t < s ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT,
                mag[t], mag[s]);
            rank = ptx.add(rank, arith::ExtUIOp::create(b, ptx.i32, beats));
          }
          keep.push_back(ptx.ult(rank, 2));
        }
        Value v0 = w[0], v1 = w[1], nibble = ptx.c32(0 | 1 << 2);
        for (int64_t s0 = 0; s0 < 4; ++s0)
          for (int64_t s1 = s0 + 1; s1 < 4; ++s1) {
            if (s0 == 0 && s1 == 1)
              continue;
            Value pair = ptx.andB(keep[s0], keep[s1]);
            v0 = ptx.select(pair, w[s0], v0);
            v1 = ptx.select(pair, w[s1], v1);
            nibble = ptx.select(pair, ptx.c32(s0 | s1 << 2), nibble);
          }
        Value values = ptx.packPair(ptx.fromF32(v0, elementType),
                                    ptx.fromF32(v1, elementType));
        Value slot = ptx.add(ptx.mul(col, layout.k / 4), q);
        ptx.store(values, ptx.offset(packed, ptx.byteOffset(slot, 4)), 4);
        word = ptx.orI(word, ptx.shl(nibble, 16 * r + 4 * j));
      }
    }
    ptx.store(
        word,
        ptx.offset(packed, arith::AddIOp::create(
                               b, ptx.byteOffset(index, 4),
                               arith::ConstantIntOp::create(
                                   b, ptx.i64, layout.getMetadataOffset()))),
        4);
  });
  gpu::ReturnOp::create(b);
  return {
      func, {int64_t(llvm::divideCeil(words, kThreads)), 1, 1}, kThreads, 0};
}

//===----------------------------------------------------------------------===//
// The GEMM
//===----------------------------------------------------------------------===//

namespace {

/// Shared-memory footprint of one stage: W_c rows (blockK bytes each), x
/// rows (2 * blockK bytes), then the metadata (64 bytes per 16 x 32).
struct SparseStage {
  int64_t xOffset, metaOffset, bytes;
};

SparseStage getSparseStage(const MmaTiling &t) {
  SparseStage s;
  s.xOffset = t.blockN * t.blockK;
  s.metaOffset = s.xOffset + t.blockM * t.blockK * 2;
  s.bytes = s.metaOffset + t.blockN / 16 * t.blockK / 32 * 64;
  return s;
}

/// XOR swizzle of 16-byte chunks within 128-byte lines (see
/// DenseMmaKernel.cpp): rows of `chunks` chunks.
Value swizzle(PtxBuilder &ptx, Value row, int64_t chunks) {
  int64_t rowsPerLine = std::max<int64_t>(1, 8 / chunks);
  return ptx.rem(ptx.div(row, rowsPerLine), chunks);
}

} // namespace

int64_t mlir::quilt::nvptx::getSparseSharedBytes(const MmaTiling &t) {
  return t.stages * getSparseStage(t).bytes;
}

KernelLaunch mlir::quilt::nvptx::buildSparseMmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const GemmProblem &p, const Epilogue &epilogue, const MmaTiling &t,
    ArrayRef<Type> argumentTypes) {
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, t.getThreads());
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  SparseLayout layout{p.k, p.n};
  SparseStage stage = getSparseStage(t);
  int64_t threads = t.getThreads();
  int64_t aChunks = t.blockK / 16, xChunks = t.blockK / 8;
  int64_t warpTileM = t.blockM / t.warpsM, warpTileN = t.blockN / t.warpsN;
  int64_t aTiles = warpTileN / 16, xTiles = warpTileM / 8;
  int64_t steps = t.blockK / 32;

  Value tid = ptx.threadId();
  Value lane = ptx.rem(tid, 32), warp = ptx.div(tid, 32);
  Value warpM = ptx.rem(warp, t.warpsM), warpN = ptx.div(warp, t.warpsM);
  Value m0, n0;
  std::tie(m0, n0) = getTileOrigin(ptx, p, t);

  Value x = ptx.globalBase(func.getArgument(0));
  Value w = ptx.globalBase(func.getArgument(1));
  EpilogueOperands out =
      getEpilogueOperands(ptx, epilogue, func.getArguments());
  Value meta = ptx.offset(
      w, arith::ConstantIntOp::create(b, ptx.i64, layout.getMetadataOffset()));

  // The thread's cp.async chunks: (shared offset in the stage, global
  // source at k0 = 0, bytes per k0 step scale, valid).
  struct Chunk {
    Value shared, src, valid;
    int64_t bytesPerK; // source bytes per K row of k0
    Value exists;      // null, or whether this thread has the chunk at all
  };
  SmallVector<Chunk> chunks;
  auto plan = [&](int64_t count, auto &&make) {
    for (int64_t i = 0, e = llvm::divideCeil(count, threads); i < e; ++i) {
      Value c = ptx.add(tid, i * threads);
      Chunk chunk = make(c);
      // A thread past the last chunk copies nothing (its slot would lie
      // past the stage).
      if ((i + 1) * threads > count)
        chunk.exists = ptx.ult(c, count);
      chunks.push_back(chunk);
    }
  };
  // W_c: blockN rows x aChunks.
  plan(t.blockN * aChunks, [&](Value c) {
    Value row = ptx.div(c, aChunks), part = ptx.rem(c, aChunks);
    Value n = ptx.add(n0, row);
    Value ok = ptx.ult(n, p.n);
    Value safe = ptx.select(ok, n, ptx.c32(0));
    Value element = ptx.add(ptx.mul(safe, p.k / 2), ptx.mul(part, 8));
    return Chunk{
        ptx.add(ptx.mul(row, t.blockK),
                ptx.mul(ptx.xorI(part, swizzle(ptx, row, aChunks)), 16)),
        ptx.offset(w, ptx.byteOffset(element, 2)), ok, 1, Value()};
  });
  // x: blockM rows x xChunks.
  plan(t.blockM * xChunks, [&](Value c) {
    Value row = ptx.div(c, xChunks), part = ptx.rem(c, xChunks);
    Value token = ptx.add(m0, row);
    Value ok = ptx.ult(token, p.m);
    Value safe = ptx.select(ok, token, ptx.c32(0));
    Value element = ptx.add(ptx.mul(safe, p.k), ptx.mul(part, 8));
    return Chunk{
        ptx.add(
            ptx.add(ptx.mul(row, t.blockK * 2),
                    ptx.mul(ptx.xorI(part, swizzle(ptx, row, xChunks)), 16)),
            ptx.c32(stage.xOffset)),
        ptx.offset(x, ptx.byteOffset(element, 2)), ok, 2, Value()};
  });
  // Metadata: per 16-column tile, steps x 64 contiguous bytes.
  int64_t kSteps = p.k / 32;
  plan(t.blockN / 16 * steps * 4, [&](Value c) {
    Value tile = ptx.div(c, steps * 4), part = ptx.rem(c, steps * 4);
    Value globalTile = ptx.add(ptx.div(n0, 16), tile);
    Value ok = ptx.ult(globalTile, p.n / 16);
    Value safe = ptx.select(ok, globalTile, ptx.c32(0));
    Value offset =
        ptx.add(ptx.mul(ptx.mul(safe, kSteps), 64), ptx.mul(part, 16));
    return Chunk{ptx.add(ptx.add(ptx.mul(tile, steps * 64), ptx.mul(part, 16)),
                         ptx.c32(stage.metaOffset)),
                 ptx.offset(meta, ptx.byteOffset(offset, 1)), ok, 0, Value()};
  });

  Value shared = ptx.sharedBase(module);
  int64_t kTiles = p.k / t.blockK;
  auto issueTile = [&](Value kTile, Value slot) {
    Value base = ptx.offset(shared, ptx.mul(slot, stage.bytes));
    for (const Chunk &chunk : chunks) {
      // Metadata advances 64 bytes per K step, values K / 2 halves, x K.
      Value step = chunk.bytesPerK ? ptx.mul(kTile, t.blockK * chunk.bytesPerK)
                                   : ptx.mul(kTile, steps * 64);
      auto copy = [&] {
        ptx.copyAsync16(ptx.offset(base, chunk.shared),
                        ptx.offset(chunk.src, ptx.byteOffset(step, 1)),
                        ptx.select(chunk.valid, ptx.c32(16), ptx.c32(0)));
      };
      if (chunk.exists)
        ptx.ifThen(chunk.exists, copy);
      else
        copy();
    }
  };
  for (int64_t s = 0; s + 1 < t.stages; ++s) {
    if (s < kTiles)
      issueTile(ptx.c32(s), ptx.c32(s));
    ptx.commitGroup();
  }

  // ldmatrix offsets within a stage. A: 16 rows x 2 chunks per K step;
  // x: 8 rows x 4 chunks per K step.
  Value aRow = ptx.add(ptx.mul(warpN, warpTileN), ptx.rem(lane, 16));
  SmallVector<SmallVector<Value>> aOffsets, xOffsets, metaOffsets;
  for (int64_t mi = 0; mi < aTiles; ++mi) {
    aOffsets.emplace_back();
    metaOffsets.emplace_back();
    Value row = ptx.add(aRow, mi * 16);
    for (int64_t kk = 0; kk < steps; ++kk) {
      Value part = ptx.add(ptx.div(lane, 16), kk * 2);
      aOffsets.back().push_back(
          ptx.add(ptx.mul(row, t.blockK),
                  ptx.mul(ptx.xorI(part, swizzle(ptx, row, aChunks)), 16)));
      Value tile = ptx.add(ptx.mul(warpN, warpTileN / 16), mi);
      Value wordIndex = ptx.add(ptx.mul(ptx.div(lane, 4), 2), ptx.rem(lane, 2));
      metaOffsets.back().push_back(
          ptx.add(ptx.add(ptx.mul(tile, steps * 64),
                          ptx.c32(kk * 64 + stage.metaOffset)),
                  ptx.mul(wordIndex, 4)));
    }
  }
  for (int64_t ni = 0; ni < xTiles; ++ni) {
    xOffsets.emplace_back();
    Value row =
        ptx.add(ptx.add(ptx.mul(warpM, warpTileM), ni * 8), ptx.rem(lane, 8));
    for (int64_t kk = 0; kk < steps; ++kk) {
      Value part = ptx.add(ptx.div(lane, 8), kk * 4);
      xOffsets.back().push_back(ptx.add(
          ptx.add(ptx.mul(row, t.blockK * 2),
                  ptx.mul(ptx.xorI(part, swizzle(ptx, row, xChunks)), 16)),
          ptx.c32(stage.xOffset)));
    }
  }

  SmallVector<Value> zeros(
      aTiles * xTiles * 4,
      arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(0.0f)));
  SmallVector<Value> acc = ptx.forLoop(
      ptx.c32(0), ptx.c32(kTiles), 1, zeros,
      [&](Value kTile, ValueRange carried) -> SmallVector<Value> {
        ptx.waitGroup(t.stages - 2);
        ptx.barrier();
        Value ahead = ptx.add(kTile, t.stages - 1);
        ptx.ifThen(ptx.ult(ahead, kTiles),
                   [&] { issueTile(ahead, ptx.rem(ahead, t.stages)); });
        ptx.commitGroup();
        Value base =
            ptx.offset(shared, ptx.mul(ptx.rem(kTile, t.stages), stage.bytes));
        SmallVector<Value> next(carried.begin(), carried.end());
        for (int64_t kk = 0; kk < steps; ++kk) {
          SmallVector<SmallVector<Value, 4>> a, xs;
          SmallVector<Value> metadata;
          for (int64_t mi = 0; mi < aTiles; ++mi) {
            a.push_back(ptx.loadMatrixX4(ptx.offset(base, aOffsets[mi][kk]),
                                         /*transpose=*/false));
            metadata.push_back(
                ptx.load(ptx.i32, ptx.offset(base, metaOffsets[mi][kk]), 4));
          }
          for (int64_t ni = 0; ni < xTiles; ++ni)
            xs.push_back(ptx.loadMatrixX4(ptx.offset(base, xOffsets[ni][kk]),
                                          /*transpose=*/false));
          for (int64_t mi = 0; mi < aTiles; ++mi)
            for (int64_t ni = 0; ni < xTiles; ++ni) {
              int64_t at = (mi * xTiles + ni) * 4;
              SmallVector<Value, 4> d = ptx.mmaSparse16832(
                  p.element, a[mi], xs[ni], ValueRange(next).slice(at, 4),
                  metadata[mi]);
              std::copy(d.begin(), d.end(), next.begin() + at);
            }
        }
        return next;
      });
  ptx.waitGroup(0);

  // Accumulator (mi, ni): weight columns g and g + 8 of the 16, x rows 2t
  // and 2t + 1 of the 8.
  Value g = ptx.div(lane, 4), tq = ptx.rem(lane, 4);
  Value colBase = ptx.add(ptx.add(n0, ptx.mul(warpN, warpTileN)), g);
  Value rowBase =
      ptx.add(ptx.add(m0, ptx.mul(warpM, warpTileM)), ptx.mul(tq, 2));
  for (int64_t mi = 0; mi < aTiles; ++mi)
    for (int64_t ni = 0; ni < xTiles; ++ni) {
      int64_t at = (mi * xTiles + ni) * 4;
      Value col = ptx.add(colBase, mi * 16), row = ptx.add(rowBase, ni * 8);
      for (int64_t c = 0; c < 4; ++c)
        storeAccumulator(ptx, epilogue, out, p.m, p.n, ptx.add(row, c % 2),
                         ptx.add(col, (c / 2) * 8), acc[at + c]);
    }
  gpu::ReturnOp::create(b);

  KernelLaunch launch = getTileLaunch(func, p, t);
  launch.sharedBytes = getSparseSharedBytes(t);
  return launch;
}
