//===- InitAllDialects.h - Register Quilt's dialects ------------*- C++ -*-===//
//
// Adds every dialect Quilt defines to a registry.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_INITALLDIALECTS_H
#define QUILT_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"

namespace mlir::quilt {

inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<QuiltDialect>();
}

} // namespace mlir::quilt

#endif // QUILT_INITALLDIALECTS_H
