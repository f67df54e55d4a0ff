//===- GroupedGemm.cpp - Many small GEMMs in one loop nest ------*- C++ -*-===//
//
// Loop nest:
//
//   parallel   chunk of groups (one per thread)
//     for      group g                       W_g (k x n) stays in L1
//       for    register tile of up to 12 rows
//         for  32-column panel of W_g
//
// The microkernel is the dense one's (rows x 2 accumulators of 16 lanes,
// two B vectors loaded per 32-bit word of K, one A element broadcast per
// row) over the whole k of the group, so the tile is written once, after
// the scale and bias, with no partial sums in memory. bf16 and int8 words
// are widened in registers.
//
//===----------------------------------------------------------------------===//

#include "GroupedGemm.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kLanes = 16;
constexpr int64_t kPanel = CPUWeightLayout::kPanelWidth;
constexpr int64_t kVectors = kPanel / kLanes;
} // namespace

int64_t cpu::balancedTileRows(std::optional<int64_t> staticM, int64_t maxRows) {
  if (!staticM || *staticM <= 0)
    return maxRows;
  int64_t tiles = (*staticM + maxRows - 1) / maxRows;
  return (*staticM + tiles - 1) / tiles;
}

SmallVector<Value> cpu::widenWords(OpBuilder &b, Location loc,
                                   CPUWeightEncoding encoding, Value words) {
  if (encoding == CPUWeightEncoding::F32)
    return {words};
  int64_t lanes = cast<VectorType>(words.getType()).getNumElements();
  auto i32Vec = VectorType::get({lanes}, b.getI32Type());
  auto f32Vec = VectorType::get({lanes}, b.getF32Type());
  auto splat = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(
        b, loc, i32Vec,
        DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(value)));
  };
  SmallVector<Value> out;
  if (encoding == CPUWeightEncoding::BF16Pairs) {
    // A bf16 is the top half of an f32.
    out.push_back(vector::BitCastOp::create(
        b, loc, f32Vec, arith::ShLIOp::create(b, loc, words, splat(16))));
    out.push_back(vector::BitCastOp::create(
        b, loc, f32Vec,
        arith::AndIOp::create(b, loc, words, splat(int32_t(0xFFFF0000)))));
    return out;
  }
  // An int8 is sign-extended out of its byte with two shifts.
  for (int64_t s = 0; s < 4; ++s) {
    Value bits = words;
    if (s != 3)
      bits = arith::ShLIOp::create(b, loc, words, splat(24 - 8 * s));
    bits = arith::ShRSIOp::create(b, loc, bits, splat(24));
    out.push_back(arith::SIToFPOp::create(b, loc, f32Vec, bits));
  }
  return out;
}

namespace {

struct GroupedEmitter {
  OpBuilder &b;
  Location loc;
  const GroupedGemm &gemm;
  Value words;  // memref<? x f32|i32>: the weight bytes as 32-bit words
  Value floats; // memref<? x f32>: the same bytes (scales)

  Value idx(int64_t v) { return indexConst(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, idx(y)); }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : arith::MulIOp::create(b, loc, x, idx(y)).getResult();
  }
  Value zeroVec() {
    auto type = VectorType::get({kLanes}, b.getF32Type());
    return arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
  }

  /// acc[i * 2 + v] += A(row0 + i, g, kw * kStep + s) * W_g[kw][panel lanes]
  /// for the first `subSteps` sub-steps of word `kw`.
  void step(MutableArrayRef<Value> acc, int64_t rows, Value row0, Value aCol0,
            Value panelWord0, Value kw, int64_t subSteps) {
    const CPUWeightLayout &w = gemm.block;
    auto wordType = cast<MemRefType>(words.getType()).getElementType();
    auto loadType = VectorType::get({kLanes}, wordType);
    Value word0 = add(panelWord0, mul(kw, kPanel));
    SmallVector<SmallVector<Value>> bv(w.kStep);
    for (int64_t v = 0; v < kVectors; ++v) {
      Value vec = vector::LoadOp::create(b, loc, loadType, words,
                                         add(word0, v * kLanes));
      SmallVector<Value> wide = widenWords(b, loc, w.encoding, vec);
      for (int64_t s = 0; s < w.kStep; ++s)
        bv[s].push_back(wide[s]);
    }
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    Value aColKw = add(aCol0, mul(kw, w.kStep * gemm.a.elemStride));
    for (int64_t i = 0; i < rows; ++i) {
      Value row = add(row0, i);
      for (int64_t s = 0; s < subSteps; ++s) {
        Value col = add(aColKw, s * gemm.a.elemStride);
        Value scalar =
            memref::LoadOp::create(b, loc, gemm.a.memref, ValueRange{row, col});
        Value a = vector::BroadcastOp::create(b, loc, f32Vec, scalar);
        for (int64_t v = 0; v < kVectors; ++v) {
          Value &slot = acc[i * kVectors + v];
          slot = vector::FMAOp::create(b, loc, a, bv[s][v], slot);
        }
      }
    }
  }

