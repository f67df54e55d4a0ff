//===- ActivationKernels.cpp - The A operand of the CPU GEMMs ---*- C++ -*-===//
//
// Rounds, quantizes or copies the activations into the word layout the
// microkernels broadcast from, 16 lanes at a time. This is O(M K) work done
// once per call, against O(M N K) in the product.
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
constexpr int64_t kLanes = 16;
constexpr int64_t kRowPadWords = 16; // 64 bytes: breaks 4 KiB row aliasing

VectorType f32Vector(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

Value zeroVector(OpBuilder &b, Location loc) {
  VectorType type = f32Vector(b);
  return arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
}

/// x[row, k:k+16], zero past K.
Value loadRowChunk(OpBuilder &b, Location loc, Value x, Value row, Value k,
                   int64_t kSize) {
  Value mask = tailMask(b, loc, k, indexConst(b, loc, kSize), kLanes);
  return vector::MaskedLoadOp::create(
      b, loc, f32Vector(b), x, ValueRange{row, k}, mask, zeroVector(b, loc));
}

/// A buffer of M rows of `rowWords` 32-bit words, with views of it as
/// elements of `element` (f32, i32, bf16 or i8).
struct RowBuffer {
  Value bytes;
  int64_t rowWords;
  Value m;

  static RowBuffer alloc(OpBuilder &b, Location loc, Value m,
                         int64_t rowWords) {
    Value bytes =
        arith::MulIOp::create(b, loc, m, indexConst(b, loc, rowWords * 4));
    return {allocBytes(b, loc, bytes), rowWords, m};
  }
  Value view(OpBuilder &b, Location loc, Type element) const {
    int64_t perWord = 32 / element.getIntOrFloatBitWidth();
    auto type =
        MemRefType::get({ShapedType::kDynamic, rowWords * perWord}, element);
    return viewAs(b, loc, bytes, 0, type, ValueRange{m});
  }
};

/// Rows are independent: a scf.parallel, which becomes an OpenMP loop when
/// the pipeline runs more than one thread (and a plain loop otherwise).
void forEachRow(OpBuilder &b, Location loc, Value m,
                function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ParallelOp::create(b, loc, ValueRange{indexConst(b, loc, 0)},
                          ValueRange{m}, ValueRange{indexConst(b, loc, 1)},
                          [&](OpBuilder &nb, Location nl, ValueRange ivs) {
                            body(nb, nl, ivs[0]);
                          });
}

/// The largest |x| of row `row` (0 for an all-zero row).
Value rowAbsMax(OpBuilder &b, Location loc, Value x, Value row, int64_t k) {
  Value init = zeroVector(b, loc);
  auto loop = scf::ForOp::create(
      b, loc, indexConst(b, loc, 0), indexConst(b, loc, k),
      indexConst(b, loc, kLanes), ValueRange{init},
      [&](OpBuilder &, Location, Value col, ValueRange acc) {
        Value chunk = loadRowChunk(b, loc, x, row, col, k);
        Value abs = math::AbsFOp::create(b, loc, chunk);
        scf::YieldOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, acc[0], abs).getResult());
      });
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXNUMF,
                                     loop.getResult(0));
}
} // namespace

Value cpu::prepareF32Activations(OpBuilder &b, Location loc, Value x, Value m,
                                 const CPUWeightLayout &layout,
                                 bool roundToBF16) {
  int64_t cols = layout.kWords * layout.kStep;
  RowBuffer buffer = RowBuffer::alloc(b, loc, m, cols + kRowPadWords);
  Value out = buffer.view(b, loc, b.getF32Type());
  forEachRow(b, loc, m, [&](OpBuilder &, Location, Value row) {
    forLoop(b, loc, indexConst(b, loc, 0), indexConst(b, loc, cols), kLanes,
            [&](OpBuilder &, Location, Value k) {
              Value chunk = loadRowChunk(b, loc, x, row, k, layout.rows);
              if (roundToBF16) {
                auto halves = VectorType::get({kLanes}, b.getBF16Type());
                Value rounded = arith::TruncFOp::create(b, loc, halves, chunk);
                chunk = arith::ExtFOp::create(b, loc, f32Vector(b), rounded);
              }
              vector::StoreOp::create(b, loc, chunk, out, ValueRange{row, k});
            });
  });
  return out;
}

