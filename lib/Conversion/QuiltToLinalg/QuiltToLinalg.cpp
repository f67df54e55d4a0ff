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
    const TypeConverter &converter, RewritePatternSet &patterns) {
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

} // namespace

void mlir::quilt::populateQuiltStructuralConversions(
    const TypeConverter &converter, RewritePatternSet &patterns,
    ConversionTarget &target) {
  MLIRContext *ctx = patterns.getContext();
  // Functions that take or return packed weights get converted signatures.
  // The legality callbacks outlive this call: capture the converter, which
  // the caller keeps alive, by address.
  const TypeConverter *conv = &converter;
  target.addDynamicallyLegalOp<func::FuncOp>([conv](func::FuncOp op) {
    return conv->isSignatureLegal(op.getFunctionType()) &&
           conv->isLegal(&op.getBody());
  });
  target.addDynamicallyLegalOp<func::CallOp, func::ReturnOp>(
      [conv](Operation *op) { return conv->isLegal(op); });
  // Packed values may also flow through branches and scf results.
  target.markUnknownOpDynamicallyLegal([conv](Operation *op) {
    return isNotBranchOpInterfaceOrReturnLikeOp(op) ||
           isLegalForBranchOpInterfaceTypeConversionPattern(op, *conv) ||
           isLegalForReturnOpTypeConversionPattern(op, *conv);
  });
  patterns.add<ConvertFuncTypes>(converter, ctx);
  populateCallOpTypeConversionPattern(patterns, converter);
  populateReturnOpTypeConversionPattern(patterns, converter);
  populateBranchOpInterfaceTypeConversionPattern(patterns, converter);
  scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                       target);
}

LogicalResult mlir::quilt::prepareQuiltModuleForLowering(ModuleOp module) {
  RewritePatternSet unfuse(module.getContext());
  populateUnfusePatterns(unfuse);
  if (failed(applyPatternsGreedily(module, std::move(unfuse))))
    return failure();
  return insertReferenceKernels(module);
}

namespace {
struct ConvertQuiltToLinalgPass
    : quilt::impl::ConvertQuiltToLinalgBase<ConvertQuiltToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    if (failed(prepareQuiltModuleForLowering(module)))
      return signalPassFailure();

    ReferenceTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addIllegalDialect<QuiltDialect>();
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        linalg::LinalgDialect, math::MathDialect, memref::MemRefDialect,
        scf::SCFDialect, tensor::TensorDialect>();
    RewritePatternSet patterns(ctx);
    populateQuiltToLinalgConversionPatterns(converter, patterns);
    populateQuiltStructuralConversions(converter, patterns, target);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    eraseUnusedReferenceKernels(module);
  }
};
} // namespace
