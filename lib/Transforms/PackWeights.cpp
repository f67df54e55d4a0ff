//===- PackWeights.cpp - quilt-pack-weights ---------------------*- C++ -*-===//
//
// Folds quilt.pack (and quilt.pack_factors) of constant weights into
// quilt.packed_constant "cpu" by running the CPU backend's own packing
// kernels at compile time (the way IREE's const-eval JITs its initializers),
// through the same runtime quilt-run uses. Reusing the run-time packer,
// rather than a second implementation of every format's projection and
// encoding, is what keeps the two bit-identical. All weights of the module
// are packed by one JIT (two when some need the low-rank factorization,
// which is worth compiling optimized), in a fresh context.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/JitRunner.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"

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

/// A constant dense weight to store in a packed type, and its bytes once
/// packed.
struct Piece {
  PackedType type;
  ElementsAttr weight; // dense or dense_resource
  std::optional<runtime::HostArray> bytes;
};

/// Packs every piece by the CPU packing kernels, one JIT for all: entry
/// `@pack<i>` only takes piece i's weight, and preparing a call packs it.
LogicalResult packOnHost(MutableArrayRef<Piece *> pieces, bool optimize,
                         unsigned threads, std::string &error) {
  if (pieces.empty())
    return success();
  std::string text;
  llvm::raw_string_ostream os(text);
  for (auto [i, piece] : llvm::enumerate(pieces))
    os << "func.func @pack" << i << "(%w: " << piece->type
       << ") {\n  return\n}\n";

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
  options.optimize = optimize;
  options.optLevel = 1;
  auto jit = runtime::JitModule::compile(*module, options);
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return failure();
  }

  for (auto [i, piece] : llvm::enumerate(pieces)) {
    std::vector<runtime::HostArray> inputs;
    inputs.push_back(runtime::viewElements(piece->weight));
    auto invocation =
        (*jit)->prepare("pack" + std::to_string(i), std::move(inputs));
    if (!invocation) {
      error = llvm::toString(invocation.takeError());
      return failure();
    }
    auto bytes = (*invocation)->getPackedArgument(0);
    if (!bytes) {
      error = llvm::toString(bytes.takeError());
      return failure();
    }
    piece->bytes = std::move(*bytes);
  }
  return success();
}

/// A pack op to fold: its pieces (one, or a low-rank weight's two factors,
/// each packed as its dense type) and where their bytes go.
struct Fold {
  Operation *op;
  PackedType type;
  std::vector<Piece> pieces;
  std::vector<int64_t> offsets;
  int64_t totalBytes = 0;
};

std::optional<Fold> matchFold(Operation *op) {
  if (auto pack = dyn_cast<PackOp>(op)) {
    ElementsAttr weight;
    PackedType type = pack.getResult().getType();
    if (!hasCPULayout(type) ||
        !matchPattern(pack.getInput(), m_Constant(&weight)))
      return std::nullopt;
    return Fold{op, type, {{type, weight, {}}}, {0}, 0};
  }
  auto pack = dyn_cast<PackFactorsOp>(op);
  ElementsAttr left, right;
  if (!pack || !matchPattern(pack.getLeft(), m_Constant(&left)) ||
      !matchPattern(pack.getRight(), m_Constant(&right)))
    return std::nullopt;
  PackedType type = pack.getResult().getType();
  std::optional<CPULowRankLayout> layout = CPULowRankLayout::get(type);
  if (!layout)
    return std::nullopt;
  return Fold{op,
              type,
              {{layout->left, left, {}}, {layout->right, right, {}}},
              {0, layout->rightOffset},
              layout->totalBytes};
}

/// Whether packing `type` factorizes the weight (a long-running kernel).
bool factorizes(PackedType type) {
  StructureAttr structure = type.getStructure();
  return structure && structure.getKind() == StructureKind::LowRank;
}

struct QuiltPackWeightsPass
    : quilt::impl::QuiltPackWeightsBase<QuiltPackWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::vector<Fold> folds;
    getOperation().walk([&](Operation *op) {
      if (std::optional<Fold> fold = matchFold(op))
        folds.push_back(std::move(*fold));
    });

    // Run once: compiling fast matters more than running fast, except for
    // the low-rank factorization (subspace iteration), which runs long, and
    // for many weights.
    SmallVector<Piece *> fast, slow;
    int64_t fastElements = 0;
    for (Fold &fold : folds)
      for (Piece &piece : fold.pieces) {
        (factorizes(piece.type) ? slow : fast).push_back(&piece);
        if (!factorizes(piece.type))
          fastElements += piece.weight.getNumElements();
      }
    if (fastElements > runtime::kOptimizeRunOnceAboveWeightElements) {
      slow.append(fast.begin(), fast.end());
      fast.clear();
    }
    std::string error;
    if (failed(packOnHost(fast, /*optimize=*/false, threads, error)) ||
        failed(packOnHost(slow, /*optimize=*/true, threads, error))) {
      getOperation().emitError(
          "cannot pack the constant weights at compile time: ")
          << error;
      return signalPassFailure();
    }

    for (Fold &fold : folds) {
      runtime::HostArray bytes =
          fold.pieces.size() == 1
              ? *fold.pieces.front().bytes
              : runtime::HostArray(runtime::ElementKind::I8, {fold.totalBytes});
      if (fold.pieces.size() > 1) {
        for (auto [piece, offset] : llvm::zip(fold.pieces, fold.offsets))
          std::memcpy(static_cast<char *>(bytes.getData()) + offset,
                      piece.bytes->getData(),
                      size_t(piece.bytes->getNumElements()));
      }
      OpBuilder b(fold.op);
      auto bytesType =
          RankedTensorType::get({bytes.getNumElements()}, b.getIntegerType(8));
      // A dense_resource over the packing kernel's own buffer: neither
      // copied nor hashed (a DenseElementsAttr would do both: 270 MB for
      // the LLM example in bf16). The blob keeps the buffer alive.
      AsmResourceBlob blob(
          ArrayRef<char>(static_cast<const char *>(bytes.getData()),
                         size_t(bytes.getNumElements())),
          /*dataAlignment=*/1, [bytes](void *, size_t, size_t) {},
          /*dataIsMutable=*/false);
      auto attr =
          DenseResourceElementsAttr::get(bytesType, "packed", std::move(blob));
      auto constant = PackedConstantOp::create(b, fold.op->getLoc(), fold.type,
                                               b.getStringAttr("cpu"), attr);
      llvm::SetVector<Operation *> inputs;
      for (Value input : fold.op->getOperands())
        inputs.insert(input.getDefiningOp());
      fold.op->getResult(0).replaceAllUsesWith(constant.getResult());
      fold.op->erase();
      for (Operation *def : inputs)
        if (def && def->use_empty())
          def->erase();
    }
  }
};

} // namespace
