//===- LoadWeights.cpp - quilt-load-weights ---------------------*- C++ -*-===//
//
// This file implements the pass that binds function arguments annotated with
// `quilt.weight = "FILE.npy"` to constants read from the file, so that weights
// live in .npy files rather than in IR text, yet are visible to the passes
// that work on constant weights (quilt-select-formats, quilt-pack-weights).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/JitRunner.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/Support/Path.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTLOADWEIGHTS
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {

constexpr StringLiteral kWeightAttr = "quilt.weight";

/// The element type an .npy array of `kind` holds.
Type getElementType(MLIRContext *context, runtime::ElementKind kind) {
  Builder b(context);
  switch (kind) {
  case runtime::ElementKind::F32:
    return b.getF32Type();
  case runtime::ElementKind::F16:
    return b.getF16Type();
  case runtime::ElementKind::BF16:
    return b.getBF16Type();
  case runtime::ElementKind::I8:
    return b.getIntegerType(8);
  case runtime::ElementKind::I32:
    return b.getI32Type();
  case runtime::ElementKind::I64:
    return b.getI64Type();
  }
  return {};
}

struct QuiltLoadWeightsPass
    : quilt::impl::QuiltLoadWeightsBase<QuiltLoadWeightsPass> {
  using Base::Base;

  /// Replaces argument `index` of `func` by the constant in its file.
  LogicalResult bind(func::FuncOp func, unsigned index, StringAttr file) {
    SmallString<256> path(file.getValue());
    if (!dir.empty() && llvm::sys::path::is_relative(path)) {
      path = dir;
      llvm::sys::path::append(path, file.getValue());
    }
    BlockArgument arg = func.getArgument(index);
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape())
      return func.emitError("argument #")
             << index << " bound to '" << path
             << "' must be a statically shaped tensor, got " << arg.getType();
    llvm::Expected<runtime::HostArray> array = runtime::readNpy(path);
    if (!array)
      return func.emitError("cannot read the weight of argument #")
             << index << ": " << llvm::toString(array.takeError());
    Type element = getElementType(func.getContext(), array->getKind());
    if (element != type.getElementType() ||
        ArrayRef<int64_t>(array->getShape()) != type.getShape())
      return func.emitError("argument #")
             << index << " is " << type << " but '" << path << "' holds "
             << array->describe();

    // The attribute holds the file's mapped data itself: no copy, no hash
    // of the LLM example's 540 MB (a DenseElementsAttr would do both). The
    // blob keeps the array, hence the mapping, alive.
    unsigned elementSize = runtime::getElementSize(array->getKind());
    auto bytes = ArrayRef<char>(static_cast<const char *>(array->getData()),
                                array->getNumElements() * elementSize);
    AsmResourceBlob blob(
        bytes, elementSize,
        [keep = std::move(*array)](void *, size_t, size_t) {},
        /*dataIsMutable=*/false);
    auto value = DenseResourceElementsAttr::get(
        type, llvm::sys::path::stem(path), std::move(blob));
    OpBuilder b(func.getBody());
    auto constant = arith::ConstantOp::create(b, arg.getLoc(), type, value);
    arg.replaceAllUsesWith(constant);
    return success();
  }

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      llvm::BitVector bound(func.getNumArguments());
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
        auto file = func.getArgAttrOfType<StringAttr>(i, kWeightAttr);
        if (!file)
          continue;
        if (failed(bind(func, i, file)))
          return signalPassFailure();
        bound.set(i);
      }
      if (bound.any() && failed(func.eraseArguments(bound)))
        return signalPassFailure();
    }
  }
};

} // namespace
