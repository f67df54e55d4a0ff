//===- InlineIntrinsicCalls.cpp - quilt-inline-intrinsic-calls --*- C++ -*-===//
//
// This file implements the pass that replaces calls to intrinsic stand-in
// declarations by llvm.call_intrinsic (see the description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "quilt/Conversion/Passes.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTINLINEINTRINSICCALLS
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {
struct QuiltInlineIntrinsicCallsPass
    : quilt::impl::QuiltInlineIntrinsicCallsBase<
          QuiltInlineIntrinsicCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (callee && callee->hasAttr(kIntrinsicAttrName))
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      auto name = callee->getAttrOfType<StringAttr>(kIntrinsicAttrName);
      if (!name || !callee.isExternal()) {
        call.emitOpError("stand-in '")
            << callee.getName()
            << "' needs a string quilt.llvm_intrinsic and no body";
        return signalPassFailure();
      }
      OpBuilder b(call);
      auto intrinsic = LLVM::CallIntrinsicOp::create(
          b, call.getLoc(), call.getResultTypes(), name, call.getOperands(),
          LLVM::FastmathFlagsAttr{}, /*op_bundle_operands=*/{},
          /*op_bundle_tags=*/{}, /*arg_attrs=*/{}, /*res_attrs=*/{});
      for (auto [from, to] :
           llvm::zip(call->getResults(), intrinsic->getResults()))
        from.replaceAllUsesWith(to);
      call.erase();
    }
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (func->hasAttr(kIntrinsicAttrName) && func.symbolKnownUseEmpty(module))
        func.erase();
  }
};
} // namespace
