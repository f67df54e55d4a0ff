//===- QuiltTypes.h - The packed weight type --------------------*- C++ -*-===//
//
// Declares !quilt.packed.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_QUILT_QUILTTYPES_H
#define QUILT_DIALECT_QUILT_QUILTTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

#define GET_TYPEDEF_CLASSES
#include "quilt/Dialect/Quilt/QuiltOpsTypes.h.inc"

#endif // QUILT_DIALECT_QUILT_QUILTTYPES_H
