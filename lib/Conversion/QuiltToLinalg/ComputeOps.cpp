//===- ComputeOps.cpp - Reference lowering of linear and matmul --*- C++
//-*-===//
//
// This file lowers quilt.linear and quilt.matmul to f32 contractions
// (linalg.generic), with activation rounding, bias and the result cast as
// separate naive steps.
//
//===----------------------------------------------------------------------===//

#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::reference;

namespace {

/// out[b..., m, n] = sum_k lhs[b..., m, k] * rhs[b..., k, n] in f32, where
/// rhs is indexed [b..., n, k] if `transposeB`. `rank` is the operands' rank.
Value buildContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                       bool transposeB, ArrayRef<OpFoldResult> outSizes) {
  int64_t rank = cast<RankedTensorType>(lhs.getType()).getRank();
  MLIRContext *ctx = b.getContext();
  // Iteration space: batch dims, m, n, then the reduction k.
  SmallVector<AffineExpr> dims;
  for (int64_t i = 0; i <= rank; ++i)
    dims.push_back(getAffineDimExpr(i, ctx));
  ArrayRef<AffineExpr> batch = ArrayRef(dims).take_front(rank - 2);
  AffineExpr m = dims[rank - 2], n = dims[rank - 1], k = dims[rank];
  auto map = [&](AffineExpr x, AffineExpr y) {
    SmallVector<AffineExpr> results(batch);
    results.append({x, y});
    return AffineMap::get(rank + 1, 0, results, ctx);
  };
  SmallVector<utils::IteratorType> iterators(rank + 1,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;

  Type f32 = b.getF32Type();
  Value init =
      fill(b, loc, tensor::EmptyOp::create(b, loc, outSizes, f32), 0.0);
  return buildGeneric(
      b, loc, {lhs, rhs}, init,
      {map(m, k), transposeB ? map(n, k) : map(k, n), map(m, n)}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = convertScalar(nb, nl, args[0], f32);
        Value y = convertScalar(nb, nl, args[1], f32);
        Value product = arith::MulFOp::create(nb, nl, x, y);
        return arith::AddFOp::create(nb, nl, args[2], product).getResult();
      });
}

/// quilt.linear: round x to `act`, multiply by the decoded weight, add the
/// bias, cast to the result's element type.
struct LowerLinear : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Type f32 = b.getF32Type();
    Value x = convertElements(b, loc, adaptor.getInput(), f32);
    if (PrecisionAttr act = op.getActAttr()) {
      // Scales are grouped along K: round x^T (K x M) as a weight is rounded.
      Value rounded = roundToPrecision(b, loc, transpose2D(b, loc, x), act);
      x = transpose2D(b, loc, rounded);
    }
    SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, x, 0),
                                       b.getIndexAttr(op.getOutputSize())};
    Value acc = buildContraction(b, loc, x, adaptor.getWeight(),
                                 /*transposeB=*/false, sizes);

    auto resultType = op.getResult().getType();
    Type elementType = resultType.getElementType();
    SmallVector<Value> inputs = {acc};
    AffineMap id = b.getMultiDimIdentityMap(2);
    SmallVector<AffineMap> maps = {id};
    if (Value bias = adaptor.getBias()) {
      inputs.push_back(bias);
      maps.push_back(AffineMap::get(2, 0, b.getAffineDimExpr(1)));
    }
    maps.push_back(id);
    Value init = tensor::EmptyOp::create(b, loc, sizes, elementType);
    Value result = buildGeneric(
        b, loc, inputs, init, maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value y = args[0];
          if (inputs.size() == 2)
            y = arith::AddFOp::create(nb, nl, y,
                                      convertScalar(nb, nl, args[1], f32));
          return convertScalar(nb, nl, y, elementType);
        });
    rewriter.replaceOp(op, tensor::CastOp::create(b, loc, resultType, result));
    return success();
  }
};

/// quilt.matmul: a batched f32 contraction, then the result cast.
struct LowerMatmul : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    int64_t rank = op.getLhs().getType().getRank();
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank - 1; ++d)
      sizes.push_back(tensor::getMixedSize(b, loc, lhs, d));
    sizes.push_back(tensor::getMixedSize(
        b, loc, rhs, op.getTransposeB() ? rank - 2 : rank - 1));
    Value acc = buildContraction(b, loc, lhs, rhs, op.getTransposeB(), sizes);
    auto resultType = op.getResult().getType();
    Value result = convertElements(b, loc, acc, resultType.getElementType());
    rewriter.replaceOp(op, tensor::CastOp::create(b, loc, resultType, result));
    return success();
  }
};

} // namespace

void mlir::quilt::populateContractionPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerMatmul>(converter, patterns.getContext());
}
