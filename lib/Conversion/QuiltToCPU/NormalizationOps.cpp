//===- NormalizationOps.cpp - Row-wise quilt ops as SIMD loops --*- C++ -*-===//
//
// softmax (along the last dimension), rmsnorm and layernorm on statically
// shaped f32 tensors: the tensor is viewed as rows of D elements and each
// row is processed in passes of 16-lane vectors (masked tail): reductions
// (max, sum, sum of squares) accumulate lane-wise and are reduced once per
// row; the final pass writes the normalized row. The formulas follow the
// reference lowering operation for operation (x / sqrt(...), exp / sum), so
// results differ from it only by the order of the sums.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "LinearOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kLanes = 16;

/// Emits code over the rows of a static f32 tensor viewed as R x D.
struct RowEmitter {
  OpBuilder &b;
  Location loc;
  int64_t rows, d;
  VectorType vec;

  RowEmitter(OpBuilder &b, Location loc, RankedTensorType type)
      : b(b), loc(loc), d(type.getShape().back()),
        vec(VectorType::get({kLanes}, b.getF32Type())) {
    rows = type.getNumElements() / d;
  }

  Value splat(float value) {
    return arith::ConstantOp::create(
        b, loc, vec, DenseElementsAttr::get(vec, b.getF32FloatAttr(value)));
  }
  Value broadcast(Value scalar) {
    return vector::BroadcastOp::create(b, loc, vec, scalar);
  }
  /// The buffer of `tensor` as memref<R x D>.
  Value rowsOf(Value tensor) {
    Value buffer = toBuffer(b, loc, tensor);
    auto type = cast<MemRefType>(buffer.getType());
    if (type.getRank() == 2)
      return buffer;
    ReassociationIndices lead;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      lead.push_back(i);
    SmallVector<ReassociationIndices> groups = {lead, {type.getRank() - 1}};
    return memref::CollapseShapeOp::create(b, loc, buffer, groups);
  }
  Value mask(Value col) {
    return tailMask(b, loc, col, indexConst(b, loc, d), kLanes);
  }
  Value load(Value buffer, ValueRange at, Value mask, Value passthru) {
    return vector::MaskedLoadOp::create(b, loc, vec, buffer, at, mask,
                                        passthru);
  }
  /// Folds `step(acc, col, mask)` over the row's chunks from `init`.
  Value reduce(Value init, function_ref<Value(Value, Value, Value)> step) {
    auto loop = scf::ForOp::create(
        b, loc, indexConst(b, loc, 0), indexConst(b, loc, d),
        indexConst(b, loc, kLanes), ValueRange{init},
        [&](OpBuilder &, Location, Value col, ValueRange acc) {
          scf::YieldOp::create(b, loc, step(acc[0], col, mask(col)));
        });
    return loop.getResult(0);
  }
  Value sum(Value v) {
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
  }
  /// `body(row)` for each row, then the output as a tensor of `type`.
  Value forRows(RankedTensorType type, Value out,
                function_ref<void(Value)> body) {
    forLoop(b, loc, indexConst(b, loc, 0), indexConst(b, loc, rows), 1,
            [&](OpBuilder &, Location, Value row) { body(row); });
    return toTensor(b, loc, out);
  }
  /// A fresh output buffer shaped like `type`, and its R x D view.
  std::pair<Value, Value> allocOut(RankedTensorType type) {
    auto memrefType = MemRefType::get(type.getShape(), b.getF32Type());
    Value out = memref::AllocOp::create(b, loc, memrefType, ValueRange{},
                                        b.getI64IntegerAttr(64));
    if (type.getRank() == 2)
      return {out, out};
    ReassociationIndices lead;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      lead.push_back(i);
    SmallVector<ReassociationIndices> groups = {lead, {type.getRank() - 1}};
    return {out, memref::CollapseShapeOp::create(b, loc, out, groups)};
  }
  Value scalar(float value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
};

bool isStaticF32(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getElementType().isF32();
}

struct LowerSoftmax : OpConversionPattern<SoftmaxOp> {
  LowerSoftmax(const TypeConverter &converter, MLIRContext *ctx)
      : OpConversionPattern(converter, ctx, /*benefit=*/10) {}
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    if (!isStaticF32(type) || op.getNormalizedAxis() != type.getRank() - 1)
      return rewriter.notifyMatchFailure(op, "last axis of static f32 only");
    RowEmitter e(rewriter, op.getLoc(), type);
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value x = e.rowsOf(adaptor.getInput());
    auto [outBuffer, outView] = e.allocOut(type);
    Value out = outBuffer, outRows = outView;
    float inf = std::numeric_limits<float>::infinity();
    Value result = e.forRows(type, out, [&](Value row) {
      // Lanes past D read -inf: they do not change the max, exp gives 0.
      Value maxVec = e.reduce(
          e.splat(-inf), [&](Value acc, Value col, Value mask) -> Value {
            return arith::MaximumFOp::create(
                b, loc, acc, e.load(x, {row, col}, mask, e.splat(-inf)));
          });
      Value max = e.broadcast(vector::ReductionOp::create(
          b, loc, vector::CombiningKind::MAXIMUMF, maxVec));
      Value sumVec =
          e.reduce(e.splat(0), [&](Value acc, Value col, Value mask) -> Value {
            Value v = e.load(x, {row, col}, mask, e.splat(-inf));
            Value ex = math::ExpOp::create(
                b, loc, arith::SubFOp::create(b, loc, v, max));
            vector::MaskedStoreOp::create(b, loc, outRows, {row, col}, mask,
                                          ex);
            return arith::AddFOp::create(b, loc, acc, ex);
          });
      Value total = e.broadcast(e.sum(sumVec));
      e.reduce(e.splat(0), [&](Value acc, Value col, Value mask) -> Value {
        Value ex = e.load(outRows, {row, col}, mask, e.splat(0));
        vector::MaskedStoreOp::create(b, loc, outRows, {row, col}, mask,
                                      arith::DivFOp::create(b, loc, ex, total));
        return acc;
      });
    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// rmsnorm and layernorm: y = (x - mean?) / sqrt(stat + eps) * w (+ bias).
template <typename OpTy>
Value emitNorm(OpBuilder &b, Location loc, OpTy op, Value input, Value weight,
               Value biasTensor) {
  constexpr bool kCentered = std::is_same_v<OpTy, LayerNormOp>;
  auto type = op.getResult().getType();
  RowEmitter e(b, loc, type);
  Value x = e.rowsOf(input);
  Value w = toBuffer(b, loc, weight);
  Value bias;
  if constexpr (kCentered)
    bias = toBuffer(b, loc, biasTensor);
  auto [outBuffer, outView] = e.allocOut(type);
  Value out = outBuffer, outRows = outView;
  Value dSize = e.scalar(static_cast<float>(e.d));
  Value eps = arith::ConstantOp::create(b, loc, op.getEpsilonAttr());
  return e.forRows(type, out, [&](Value row) {
    Value mean = e.splat(0);
    if (kCentered) {
      Value s =
          e.reduce(e.splat(0), [&](Value acc, Value col, Value mask) -> Value {
            return arith::AddFOp::create(
                b, loc, acc, e.load(x, {row, col}, mask, e.splat(0)));
          });
      mean = e.broadcast(arith::DivFOp::create(b, loc, e.sum(s), dSize));
    }
    // Lanes past D read the mean: they add 0 to the sum of squares.
    Value sq =
        e.reduce(e.splat(0), [&](Value acc, Value col, Value mask) -> Value {
          Value c = arith::SubFOp::create(
              b, loc, e.load(x, {row, col}, mask, mean), mean);
          return arith::AddFOp::create(b, loc, acc,
                                       arith::MulFOp::create(b, loc, c, c));
        });
    Value stat = arith::DivFOp::create(b, loc, e.sum(sq), dSize);
    Value root = e.broadcast(
        math::SqrtOp::create(b, loc, arith::AddFOp::create(b, loc, stat, eps)));
    e.reduce(e.splat(0), [&](Value acc, Value col, Value mask) -> Value {
      Value c = arith::SubFOp::create(b, loc, e.load(x, {row, col}, mask, mean),
                                      mean);
      Value y = arith::DivFOp::create(b, loc, c, root);
      y = arith::MulFOp::create(b, loc, y, e.load(w, {col}, mask, e.splat(0)));
      if (bias)
        y = arith::AddFOp::create(b, loc, y,
                                  e.load(bias, {col}, mask, e.splat(0)));
      vector::MaskedStoreOp::create(b, loc, outRows, {row, col}, mask, y);
      return acc;
    });
  });
}

template <typename OpTy> struct LowerNorm : OpConversionPattern<OpTy> {
  LowerNorm(const TypeConverter &converter, MLIRContext *ctx)
      : OpConversionPattern<OpTy>(converter, ctx, /*benefit=*/10) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!cpu::canEmitNormalization(op))
      return rewriter.notifyMatchFailure(op, "static f32 only");
    Value bias;
    if constexpr (std::is_same_v<OpTy, LayerNormOp>)
      bias = adaptor.getBias();
    rewriter.replaceOp(op,
                       emitNorm(rewriter, op.getLoc(), op, adaptor.getInput(),
                                adaptor.getWeight(), bias));
    return success();
  }
};
} // namespace

bool cpu::canEmitNormalization(Operation *op) {
  if (!isa<RMSNormOp, LayerNormOp>(op))
    return false;
  return isStaticF32(op->getResult(0).getType()) &&
         isStaticF32(op->getOperand(1).getType());
}

Value cpu::emitNormalization(OpBuilder &b, Location loc, Operation *op,
                             ValueRange operands) {
  if (auto rms = dyn_cast<RMSNormOp>(op))
    return emitNorm(b, loc, rms, operands[0], operands[1], Value());
  return emitNorm(b, loc, cast<LayerNormOp>(op), operands[0], operands[1],
                  operands[2]);
}

void cpu::populateNormalizationPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerSoftmax, LowerNorm<RMSNormOp>, LowerNorm<LayerNormOp>>(
      converter, ctx);
}
