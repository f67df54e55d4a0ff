//===- ReferenceKernels.cpp - The reference kernel library ------*- C++ -*-===//
//
// This file embeds ReferenceKernels.mlir (the projections that define every
// weight format) and copies its functions into the modules that need them.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "quilt/Conversion/QuiltToLinalg/QuiltToLinalg.h"

using namespace mlir;

/// The source of ReferenceKernels.mlir, embedded at build time.
static const char kReferenceKernels[] =
#include "ReferenceKernels.inc"
    ;

static constexpr StringLiteral kKernelPrefix = "quilt_ref_";

LogicalResult mlir::quilt::insertReferenceKernels(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  OwningOpRef<ModuleOp> library = parseSourceString<ModuleOp>(
      kReferenceKernels, ParserConfig(ctx), "ReferenceKernels.mlir");
  if (!library)
    return module.emitError("failed to parse the reference kernel library");
  SymbolTable symbols(module);
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  for (auto fn : library->getOps<func::FuncOp>()) {
    if (Operation *existing = symbols.lookup(fn.getSymName())) {
      if (!isa<func::FuncOp>(existing))
        return existing->emitError("symbol ")
               << fn.getSymName() << " is reserved for a reference kernel";
      continue;
    }
    symbols.insert(builder.clone(*fn));
  }
  return success();
}

void mlir::quilt::eraseUnusedReferenceKernels(ModuleOp module) {
  // Kernels call kernels: erase until nothing changes.
  bool erased = true;
  while (erased) {
    erased = false;
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (fn.getSymName().starts_with(kKernelPrefix) && fn.isPrivate() &&
          SymbolTable::symbolKnownUseEmpty(fn, module)) {
        fn.erase();
        erased = true;
      }
    }
  }
}
