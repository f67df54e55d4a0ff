//===- ElementwiseOps.cpp - Reference lowering of element-wise ops -*- C++
//-*-===//
//
// This file lowers the element-wise ops (through ElementwiseOpInterface),
// softmax and the normalizations to f32 linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::reference;

namespace {

/// The iteration structure of a reduction of a rank-`rank` tensor over `dim`.
struct Reduction {
  AffineMap identity; // the full tensor
  AffineMap reduced;  // the tensor without `dim`
  AffineMap along;    // a 1-d parameter indexed by `dim`
  SmallVector<int64_t> keptDims;
  SmallVector<utils::IteratorType> reduceIterators;
  SmallVector<utils::IteratorType> parallelIterators;

  Reduction(OpBuilder &b, int64_t rank, int64_t dim) {
    MLIRContext *ctx = b.getContext();
    identity = b.getMultiDimIdentityMap(rank);
    SmallVector<AffineExpr> kept;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == dim)
        continue;
      kept.push_back(b.getAffineDimExpr(d));
      keptDims.push_back(d);
    }
    reduced = AffineMap::get(rank, 0, kept, ctx);
    along = AffineMap::get(rank, 0, b.getAffineDimExpr(dim));
    parallelIterators.assign(rank, utils::IteratorType::parallel);
    reduceIterators = parallelIterators;
    reduceIterators[dim] = utils::IteratorType::reduction;
  }

  /// Reduces `x` over the dim, starting from `initValue`, combining each f32
  /// element into the accumulator with `combine(element, acc)`.
  Value reduce(
      OpBuilder &b, Location loc, Value x, double initValue,
      function_ref<Value(OpBuilder &, Location, Value, Value)> combine) const {
    Type f32 = b.getF32Type();
    Value init = fill(b, loc, emptyLike(b, loc, x, keptDims, f32), initValue);
    return buildGeneric(b, loc, x, init, {identity, reduced}, reduceIterators,
                        [&](OpBuilder &nb, Location nl, ValueRange args) {
                          Value e = convertScalar(nb, nl, args[0], f32);
                          return combine(nb, nl, e, args[1]);
                        });
  }
};

/// The size of dim `dim` of `x` as an f32 value.
Value dimAsF32(OpBuilder &b, Location loc, Value x, int64_t dim) {
  Value size = dimSize(b, loc, x, dim);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), size);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), asInt);
}

