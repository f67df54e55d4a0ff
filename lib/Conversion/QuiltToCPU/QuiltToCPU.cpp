//===- QuiltToCPU.cpp - convert-quilt-to-cpu --------------------*- C++ -*-===//
//
// This file implements the pass that lowers quilt IR to the x86 CPU kernels
// (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "LinearOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "quilt/Transforms/Passes.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_CONVERTQUILTTOCPU
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {
struct ConvertQuiltToCPUPass
    : quilt::impl::ConvertQuiltToCPUBase<ConvertQuiltToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    CPUTarget cpu = CPUTarget::get(cpuFeatures);
    cpu.preferBF16Dot = bf16Dot;

    // Fused blocks the CPU compiles as one kernel stay (FusedOps.cpp); the
    // others are compiled as their bodies. Fallbacks (non-native formats,
    // activation rounding) call the reference kernels.
    SmallVector<FusedOp> bodies;
    module.walk([&](FusedOp op) {
      if (!fusedKernels || !cpu::canLowerFused(op, cpu))
        bodies.push_back(op);
    });
    IRRewriter rewriter(ctx);
    for (FusedOp op : bodies) {
      rewriter.setInsertionPoint(op);
      inlineFusedOp(rewriter, op);
    }
    if (failed(insertReferenceKernels(module)))
      return signalPassFailure();

    CPUTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addIllegalDialect<QuiltDialect>();
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
        memref::MemRefDialect, scf::SCFDialect, tensor::TensorDialect,
        vector::VectorDialect, x86vector::X86VectorDialect>();

    RewritePatternSet patterns(ctx);
    cpu::populateFusedPatterns(converter, patterns, cpu, threads);
    cpu::populateLinearPatterns(converter, patterns, cpu, threads);
    cpu::populateCompressedFormatPatterns(converter, patterns, cpu, threads);
    cpu::populateElementwisePatterns(converter, patterns);
    cpu::populateNormalizationPatterns(converter, patterns);
    populateQuiltToLinalgConversionPatterns(converter, patterns);
    populateQuiltStructuralConversions(converter, patterns, target);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    eraseUnusedReferenceKernels(module);

    // exp/tanh/erf on vectors as polynomials (LLVM would scalarize them
    // into one libm call per lane).
    RewritePatternSet approximations(ctx);
    populateMathPolynomialApproximationPatterns(approximations);
    // Without avx512bf16, LLVM rounds f32 to bf16 by one __truncsfbf2 call
    // per element (a third of the LLM block's bf16 packing time on Zen 3):
    // integer arithmetic instead, on whole vectors, rounding the same way.
    if (!cpu.hasBF16)
      arith::populateExpandBFloat16Patterns(approximations);
    if (failed(applyPatternsGreedily(module, std::move(approximations))))
      return signalPassFailure();
  }
};
} // namespace
