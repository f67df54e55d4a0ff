//===- QuiltDialect.cpp - The quilt dialect --------------------*- C++ -*-===//
//
// This file implements the quilt dialect's registration.
//
//===----------------------------------------------------------------------===//

#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

using namespace mlir;
using namespace mlir::quilt;

#include "quilt/Dialect/Quilt/QuiltOpsDialect.cpp.inc"

void QuiltDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "quilt/Dialect/Quilt/QuiltOps.cpp.inc"
      >();
}