  /// The tile's accumulators over the whole k of group g.
  SmallVector<Value> accumulate(int64_t rows, Value row0, Value aCol0,
                                Value panelWord0) {
    const CPUWeightLayout &w = gemm.block;
    int64_t perSet = rows * kVectors;
    // Independent sums hide the FMA latency when rows are few.
    int64_t sets = rows == 1 ? 4 : rows == 2 ? 2 : 1;
    int64_t fullWords = w.rows / w.kStep;
    int64_t tailSteps = w.rows % w.kStep;
    sets = std::max<int64_t>(1, std::min(sets, fullWords));
    int64_t mainWords = fullWords / sets * sets;
    SmallVector<Value> init(perSet * sets, zeroVec());
    SmallVector<Value> acc = init;
    if (mainWords > 0) {
      auto loop = scf::ForOp::create(
          b, loc, idx(0), idx(mainWords), idx(sets), init,
          [&](OpBuilder &, Location, Value kw, ValueRange iter) {
            SmallVector<Value> next(iter);
            for (int64_t u = 0; u < sets; ++u)
              step(MutableArrayRef<Value>(next).slice(u * perSet, perSet), rows,
                   row0, aCol0, panelWord0, add(kw, u), w.kStep);
            scf::YieldOp::create(b, loc, next);
          });
      acc.assign(loop.getResults().begin(), loop.getResults().end());
    }
    SmallVector<Value> sum(acc.begin(), acc.begin() + perSet);
    for (int64_t u = 1; u < sets; ++u)
      for (int64_t j = 0; j < perSet; ++j)
        sum[j] = arith::AddFOp::create(b, loc, sum[j], acc[u * perSet + j]);
    for (int64_t kw = mainWords; kw < fullWords; ++kw)
      step(sum, rows, row0, aCol0, panelWord0, idx(kw), w.kStep);
    if (tailSteps > 0)
      step(sum, rows, row0, aCol0, panelWord0, idx(fullWords), tailSteps);
    return sum;
  }

  void epilogue(ArrayRef<Value> acc, int64_t rows, Value row0, Value g,
                Value panel, Value scaleWord0) {
    const CPUWeightLayout &w = gemm.block;
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    Value n = idx(w.cols);
    Value cCol0 = mul(g, gemm.c.groupStride);
    Value panelCol = mul(panel, kPanel);
    for (int64_t v = 0; v < kVectors; ++v) {
      Value col = add(panelCol, v * kLanes);
      Value mask = tailMask(b, loc, col, n, kLanes);
      Value scale, bias;
      if (w.encoding == CPUWeightEncoding::I8Quads)
        scale = vector::LoadOp::create(b, loc, f32Vec, floats,
                                       add(scaleWord0, col));
      if (gemm.bias)
        bias = vector::MaskedLoadOp::create(
            b, loc, f32Vec, gemm.bias, ValueRange{add(mul(g, w.cols), col)},
            mask, zeroVec());
      Value cCol = add(cCol0, col);
      for (int64_t i = 0; i < rows; ++i) {
        Value value = acc[i * kVectors + v];
        if (scale)
          value = arith::MulFOp::create(b, loc, value, scale);
        if (bias)
          value = arith::AddFOp::create(b, loc, value, bias);
        Value row = add(row0, i);
        vector::MaskedStoreOp::create(b, loc, gemm.c.memref,
                                      ValueRange{row, cCol}, mask, value);
      }
    }
  }

  void tile(int64_t rows, Value row0, Value g, Value groupWord0, Value panel) {
    const CPUWeightLayout &w = gemm.block;
    Value aCol0 = mul(g, gemm.a.groupStride);
    Value panelWord0 = add(groupWord0, mul(panel, w.kWords * kPanel));
    SmallVector<Value> acc = accumulate(rows, row0, aCol0, panelWord0);
    epilogue(acc, rows, row0, g, panel, add(groupWord0, w.scalesOffset / 4));
  }
};

} // namespace

