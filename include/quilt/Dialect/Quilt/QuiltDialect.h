//===- QuiltDialect.h - The quilt dialect -----------------------*- C++ -*-===//
//
// Declares the quilt dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_QUILT_QUILTDIALECT_H
#define QUILT_DIALECT_QUILT_QUILTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "quilt/Dialect/Quilt/QuiltOpsDialect.h.inc"

#endif // QUILT_DIALECT_QUILT_QUILTDIALECT_H