Value cpu::prepareBF16Activations(OpBuilder &b, Location loc, Value x, Value m,
                                  const CPUWeightLayout &layout) {
  RowBuffer buffer = RowBuffer::alloc(b, loc, m, layout.kWords + kRowPadWords);
  Value halves = buffer.view(b, loc, b.getBF16Type());
  auto bf16Vector = VectorType::get({kLanes}, b.getBF16Type());
  forEachRow(b, loc, m, [&](OpBuilder &, Location, Value row) {
    forLoop(
        b, loc, indexConst(b, loc, 0), indexConst(b, loc, layout.kWords * 2),
        kLanes, [&](OpBuilder &, Location, Value k) {
          Value chunk = loadRowChunk(b, loc, x, row, k, layout.rows);
          Value rounded = arith::TruncFOp::create(b, loc, bf16Vector, chunk);
          vector::StoreOp::create(b, loc, rounded, halves, ValueRange{row, k});
        });
  });
  return buffer.view(b, loc, b.getI32Type());
}

Value cpu::prepareI8Activations(OpBuilder &b, Location loc, Value x, Value m,
                                const CPUWeightLayout &layout, bool perTensor,
                                Value &rowScales, bool shiftToU8) {
  RowBuffer buffer = RowBuffer::alloc(b, loc, m, layout.kWords + kRowPadWords);
  Value bytes = buffer.view(b, loc, b.getI8Type());
  auto scalesType = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
  rowScales = memref::AllocOp::create(b, loc, scalesType, ValueRange{m},
                                      b.getI64IntegerAttr(64));
  Value c0 = indexConst(b, loc, 0);
  Value qmax = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(127));
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));

  // Scales exactly as the reference computes them: absmax / 127.
  Value tensorScale;
  if (perTensor) {
    auto loop = scf::ForOp::create(
        b, loc, c0, m, indexConst(b, loc, 1), ValueRange{zeroF},
        [&](OpBuilder &, Location, Value row, ValueRange acc) {
          Value rowMax = rowAbsMax(b, loc, x, row, layout.rows);
          scf::YieldOp::create(
              b, loc,
              arith::MaximumFOp::create(b, loc, acc[0], rowMax).getResult());
        });
    tensorScale = arith::DivFOp::create(b, loc, loop.getResult(0), qmax);
  }

  VectorType f32Vec = f32Vector(b);
  auto i32Vec = VectorType::get({kLanes}, b.getI32Type());
  auto i8Vec = VectorType::get({kLanes}, b.getI8Type());
  auto splat = [&](VectorType type, Attribute value) -> Value {
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, value));
  };
  Value lo = splat(f32Vec, b.getF32FloatAttr(-128));
  Value hi = splat(f32Vec, b.getF32FloatAttr(127));
  Value shift = splat(i32Vec, b.getI32IntegerAttr(128));
  forEachRow(b, loc, m, [&](OpBuilder &, Location, Value row) {
    Value scale = tensorScale;
    if (!perTensor)
      scale = arith::DivFOp::create(
          b, loc, rowAbsMax(b, loc, x, row, layout.rows), qmax);
    memref::StoreOp::create(b, loc, scale, rowScales, ValueRange{row});
    Value isZero =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, scale, zeroF);
    Value scaleVec = vector::BroadcastOp::create(b, loc, f32Vec, scale);
    forLoop(b, loc, c0, indexConst(b, loc, layout.kWords * 4), kLanes,
            [&](OpBuilder &, Location, Value k) {
              Value chunk = loadRowChunk(b, loc, x, row, k, layout.rows);
              Value q = arith::DivFOp::create(b, loc, chunk, scaleVec);
              q = math::RoundEvenOp::create(b, loc, q);
              q = arith::MaximumFOp::create(b, loc, q, lo);
              q = arith::MinimumFOp::create(b, loc, q, hi);
              // An all-zero row has scale 0: its codes are 0, not NaN.
              q = arith::SelectOp::create(b, loc, isZero, zeroVector(b, loc),
                                          q);
              Value qi = arith::FPToSIOp::create(b, loc, i32Vec, q);
              if (shiftToU8)
                qi = arith::AddIOp::create(b, loc, qi, shift);
              Value u8 = arith::TruncIOp::create(b, loc, i8Vec, qi);
              vector::StoreOp::create(b, loc, u8, bytes, ValueRange{row, k});
            });
  });
  return buffer.view(b, loc, b.getI32Type());
}