void cpu::emitGroupedGemm(OpBuilder &b, Location loc, const GroupedGemm &gemm) {
  const CPUWeightLayout &w = gemm.block;
  assert(gemm.weightOffset % 4 == 0 && gemm.groupBytes % 4 == 0);
  assert(gemm.c.elemStride == 1 && "C is written in whole vectors");
  Value numBytes = memref::DimOp::create(b, loc, gemm.bytes, 0);
  Value numWords =
      arith::DivUIOp::create(b, loc, numBytes, indexConst(b, loc, 4));
  Type wordType = w.encoding == CPUWeightEncoding::F32 ? (Type)b.getF32Type()
                                                       : (Type)b.getI32Type();
  Value words =
      viewAs(b, loc, gemm.bytes, 0,
             MemRefType::get({ShapedType::kDynamic}, wordType), numWords);
  Value floats = words;
  if (w.encoding != CPUWeightEncoding::F32)
    floats = viewAs(b, loc, gemm.bytes, 0,
                    MemRefType::get({ShapedType::kDynamic}, b.getF32Type()),
                    numWords);
  GroupedEmitter emitter{b, loc, gemm, words, floats};

  int64_t tileRows = balancedTileRows(gemm.staticM, gemm.maxTileRows);
  // Leftover rows: one static tile when M is known, else rows one at a time.
  int64_t tailRows = gemm.staticM ? *gemm.staticM % tileRows : 1;
  int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(gemm.threads, gemm.groups));
  int64_t perChunk = (gemm.groups + chunks - 1) / chunks;
  chunks = (gemm.groups + perChunk - 1) / perChunk;

  Value c0 = indexConst(b, loc, 0);
  auto chunk = [&](Value t) {
    Value g0 = emitter.mul(t, perChunk);
    Value g1 = arith::MinUIOp::create(b, loc, emitter.add(g0, perChunk),
                                      indexConst(b, loc, gemm.groups));
    Value full;
    if (gemm.staticM)
      full = indexConst(b, loc, *gemm.staticM / tileRows * tileRows);
    else
      full = emitter.mul(
          arith::DivUIOp::create(b, loc, gemm.m, indexConst(b, loc, tileRows)),
          tileRows);
    forLoop(b, loc, g0, g1, 1, [&](OpBuilder &, Location, Value g) {
      Value groupWord0 = emitter.add(emitter.mul(g, gemm.groupBytes / 4),
                                     gemm.weightOffset / 4);
      auto rowTiles = [&](Value r0, Value r1, int64_t rows) {
        forLoop(b, loc, r0, r1, rows, [&](OpBuilder &, Location, Value r) {
          forLoop(b, loc, c0, indexConst(b, loc, w.panels), 1,
                  [&](OpBuilder &, Location, Value panel) {
                    emitter.tile(rows, r, g, groupWord0, panel);
                  });
        });
      };
      rowTiles(c0, full, tileRows);
      if (tailRows > 0)
        rowTiles(full, gemm.m, tailRows);
    });
  };
  // One chunk: no parallel region (callers may already be in one).
  if (chunks == 1) {
    chunk(c0);
    return;
  }
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{indexConst(b, loc, chunks)},
      ValueRange{indexConst(b, loc, 1)},
      [&](OpBuilder &, Location, ValueRange ivs) { chunk(ivs[0]); });
}

namespace {
/// `bytes[offset, offset + size)` as a strided 1-d memref.
Value byteSlice(OpBuilder &b, Location loc, Value bytes, Value offset,
                int64_t size) {
  SmallVector<OpFoldResult> offsets = {offset}, sizes = {b.getIndexAttr(size)},
                            strides = {b.getIndexAttr(1)};
  return memref::SubViewOp::create(b, loc, bytes, offsets, sizes, strides);
}
} // namespace

void cpu::packBlockAt(OpBuilder &b, Location loc, Value w, Value bytes,
                      Value byteOffset, const CPUWeightLayout &layout) {
  // Packing runs once per weight: a staging buffer keeps emitWeightPacking's
  // static offsets.
  Value staging = allocBytes(b, loc, b.getIndexAttr(layout.totalBytes));
  emitWeightPacking(b, loc, w, staging, 0, layout);
  memref::CopyOp::create(
      b, loc, staging, byteSlice(b, loc, bytes, byteOffset, layout.totalBytes));
}

void cpu::unpackBlockAt(OpBuilder &b, Location loc, Value bytes,
                        Value byteOffset, Value w,
                        const CPUWeightLayout &layout) {
  Value staging = allocBytes(b, loc, b.getIndexAttr(layout.totalBytes));
  memref::CopyOp::create(
      b, loc, byteSlice(b, loc, bytes, byteOffset, layout.totalBytes), staging);
  emitWeightUnpacking(b, loc, staging, 0, w, layout);
}
