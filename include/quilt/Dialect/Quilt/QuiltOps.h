//===- QuiltOps.h - Quilt operations ----------------------------*- C++ -*-===//
//
// Declares the ops of the quilt dialect (and pulls in its attributes, types
// and interfaces).
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_QUILT_QUILTOPS_H
#define QUILT_DIALECT_QUILT_QUILTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "quilt/Dialect/Quilt/QuiltInterfaces.h"
#include "quilt/Dialect/Quilt/QuiltTypes.h"

#define GET_OP_CLASSES
#include "quilt/Dialect/Quilt/QuiltOps.h.inc"

#endif // QUILT_DIALECT_QUILT_QUILTOPS_H
