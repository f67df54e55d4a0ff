//===- RaiseLinalg.cpp - quilt-raise-linalg ---------------------*- C++ -*-===//
//
// This file implements the pass that raises the linalg ops torch-mlir and
// StableHLO -> linalg emit for dense layers (matmul, broadcast bias add,
// element-wise add/mul, relu as max with zero) to quilt ops, so that
// quilt-select-formats and the CPU backend can work on them.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Transforms/Passes.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTRAISELINALG
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {

bool isF32Tensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

/// Whether `value` is a linalg.fill of +0.0 (the init of a plain product).
bool isZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  FloatAttr zero;
  return matchPattern(fill.getInputs()[0], m_Constant(&zero)) &&
         zero.getValue().isPosZero();
}

struct RaiseMatmul : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    // Transposed or broadcast operands (user-defined maps) are not a
    // plain x * W.
    if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2 ||
        op.hasUserDefinedMaps())
      return failure();
    Value x = op.getInputs()[0], w = op.getInputs()[1];
    Value init = op.getOutputs()[0];
    if (!isF32Tensor(x.getType()) || !isF32Tensor(w.getType()) ||
        !isF32Tensor(init.getType()))
      return failure();
    Type type = op.getResult(0).getType();
    Value y =
        LinearOp::create(rewriter, op.getLoc(), type, x, w, Value(), nullptr);
    if (!isZeroFill(init))
      y = AddOp::create(rewriter, op.getLoc(), type, y, init);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The single arith op `T` of `generic`'s body whose result is yielded.
template <typename T> T getBodyOp(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  auto op = dyn_cast<T>(body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!op || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != op->getResult(0))
    return nullptr;
  return op;
}

/// An all-parallel generic with one f32 tensor result.
bool isElementwise(linalg::GenericOp generic) {
  return generic.hasPureTensorSemantics() && generic.getNumResults() == 1 &&
         generic.getNumLoops() == generic.getNumParallelLoops() &&
         isF32Tensor(generic.getResult(0).getType());
}

struct RaiseElementwise : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op) ||
        !llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }))
      return failure();
    Block &body = op.getRegion().front();
    Type type = op.getResult(0).getType();
    auto isInput = [&](Value v, unsigned i) {
      return v == body.getArgument(i);
    };
    if (op.getNumDpsInputs() == 2) {
      auto binaryArgsMatch = [&](Operation *bodyOp) {
        return bodyOp && isInput(bodyOp->getOperand(0), 0) &&
               isInput(bodyOp->getOperand(1), 1);
      };
      Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
      if (auto add = getBodyOp<arith::AddFOp>(op); binaryArgsMatch(add)) {
        rewriter.replaceOpWithNewOp<AddOp>(op, type, lhs, rhs);
        return success();
      }
      if (auto mul = getBodyOp<arith::MulFOp>(op); binaryArgsMatch(mul)) {
        rewriter.replaceOpWithNewOp<MulOp>(op, type, lhs, rhs);
        return success();
      }
      return failure();
    }
    if (op.getNumDpsInputs() != 1)
      return failure();
    Operation *max = getBodyOp<arith::MaximumFOp>(op);
    if (!max)
      max = getBodyOp<arith::MaxNumFOp>(op);
    if (!max)
      return failure();
    for (unsigned i = 0; i < 2; ++i) {
      FloatAttr zero;
      if (isInput(max->getOperand(i), 0) &&
          matchPattern(max->getOperand(1 - i), m_Constant(&zero)) &&
          zero.getValue().isZero()) {
        rewriter.replaceOpWithNewOp<ReluOp>(op, type, op.getDpsInputs()[0]);
        return success();
      }
    }
    return failure();
  }
};

/// linear(x, w) + broadcast(b) -> linear(x, w) bias b.
struct RaiseBiasAdd : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op) || op.getNumDpsInputs() != 2 ||
        op.getNumLoops() != 2)
      return failure();
    auto add = getBodyOp<arith::AddFOp>(op);
    if (!add)
      return failure();
    Block &body = op.getRegion().front();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    MLIRContext *context = op.getContext();
    AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(1, context));
    for (unsigned i = 0; i < 2; ++i) {
      unsigned j = 1 - i;
      // Operand i is the linear's result, operand j the broadcast bias.
      auto linear = op.getDpsInputs()[i].getDefiningOp<LinearOp>();
      Value bias = op.getDpsInputs()[j];
      if (!linear || linear.getBias() || !linear->hasOneUse() ||
          !maps[i].isIdentity() || maps[j] != row ||
          !isF32Tensor(bias.getType()) ||
          llvm::is_contained(add->getOperands(), body.getArgument(2)))
        continue;
      rewriter.replaceOpWithNewOp<LinearOp>(
          op, op.getResult(0).getType(), linear.getInput(), linear.getWeight(),
          bias, linear.getActAttr());
      rewriter.eraseOp(linear);
      return success();
    }
    return failure();
  }
};

struct QuiltRaiseLinalgPass
    : quilt::impl::QuiltRaiseLinalgBase<QuiltRaiseLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseMatmul, RaiseElementwise>(&getContext());
    patterns.add<RaiseBiasAdd>(&getContext(), /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
