//===- WeightKernels.cpp - Packing weights into the CPU layouts -*- C++ -*-===//
//
// quilt.pack / quilt.unpack for the formats the CPU kernels read natively
// (see CPUWeightLayout). Packing runs once per weight: scalar loops that
// visit the weight row by row (cache friendly) suffice for f32 and bf16;
// int8, which quantizes and sums, is vectorized over a panel's columns.
// Quantization follows the reference kernels operation for operation
// (scale = absmax / 127, q = clamp(roundeven(w / scale))), so a packed
// weight decodes to exactly what the reference lowering computes.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kPanel = CPUWeightLayout::kPanelWidth;

struct WeightViews {
  Value values; // [P][kWords][32][kStep] of the element type
  Value scales; // [P*32] f32 (int8)
  Value sums;   // [P*32] i32 (int8)
};

WeightViews viewWeight(OpBuilder &b, Location loc, Value bytes,
                       int64_t byteOffset, const CPUWeightLayout &layout) {
  Type element;
  switch (layout.encoding) {
  case CPUWeightEncoding::F32:
    element = b.getF32Type();
    break;
  case CPUWeightEncoding::BF16Pairs:
    element = b.getBF16Type();
    break;
  case CPUWeightEncoding::I8Quads:
    element = b.getI8Type();
    break;
  }
  WeightViews views;
  views.values = viewAs(
      b, loc, bytes, byteOffset,
      MemRefType::get({layout.panels, layout.kWords, kPanel, layout.kStep},
                      element));
  if (layout.encoding == CPUWeightEncoding::I8Quads) {
    int64_t cols = layout.getPaddedCols();
    views.scales = viewAs(b, loc, bytes, byteOffset + layout.scalesOffset,
                          MemRefType::get({cols}, b.getF32Type()));
    views.sums = viewAs(b, loc, bytes, byteOffset + layout.sumsOffset,
                        MemRefType::get({cols}, b.getI32Type()));
  }
  return views;
}

/// Loop indices of one weight element in the packed order.
struct Position {
  Value panel, word, lane, sub; // [P][kWords][32][kStep]
  Value row, col;               // k and n
  Value valid;                  // k < K and n < N
};

/// Visits every element of the packed values: panel, word, sub-step, lane
/// (lanes innermost, so a row of the dense weight is read contiguously).
void forEachPacked(OpBuilder &b, Location loc, const CPUWeightLayout &layout,
                   function_ref<void(const Position &)> body) {
  Value c0 = indexConst(b, loc, 0);
  forLoop(
      b, loc, c0, indexConst(b, loc, layout.panels), 1,
      [&](OpBuilder &, Location, Value p) {
        forLoop(
            b, loc, c0, indexConst(b, loc, layout.kWords), 1,
            [&](OpBuilder &, Location, Value kw) {
              forLoop(
                  b, loc, c0, indexConst(b, loc, layout.kStep), 1,
                  [&](OpBuilder &, Location, Value s) {
                    forLoop(
                        b, loc, c0, indexConst(b, loc, kPanel), 1,
                        [&](OpBuilder &, Location, Value lane) {
                          Position pos{p, kw, lane, s, {}, {}, {}};
                          pos.row = arith::AddIOp::create(
                              b, loc,
                              arith::MulIOp::create(
                                  b, loc, kw, indexConst(b, loc, layout.kStep)),
                              s);
                          pos.col = arith::AddIOp::create(
                              b, loc,
                              arith::MulIOp::create(b, loc, p,
                                                    indexConst(b, loc, kPanel)),
                              lane);
                          Value rowOk = arith::CmpIOp::create(
                              b, loc, arith::CmpIPredicate::ult, pos.row,
                              indexConst(b, loc, layout.rows));
                          Value colOk = arith::CmpIOp::create(
                              b, loc, arith::CmpIPredicate::ult, pos.col,
                              indexConst(b, loc, layout.cols));
                          pos.valid =
                              arith::AndIOp::create(b, loc, rowOk, colOk);
                          body(pos);
                        });
                  });
            });
      });
}

/// w[k, n] for an in-range position, else 0 (the padding of the layout).
Value loadOrZero(OpBuilder &b, Location loc, Value w, const Position &pos,
                 const CPUWeightLayout &layout) {
  Value row = arith::MinUIOp::create(b, loc, pos.row,
                                     indexConst(b, loc, layout.rows - 1));
  Value col = arith::MinUIOp::create(b, loc, pos.col,
                                     indexConst(b, loc, layout.cols - 1));
  Value value = memref::LoadOp::create(b, loc, w, ValueRange{row, col});
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  return arith::SelectOp::create(b, loc, pos.valid, value, zero);
}

