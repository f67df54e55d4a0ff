//===- QuiltAttrs.h - Weight format attributes ------------------*- C++ -*-===//
//
// Declares the precision, sparsity, structure and format attributes.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_QUILT_QUILTATTRS_H
#define QUILT_DIALECT_QUILT_QUILTATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/APFloat.h"

#include "quilt/Dialect/Quilt/QuiltEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "quilt/Dialect/Quilt/QuiltAttrs.h.inc"

#endif // QUILT_DIALECT_QUILT_QUILTATTRS_H
