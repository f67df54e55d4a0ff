//===- ScratchModule.cpp - Modules quilt-select-formats runs once ---------===//
//
// This file implements the JIT-compiled modules of quilt-select-formats'
// measurements and end-to-end check.
//
//===----------------------------------------------------------------------===//

#include "ScratchModule.h"
#include "HostPacking.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::select;

std::string ScratchModule::print(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  module.print(os, OpPrintingFlags()
                       .elideLargeElementsAttrs(kNever)
                       .elideLargeResourceString(kNever)
                       .skipRegions(false));
  return text;
}

LogicalResult ScratchModule::compileText(const std::string &text,
                                         std::string &error) {
  runtime::CompileOptions options;
  options.pipeline = runtime::PipelineKind::CPU;
  // Run once: packing constants inside the entry beats a JIT per weight.
  options.packConstantWeights = false;
  // Weights come packed or are packed inside: packing arguments is not
  // worth compiling.
  options.packFunctions = false;
  options.optimize = optimize;
  options.optLevel = 1;
  options.threads = threads;
  auto compiled = packing::compileInFreshContext(text, "measurement", options,
                                                 context, error);
  if (failed(compiled))
    return failure();
  jit = std::move(*compiled);
  return success();
}

FailureOr<std::vector<runtime::HostArray>>
ScratchModule::call(StringRef entry, std::vector<runtime::HostArray> inputs,
                    std::string &error) const {
  auto invocation = jit->prepare(entry, std::move(inputs));
  if (!invocation) {
    error = llvm::toString(invocation.takeError());
    return failure();
  }
  if (llvm::Error e = (*invocation)->run()) {
    error = llvm::toString(std::move(e));
    return failure();
  }
  auto results = (*invocation)->getResults();
  if (!results) {
    error = llvm::toString(results.takeError());
    return failure();
  }
  return std::move(*results);
}