/// Per-column (or, `perTensor`, global) scales absmax / 127 into `scales`;
/// padding columns get 0.
void computeScales(OpBuilder &b, Location loc, Value w, Value scales,
                   const CPUWeightLayout &layout) {
  Value c0 = indexConst(b, loc, 0);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value n = indexConst(b, loc, layout.cols);
  forLoop(b, loc, c0, indexConst(b, loc, layout.getPaddedCols()), 1,
          [&](OpBuilder &, Location, Value col) {
            memref::StoreOp::create(b, loc, zero, scales, col);
          });
  // Column maxima, row by row, a panel's columns at a time (scales holds
  // the running absmax).
  auto vecType = VectorType::get({kPanel}, b.getF32Type());
  Value zeroVec = arith::ConstantOp::create(
      b, loc, vecType, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
  forLoop(
      b, loc, c0, indexConst(b, loc, layout.rows), 1,
      [&](OpBuilder &, Location, Value row) {
        forLoop(b, loc, c0, n, kPanel, [&](OpBuilder &, Location, Value col) {
          Value mask = tailMask(b, loc, col, n, kPanel);
          Value value = vector::MaskedLoadOp::create(
              b, loc, vecType, w, ValueRange{row, col}, mask, zeroVec);
          Value abs = math::AbsFOp::create(b, loc, value);
          Value max = vector::LoadOp::create(b, loc, vecType, scales, col);
          max = arith::MaximumFOp::create(b, loc, max, abs);
          vector::StoreOp::create(b, loc, max, scales, col);
        });
      });
  Value global;
  if (layout.perTensorScale) {
    auto loop = scf::ForOp::create(
        b, loc, c0, n, indexConst(b, loc, 1), ValueRange{zero},
        [&](OpBuilder &, Location, Value col, ValueRange acc) {
          Value max = memref::LoadOp::create(b, loc, scales, col);
          scf::YieldOp::create(
              b, loc,
              arith::MaximumFOp::create(b, loc, acc[0], max).getResult());
        });
    global = loop.getResult(0);
  }
  Value qmax = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(127));
  forLoop(b, loc, c0, n, 1, [&](OpBuilder &, Location, Value col) {
    Value max = global
                    ? global
                    : memref::LoadOp::create(b, loc, scales, col).getResult();
    Value scale = arith::DivFOp::create(b, loc, max, qmax);
    memref::StoreOp::create(b, loc, scale, scales, col);
  });
}
} // namespace

/// The int8 codes and column sums of `w`, a panel's 32 columns at a time:
/// per K word, the kStep rows' codes as vectors, interleaved into the
/// [lane][sub] order of the word and stored as one 128-byte vector; the
/// sums stay in a register across the panel. The scalar form (a divide, a
/// round and a read-modify-write of the column's sum per element) took
/// 0.35 s for a 4096 x 11008 weight on Zen 3, as long as compiling the
/// entry the end-to-end check packs it for.
void packI8Quads(OpBuilder &b, Location loc, Value w, Value bytes,
                 int64_t byteOffset, const WeightViews &views,
                 const CPUWeightLayout &layout) {
  assert(layout.kStep == 4 && "int8 words hold four K rows");
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
  auto vec = [&](Type element) { return VectorType::get({kPanel}, element); };
  auto splat = [&](Type element, Attribute value) -> Value {
    return arith::ConstantOp::create(
        b, loc, vec(element), DenseElementsAttr::get(vec(element), value));
  };
  Value zero = splat(f32, b.getF32FloatAttr(0));
  Value lo = splat(f32, b.getF32FloatAttr(-128));
  Value hi = splat(f32, b.getF32FloatAttr(127));
  Value words =
      viewAs(b, loc, bytes, byteOffset,
             MemRefType::get(
                 {layout.panels, layout.kWords, kPanel * layout.kStep}, i8));
  Value c0 = indexConst(b, loc, 0);
  Value cols = indexConst(b, loc, layout.cols);
  Value rows = indexConst(b, loc, layout.rows);
  Value lastRow = indexConst(b, loc, layout.rows - 1);
  forLoop(
      b, loc, c0, indexConst(b, loc, layout.panels), 1,
      [&](OpBuilder &, Location, Value p) {
        Value col0 =
            arith::MulIOp::create(b, loc, p, indexConst(b, loc, kPanel));
        Value colMask = tailMask(b, loc, col0, cols, kPanel);
        Value scale =
            vector::LoadOp::create(b, loc, vec(f32), views.scales, col0);
        Value noScale = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              scale, zero);
        auto sumLoop = scf::ForOp::create(
            b, loc, c0, indexConst(b, loc, layout.kWords),
            indexConst(b, loc, 1),
            ValueRange{splat(i32, b.getI32IntegerAttr(0))},
            [&](OpBuilder &, Location, Value kw, ValueRange carried) {
              Value sum = carried[0];
              SmallVector<Value> codes;
              for (int64_t s = 0; s < layout.kStep; ++s) {
                // Rows past K are the layout's zero padding.
                Value row = arith::AddIOp::create(
                    b, loc,
                    arith::MulIOp::create(b, loc, kw,
                                          indexConst(b, loc, layout.kStep)),
                    indexConst(b, loc, s));
                Value rowOk = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::ult, row, rows);
                Value mask = arith::AndIOp::create(
                    b, loc, colMask,
                    vector::BroadcastOp::create(b, loc, vec(b.getI1Type()),
                                                rowOk));
                Value safeRow = arith::MinUIOp::create(b, loc, row, lastRow);
                Value value = vector::MaskedLoadOp::create(
                    b, loc, vec(f32), w, ValueRange{safeRow, col0}, mask, zero);
                // As the reference: clamp(roundeven(w / scale)), 0 where the
                // column is all zero.
                Value q = arith::DivFOp::create(b, loc, value, scale);
                q = math::RoundEvenOp::create(b, loc, q);
                q = arith::MaximumFOp::create(b, loc, q, lo);
                q = arith::MinimumFOp::create(b, loc, q, hi);
                q = arith::SelectOp::create(b, loc, noScale, zero, q);
                Value qi = arith::FPToSIOp::create(b, loc, vec(i32), q);
                sum = arith::AddIOp::create(b, loc, sum, qi);
                codes.push_back(arith::TruncIOp::create(b, loc, vec(i8), qi));
              }
              // [s][lane] -> [lane][s]: interleaving (0, 2) with (1, 3).
              Value even =
                  vector::InterleaveOp::create(b, loc, codes[0], codes[2]);
              Value odd =
                  vector::InterleaveOp::create(b, loc, codes[1], codes[3]);
              Value word = vector::InterleaveOp::create(b, loc, even, odd);
              vector::StoreOp::create(b, loc, word, words,
                                      ValueRange{p, kw, c0});
              scf::YieldOp::create(b, loc, sum);
            });
        vector::StoreOp::create(b, loc, sumLoop.getResult(0), views.sums, col0);
      });
}

