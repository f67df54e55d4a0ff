//===- Passes.h - Quilt conversion passes -----------------------*- C++ -*-===//
//
// Declares the passes that lower quilt IR to other dialects.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_CONVERSION_PASSES_H
#define QUILT_CONVERSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Conversion/QuiltToLinalg/QuiltToLinalg.h"

namespace mlir::quilt {

#define GEN_PASS_DECL
#include "quilt/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quilt/Conversion/Passes.h.inc"

} // namespace mlir::quilt

#endif // QUILT_CONVERSION_PASSES_H
