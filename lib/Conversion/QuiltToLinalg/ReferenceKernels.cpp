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
  // Kernels call kernels: keep those the other operations reach, walking
  // each operation's symbol uses once (asking each kernel for its uses
  // walked the whole module per kernel).
  auto isKernel = [](Operation *op) {
    auto fn = dyn_cast<func::FuncOp>(op);
    return fn && fn.getSymName().starts_with(kKernelPrefix) && fn.isPrivate();
  };
  SymbolTable symbols(module);
  llvm::DenseSet<Operation *> reached;
  SmallVector<Operation *> worklist;
  for (Operation &op : module.getBody()->getOperations())
    if (!isKernel(&op))
      worklist.push_back(&op);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    std::optional<SymbolTable::UseRange> uses = SymbolTable::getSymbolUses(op);
    if (!uses)
      continue;
    for (const SymbolTable::SymbolUse &use : *uses) {
      Operation *callee = symbols.lookup(use.getSymbolRef().getRootReference());
      if (callee && isKernel(callee) && reached.insert(callee).second)
        worklist.push_back(callee);
    }
  }
  for (Operation &op :
       llvm::make_early_inc_range(module.getBody()->getOperations()))
    if (isKernel(&op) && !reached.contains(&op))
      op.erase();
}
