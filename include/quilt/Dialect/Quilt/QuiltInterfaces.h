//===- QuiltInterfaces.h - Quilt op interfaces ------------------*- C++ -*-===//
//
// Declares the interfaces shared by quilt ops.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_QUILT_QUILTINTERFACES_H
#define QUILT_DIALECT_QUILT_QUILTINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "quilt/Dialect/Quilt/QuiltInterfaces.h.inc"

#endif // QUILT_DIALECT_QUILT_QUILTINTERFACES_H
