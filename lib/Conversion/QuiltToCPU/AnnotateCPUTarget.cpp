//===- AnnotateCPUTarget.cpp - quilt-annotate-cpu-target --------*- C++ -*-===//
//
// This file implements the pass that tells LLVM which CPU the generated
// functions target (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include "KernelUtils.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTANNOTATECPUTARGET
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {
struct QuiltAnnotateCPUTargetPass
    : quilt::impl::QuiltAnnotateCPUTargetBase<QuiltAnnotateCPUTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    CPUTarget cpu = CPUTarget::get(cpuFeatures);
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto features = LLVM::TargetFeaturesAttr::get(ctx, cpu.features);
    auto pair = [&](StringRef key, StringRef value) -> Attribute {
      return b.getArrayAttr({b.getStringAttr(key), b.getStringAttr(value)});
    };
    ArrayAttr passthrough =
        b.getArrayAttr({pair("prefer-vector-width", "512"),
                        pair("min-legal-vector-width", "512")});
    getOperation().walk([&](LLVM::LLVMFuncOp func) {
      if (func.isExternal())
        return;
      func.setTargetCpuAttr(b.getStringAttr(cpu.cpu));
      func.setTargetFeaturesAttr(features);
      func.setPassthroughAttr(passthrough);
      // A kernel runs once per op: inlined into its entry, and the entry
      // into its C wrapper, LLVM compiled each kernel three times.
      if (func->hasAttr(cpu::kKernelAttrName))
        func.setNoInline(true);
    });
  }
};
} // namespace
