//===- ScratchModule.h - Modules quilt-select-formats runs once -*- C++ -*-===//
//
// The error measurements (FormatErrors.cpp, OutputErrors.cpp) and the
// end-to-end check build small modules out of quilt ops and JIT-compile
// them through quilt-cpu-pipeline, so that their figures are those of the
// very kernels the program will run.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_TRANSFORMS_SCRATCHMODULE_H
#define QUILT_LIB_TRANSFORMS_SCRATCHMODULE_H

#include "mlir/IR/BuiltinOps.h"
#include "quilt/Runtime/JitRunner.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::quilt::select {

/// A module JIT-compiled by quilt-cpu-pipeline in a context of its own, so
/// that compiling it never touches the context the pass runs in. Its packed
/// weight arguments must be given as bytes (no pack functions are
/// compiled).
class ScratchModule {
public:
  /// `optimize`: compile it at O1 rather than O0; `threads`: the worker
  /// threads of its kernels (runtime::CompileOptions).
  explicit ScratchModule(bool optimize, unsigned threads = 1)
      : optimize(optimize), threads(threads) {}

  /// `module` (built in the pass's context) as text, for compileText:
  /// whole, whatever --mlir-elide-* or --mlir-print-skip-regions flags
  /// the tool was given.
  static std::string print(ModuleOp module);

  /// Prints `module`, parses it in a fresh context and compiles it.
  LogicalResult compile(ModuleOp module, std::string &error) {
    return compileText(print(module), error);
  }

  /// Parses `text` in a fresh context and compiles it: touches nothing of
  /// the pass's context, so it may run on another thread.
  LogicalResult compileText(const std::string &text, std::string &error);

  /// Calls `entry` once and returns its results. Safe to call from several
  /// threads at once.
  FailureOr<std::vector<runtime::HostArray>>
  call(StringRef entry, std::vector<runtime::HostArray> inputs,
       std::string &error) const;

private:
  bool optimize;
  unsigned threads;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<runtime::JitModule> jit;
};

} // namespace mlir::quilt::select

#endif // QUILT_LIB_TRANSFORMS_SCRATCHMODULE_H
