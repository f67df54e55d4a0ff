//===- PackWeights.cpp - quilt-pack-weights ---------------------*- C++ -*-===//
//
// Folds quilt.pack of constant weights into quilt.packed_constant "cpu" by
// running the CPU backend's own packing kernel at compile time (the way
// IREE's const-eval JITs its initializers): one JIT per distinct weight, in
// a fresh context, through the same runtime quilt-run uses. Reusing the
// run-time packer, rather than a second implementation of every format's
// projection and encoding, is what keeps the two bit-identical.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/JitRunner.h"
#include "quilt/Transforms/Passes.h"

#include <cstring>

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTPACKWEIGHTS
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {

/// Whether the CPU backend stores `type` in a byte layout of its own.
bool hasCPULayout(PackedType type) {
  return CPUWeightLayout::get(type).has_value() ||
         cpu::hasCompressedLayout(type);
}

/// The bytes the CPU packing kernel of `type` produces for `weight`.
FailureOr<std::vector<uint8_t>> packOnHost(PackedType type,
                                           DenseElementsAttr weight,
                                           unsigned threads,
                                           std::string &error) {
  std::string typeText;
  llvm::raw_string_ostream(typeText) << type;
  // An entry that only takes the weight: preparing a call packs it.
  std::string text = "func.func @pack(%w: " + typeText + ") {\n  return\n}\n";

  DialectRegistry registry;
  runtime::registerRuntimeDependencies(registry);
  MLIRContext context(registry);
  context.disableMultithreading();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  if (!module) {
    error = "cannot build the packing module";
    return failure();
  }
  runtime::CompileOptions options;
  options.pipeline = runtime::PipelineKind::CPU;
  options.threads = threads;
  // Run once: compiling fast matters more than running fast, except for the
  // low-rank factorization (subspace iteration), which runs long.
  StructureAttr structure = type.getStructure();
  options.optimize = structure && structure.getKind() == StructureKind::LowRank;
  auto jit = runtime::JitModule::compile(*module, options);
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return failure();
  }

  runtime::HostArray dense(runtime::ElementKind::F32,
                           {type.getRows(), type.getCols()});
  auto *data = static_cast<float *>(dense.getData());
  int64_t i = 0;
  for (float value : weight.getValues<float>())
    data[i++] = value;
  std::vector<runtime::HostArray> inputs;
  inputs.push_back(std::move(dense));
  auto invocation = (*jit)->prepare("pack", std::move(inputs));
  if (!invocation) {
    error = llvm::toString(invocation.takeError());
    return failure();
  }
  auto bytes = (*invocation)->getPackedArgument(0);
  if (!bytes) {
    error = llvm::toString(bytes.takeError());
    return failure();
  }
  return std::move(*bytes);
}

struct QuiltPackWeightsPass
    : quilt::impl::QuiltPackWeightsBase<QuiltPackWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<PackOp> packs;
    getOperation().walk([&](PackOp op) {
      DenseElementsAttr weight;
      if (hasCPULayout(op.getResult().getType()) &&
          matchPattern(op.getInput(), m_Constant(&weight)))
        packs.push_back(op);
    });

    for (PackOp op : packs) {
      DenseElementsAttr weight;
      matchPattern(op.getInput(), m_Constant(&weight));
      PackedType type = op.getResult().getType();
      std::string error;
      FailureOr<std::vector<uint8_t>> bytes =
          packOnHost(type, weight, threads, error);
      if (failed(bytes)) {
        op.emitError("cannot pack the constant weight at compile time: ")
            << error;
        return signalPassFailure();
      }
      OpBuilder b(op);
      auto bytesType =
          RankedTensorType::get({int64_t(bytes->size())}, b.getIntegerType(8));
      auto attr = DenseElementsAttr::getFromRawBuffer(
          bytesType,
          ArrayRef<char>(reinterpret_cast<const char *>(bytes->data()),
                         bytes->size()));
      auto constant = PackedConstantOp::create(b, op.getLoc(), type,
                                               b.getStringAttr("cpu"), attr);
      Value input = op.getInput();
      op.replaceAllUsesWith(constant.getResult());
      op.erase();
      if (Operation *def = input.getDefiningOp(); def && def->use_empty())
        def->erase();
    }
  }
};

} // namespace
