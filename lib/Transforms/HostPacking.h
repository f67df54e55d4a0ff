//===- HostPacking.h - Constant weights packed by the CPU kernels -*- C++ -*-=//
//
// Shared by quilt-pack-weights (PackWeights.cpp), which folds quilt.pack of
// constants, and quilt-select-formats (FormatErrors.cpp), whose end-to-end
// check runs the chosen formats and hands their bytes on, so that the
// pipeline packs each weight once.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_TRANSFORMS_HOSTPACKING_H
#define QUILT_LIB_TRANSFORMS_HOSTPACKING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/JitRunner.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::quilt::packing {

/// Parses `text` in a fresh context (returned in `context`, which must
/// outlive the module) and JIT-compiles it: touches nothing of the caller's
/// context, so it may run on another thread. `what` names the module in
/// the parse error.
FailureOr<std::unique_ptr<runtime::JitModule>> compileInFreshContext(
    StringRef text, StringRef what, const runtime::CompileOptions &options,
    std::unique_ptr<MLIRContext> &context, std::string &error);

/// The CPU backend's packing kernels for some packed types, JIT-compiled
/// together in a fresh context: bytes made by them are bit-identical to
/// packing at run time.
class Packer {
public:
  /// The module of pack functions for `types` as text, built here so that
  /// compile() may run on another thread.
  static std::string print(ArrayRef<PackedType> types);

  /// Compiles the text print() made (touches no other context); `optimize`
  /// and `threads` as in runtime::CompileOptions.
  LogicalResult compile(const std::string &text, bool optimize,
                        unsigned threads, std::string &error);

  /// `weight` (dense f32 K x N) packed as the i-th type: its bytes in the
  /// CPU layout. Safe to call from several threads at once.
  FailureOr<runtime::HostArray> pack(size_t i, runtime::HostArray weight,
                                     std::string &error) const;

private:
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<runtime::JitModule> jit;
};

/// A constant weight to store in `type`: `weight` (as quilt.pack does) or,
/// for a low-rank type, its factors `left` (K x r) and `right` (r x N) (as
/// quilt.pack_factors does).
struct WeightToPack {
  PackedType type;
  ElementsAttr weight;
  ElementsAttr left, right;
};

/// Whether the CPU backend stores `type` as bytes of its own (Packer can
/// pack it).
bool hasByteLayout(PackedType type);

/// Whether packOnHost can pack `weight`: its type has a CPU byte layout (for
/// factors: the low-rank layout).
bool canPackOnHost(const WeightToPack &weight);

/// The bytes of each weight in the CPU layout of its type, made by the CPU
/// backend's own packing kernels (JIT-compiled in a fresh context, each
/// weight packed by `threads` threads, the weights on all cores), so that
/// they are bit-identical to packing at run time. Fails with a message in
/// `error`.
FailureOr<std::vector<runtime::HostArray>>
packOnHost(ArrayRef<WeightToPack> weights, unsigned threads,
           std::string &error);

/// `quilt.packed_constant "cpu"` of `bytes` (packed as `type`): a
/// dense_resource over the array's own buffer, neither copied nor hashed
/// (a DenseElementsAttr would do both: 270 MB for the LLM example in
/// bf16). The attribute keeps the buffer alive.
PackedConstantOp createPackedConstant(OpBuilder &b, Location loc,
                                      PackedType type,
                                      const runtime::HostArray &bytes);

} // namespace mlir::quilt::packing

#endif // QUILT_LIB_TRANSFORMS_HOSTPACKING_H
