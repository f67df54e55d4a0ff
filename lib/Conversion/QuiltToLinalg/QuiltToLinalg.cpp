//===- QuiltToLinalg.cpp - convert-quilt-to-linalg --------------*- C++ -*-===//
//
// This file implements the pass that lowers quilt IR to its reference
// meaning on dense f32 (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Transforms/Passes.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_CONVERTQUILTTOLINALG
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

ReferenceTypeConverter::ReferenceTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](PackedType type) -> Type { return type.getUnpackedType(); });
}

void mlir::quilt::populateQuiltToLinalgConversionPatterns(
    const ReferenceTypeConverter &converter, RewritePatternSet &patterns) {
  populatePackPatterns(converter, patterns);
  populateContractionPatterns(converter, patterns);
  populateElementwisePatterns(converter, patterns);
}

namespace {
/// Gives a function dense types in its signature and in every block (the
/// upstream signature pattern converts only the entry block).
struct ConvertFuncTypes : OpConversionPattern<func::FuncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(func::FuncOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter &converter = *getTypeConverter();
    FunctionType type = op.getFunctionType();
    TypeConverter::SignatureConversion entry(type.getNumInputs());
    SmallVector<Type> results;
    if (failed(converter.convertSignatureArgs(type.getInputs(), entry)) ||
        failed(converter.convertTypes(type.getResults(), results)))
      return failure();
    if (!op.isExternal() &&
        failed(rewriter.convertRegionTypes(&op.getBody(), converter, &entry)))
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.setType(
          FunctionType::get(getContext(), entry.getConvertedTypes(), results));
    });
    return success();
  }
};

struct ConvertQuiltToLinalgPass
    : quilt::impl::ConvertQuiltToLinalgBase<ConvertQuiltToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    // A fused block means its body.
    RewritePatternSet unfuse(ctx);
    populateUnfusePatterns(unfuse);
    if (failed(applyPatternsGreedily(module, std::move(unfuse))))
      return signalPassFailure();

    if (failed(insertReferenceKernels(module)))
      return signalPassFailure();

    ReferenceTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addIllegalDialect<QuiltDialect>();
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        linalg::LinalgDialect, math::MathDialect, memref::MemRefDialect,
        scf::SCFDialect, tensor::TensorDialect>();
    // Functions that take or return packed weights get dense signatures.
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::CallOp, func::ReturnOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    // Packed values may also flow through branches and scf results.
    target.markUnknownOpDynamicallyLegal([&](Operation *op) {
      return isNotBranchOpInterfaceOrReturnLikeOp(op) ||
             isLegalForBranchOpInterfaceTypeConversionPattern(op, converter) ||
             isLegalForReturnOpTypeConversionPattern(op, converter);
    });

    RewritePatternSet patterns(ctx);
    populateQuiltToLinalgConversionPatterns(converter, patterns);
    patterns.add<ConvertFuncTypes>(converter, ctx);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateBranchOpInterfaceTypeConversionPattern(patterns, converter);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    eraseUnusedReferenceKernels(module);
  }
};
} // namespace
