//===- InitAllDialects.h - Register Quilt's dialects ------------*- C++ -*-===//
//
// Adds every dialect Quilt defines to a registry.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_INITALLDIALECTS_H
#define QUILT_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"

namespace mlir::quilt {

inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<QuiltDialect>();
  // quilt-nvptx-pipeline translates its gpu.module to LLVM IR for the
  // NVPTX backend (gpu-module-to-binary).
  registerAllGPUToLLVMIRTranslations(registry);
}

} // namespace mlir::quilt

#endif // QUILT_INITALLDIALECTS_H
