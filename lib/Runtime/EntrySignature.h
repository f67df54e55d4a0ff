//===- EntrySignature.h - Quilt-level signatures of entries -----*- C++ -*-===//
//
// Private to QuiltRuntime: what JitModule records about each function before
// lowering (the signature callers see, the pack function of each packed
// argument) and the checks of host inputs against it.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_RUNTIME_ENTRYSIGNATURE_H
#define QUILT_LIB_RUNTIME_ENTRYSIGNATURE_H

#include "quilt/Runtime/JitRunner.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::quilt::runtime {

/// A public function of the module as seen before lowering.
struct FunctionRecord {
  EntrySignature signature;
  /// Why the function cannot be called (dynamic shape, unsupported type...);
  /// empty when it can.
  std::string unsupported;
  /// Per argument: the synthesized function that packs it, or "" for plain
  /// tensors.
  std::vector<std::string> packFunctions;
};

/// Records every public function with a body of `module` and, for each
/// distinct `!quilt.packed` argument type, adds a public function
/// `@__quilt_pack_<i>(tensor<KxNxf32>) -> !quilt.packed<...>` that packs it,
/// so the pipeline lowers packing exactly as it lowers the entry. Marks the
/// entries' tensor arguments `bufferization.writable = false`: callers pass
/// their arrays without copying them. For the CPU pipeline, records which
/// packed arguments may be given as bytes (ArgumentInfo::packedBytes).
/// Without `packFunctions`, no pack function is added: packed arguments
/// must then be given as bytes, and a function with a packed argument the
/// pipeline stores in no byte layout is unsupported.
llvm::StringMap<FunctionRecord> recordFunctions(ModuleOp module,
                                                PipelineKind pipeline,
                                                bool packFunctions = true);

/// Whether `input` is the packed bytes of packed weight argument `arg`.
bool isPackedBytes(const ArgumentInfo &arg, const HostArray &input);

/// Checks `inputs` against the signature of `entry`; the error names the
/// entry, the argument, the expected type and what was given.
llvm::Error checkInputs(llvm::StringRef entry, const EntrySignature &signature,
                        llvm::ArrayRef<HostArray> inputs);

} // namespace mlir::quilt::runtime

#endif // QUILT_LIB_RUNTIME_ENTRYSIGNATURE_H