void cpu::emitWeightPacking(OpBuilder &b, Location loc, Value w, Value bytes,
                            int64_t byteOffset, const CPUWeightLayout &layout) {
  WeightViews views = viewWeight(b, loc, bytes, byteOffset, layout);
  if (layout.encoding == CPUWeightEncoding::I8Quads) {
    computeScales(b, loc, w, views.scales, layout);
    packI8Quads(b, loc, w, bytes, byteOffset, views, layout);
    return;
  }
  forEachPacked(b, loc, layout, [&](const Position &pos) {
    Value value = loadOrZero(b, loc, w, pos, layout);
    SmallVector<Value> at = {pos.panel, pos.word, pos.lane, pos.sub};
    switch (layout.encoding) {
    case CPUWeightEncoding::F32:
      memref::StoreOp::create(b, loc, value, views.values, at);
      return;
    case CPUWeightEncoding::BF16Pairs:
      memref::StoreOp::create(
          b, loc, arith::TruncFOp::create(b, loc, b.getBF16Type(), value),
          views.values, at);
      return;
    case CPUWeightEncoding::I8Quads:
      llvm_unreachable("packed by packI8Quads");
    }
  });
}

void cpu::emitWeightUnpacking(OpBuilder &b, Location loc, Value bytes,
                              int64_t byteOffset, Value w,
                              const CPUWeightLayout &layout) {
  WeightViews views = viewWeight(b, loc, bytes, byteOffset, layout);
  forEachPacked(b, loc, layout, [&](const Position &pos) {
    auto ifOp = scf::IfOp::create(b, loc, pos.valid, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value stored = memref::LoadOp::create(
        b, loc, views.values,
        ValueRange{pos.panel, pos.word, pos.lane, pos.sub});
    Value value;
    switch (layout.encoding) {
    case CPUWeightEncoding::F32:
      value = stored;
      break;
    case CPUWeightEncoding::BF16Pairs:
      value = arith::ExtFOp::create(b, loc, b.getF32Type(), stored);
      break;
    case CPUWeightEncoding::I8Quads: {
      Value q = arith::SIToFPOp::create(b, loc, b.getF32Type(), stored);
      Value scale = memref::LoadOp::create(b, loc, views.scales, pos.col);
      value = arith::MulFOp::create(b, loc, q, scale);
      break;
    }
    }
    memref::StoreOp::create(b, loc, value, w, ValueRange{pos.row, pos.col});
  });
}