/// Any op with ElementwiseOpInterface: one linalg.generic applying the op's
/// element function in f32.
struct LowerElementwise : OpInterfaceConversionPattern<ElementwiseOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;

  LogicalResult
  matchAndRewrite(ElementwiseOpInterface op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op->getLoc();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type f32 = rewriter.getF32Type();
    AffineMap id = rewriter.getMultiDimIdentityMap(resultType.getRank());
    SmallVector<AffineMap> maps(operands.size() + 1, id);
    SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                               utils::IteratorType::parallel);
    Value init =
        emptyLike(rewriter, loc, operands[0], resultType.getElementType());
    Value result = buildGeneric(
        rewriter, loc, operands, init, maps, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          SmallVector<Value> scalars;
          for (Value arg : args.drop_back())
            scalars.push_back(convertScalar(nb, nl, arg, f32));
          Value y = op.buildElementFunction(nb, nl, scalars);
          return convertScalar(nb, nl, y, resultType.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// quilt.softmax: max, exp(x - max), sum, divide.
struct LowerSoftmax : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value x = adaptor.getInput();
    auto type = op.getResult().getType();
    Type f32 = b.getF32Type();
    Reduction red(b, type.getRank(), op.getNormalizedAxis());
    Value max =
        red.reduce(b, loc, x, -std::numeric_limits<double>::infinity(),
                   [](OpBuilder &nb, Location nl, Value e, Value acc) -> Value {
                     return arith::MaximumFOp::create(nb, nl, e, acc);
                   });
    Value exps = buildGeneric(
        b, loc, {x, max}, emptyLike(b, loc, x, f32),
        {red.identity, red.reduced, red.identity}, red.parallelIterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value e = convertScalar(nb, nl, args[0], f32);
          return math::ExpOp::create(nb, nl,
                                     arith::SubFOp::create(nb, nl, e, args[1]));
        });
    Value sum =
        red.reduce(b, loc, exps, 0.0,
                   [](OpBuilder &nb, Location nl, Value e, Value acc) -> Value {
                     return arith::AddFOp::create(nb, nl, e, acc);
                   });
    Value result = buildGeneric(
        b, loc, {exps, sum}, emptyLike(b, loc, x, type.getElementType()),
        {red.identity, red.reduced, red.identity}, red.parallelIterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value y = arith::DivFOp::create(nb, nl, args[0], args[1]);
          return convertScalar(nb, nl, y, type.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = x * rsqrt(mean(x^2) + eps) * weight (+ bias), over the last dim. For
/// RMSNorm `x` is the input; for LayerNorm it is the centered input, and then
/// mean(x^2) is the variance.
Value normalizeLastDim(OpBuilder &b, Location loc, Value x, Value weight,
                       Value bias, FloatAttr epsilon, Type resultElementType) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  Type f32 = b.getF32Type();
  Reduction red(b, rank, rank - 1);
  Value sumSq = red.reduce(
      b, loc, x, 0.0, [](OpBuilder &nb, Location nl, Value e, Value acc) {
        Value sq = arith::MulFOp::create(nb, nl, e, e);
        return arith::AddFOp::create(nb, nl, sq, acc).getResult();
      });
  Value d = dimAsF32(b, loc, x, rank - 1);
  Value eps = arith::ConstantOp::create(b, loc, epsilon);
  SmallVector<Value> inputs = {x, sumSq, weight};
  SmallVector<AffineMap> maps = {red.identity, red.reduced, red.along};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(red.along);
  }
  maps.push_back(red.identity);
  return buildGeneric(
      b, loc, inputs, emptyLike(b, loc, x, resultElementType), maps,
      red.parallelIterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value e = convertScalar(nb, nl, args[0], f32);
        Value meanSq = arith::DivFOp::create(nb, nl, args[1], d);
        Value scale = math::RsqrtOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, meanSq, eps));
        Value g = convertScalar(nb, nl, args[2], f32);
        Value y = arith::MulFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, e, scale), g);
        if (bias)
          y = arith::AddFOp::create(nb, nl, y,
                                    convertScalar(nb, nl, args[3], f32));
        return convertScalar(nb, nl, y, resultElementType);
      });
}

/// quilt.rmsnorm: x * rsqrt(mean(x^2) + eps) * weight.
struct LowerRMSNorm : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, normalizeLastDim(rewriter, op.getLoc(), adaptor.getInput(),
                             adaptor.getWeight(), /*bias=*/Value(),
                             op.getEpsilonAttr(),
                             op.getResult().getType().getElementType()));
    return success();
  }
};

/// quilt.layernorm: (x - mean) * rsqrt(var + eps) * weight + bias.
struct LowerLayerNorm : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value x = adaptor.getInput();
    int64_t rank = op.getResult().getType().getRank();
    Type f32 = b.getF32Type();
    Reduction red(b, rank, rank - 1);
    Value d = dimAsF32(b, loc, x, rank - 1);
    Value sum =
        red.reduce(b, loc, x, 0.0,
                   [](OpBuilder &nb, Location nl, Value e, Value acc) -> Value {
                     return arith::AddFOp::create(nb, nl, e, acc);
                   });
    Value centered = buildGeneric(
        b, loc, {x, sum}, emptyLike(b, loc, x, f32),
        {red.identity, red.reduced, red.identity}, red.parallelIterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value e = convertScalar(nb, nl, args[0], f32);
          Value mean = arith::DivFOp::create(nb, nl, args[1], d);
          return arith::SubFOp::create(nb, nl, e, mean);
        });
    rewriter.replaceOp(
        op, normalizeLastDim(b, loc, centered, adaptor.getWeight(),
                             adaptor.getBias(), op.getEpsilonAttr(),
                             op.getResult().getType().getElementType()));
    return success();
  }
};

} // namespace

void mlir::quilt::populateElementwisePatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerElementwise>(converter, ctx);
  patterns.add<LowerSoftmax, LowerRMSNorm, LowerLayerNorm>(converter, ctx);
}
