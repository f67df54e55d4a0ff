//===- HostPacking.cpp - Constant weights packed by the CPU kernels -------===//
//
// Packs constant weights by running the CPU backend's packing kernels at
// compile time (the way IREE's const-eval JITs its initializers), through
// the same runtime quilt-run uses. Reusing the run-time packer, rather than
// a second implementation of every format's projection and encoding, is
// what keeps the two bit-identical. All weights are packed by one JIT (two
// when some need the low-rank factorization, which is worth compiling
// optimized), in a fresh context.
//
//===----------------------------------------------------------------------===//

#include "HostPacking.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Parser/Parser.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "llvm/Support/Parallel.h"

#include <cstring>

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::packing;

namespace {

/// One array to pack as `type` by one pack function: a weight, or one
/// factor of a low-rank weight (packed as its dense type).
struct Piece {
  PackedType type;
  ElementsAttr weight;
  std::optional<runtime::HostArray> bytes;
};

/// Packs every piece, one JIT for all, the pieces on all cores.
LogicalResult packPieces(MutableArrayRef<Piece *> pieces, bool optimize,
                         unsigned threads, std::string &error) {
  if (pieces.empty())
    return success();
  SmallVector<PackedType> types;
  for (Piece *piece : pieces)
    types.push_back(piece->type);
  Packer packer;
  if (failed(packer.compile(Packer::print(types), optimize, threads, error)))
    return failure();
  std::vector<std::string> errors(pieces.size());
  llvm::parallelFor(0, pieces.size(), [&](size_t i) {
    auto bytes =
        packer.pack(i, runtime::viewElements(pieces[i]->weight), errors[i]);
    if (succeeded(bytes))
      pieces[i]->bytes = std::move(*bytes);
  });
  for (std::string &message : errors)
    if (!message.empty()) {
      error = message;
      return failure();
    }
  return success();
}

/// Whether packing `type` factorizes the weight (a long-running kernel).
bool factorizes(PackedType type) {
  StructureAttr structure = type.getStructure();
  return structure && structure.getKind() == StructureKind::LowRank;
}

} // namespace

FailureOr<std::unique_ptr<runtime::JitModule>> packing::compileInFreshContext(
    StringRef text, StringRef what, const runtime::CompileOptions &options,
    std::unique_ptr<MLIRContext> &context, std::string &error) {
  DialectRegistry registry;
  runtime::registerRuntimeDependencies(registry);
  context = std::make_unique<MLIRContext>(registry);
  context->disableMultithreading();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, context.get());
  if (!module) {
    error = ("cannot parse the " + what + " module").str();
    return failure();
  }
  auto jit = runtime::JitModule::compile(*module, options);
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return failure();
  }
  return std::move(*jit);
}

// Entry `@pack<i>` only takes a weight of the i-th type: preparing a call
// packs it (with the pack function the runtime adds).
std::string Packer::print(ArrayRef<PackedType> types) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (auto [i, type] : llvm::enumerate(types))
    os << "func.func @pack" << i << "(%w: " << type << ") {\n  return\n}\n";
  return text;
}

LogicalResult Packer::compile(const std::string &text, bool optimize,
                              unsigned threads, std::string &error) {
  runtime::CompileOptions options;
  options.pipeline = runtime::PipelineKind::CPU;
  options.threads = threads;
  options.optimize = optimize;
  options.optLevel = 1;
  auto compiled =
      compileInFreshContext(text, "packing", options, context, error);
  if (failed(compiled))
    return failure();
  jit = std::move(*compiled);
  return success();
}

FailureOr<runtime::HostArray> Packer::pack(size_t i, runtime::HostArray weight,
                                           std::string &error) const {
  std::vector<runtime::HostArray> inputs;
  inputs.push_back(std::move(weight));
  auto invocation = jit->prepare("pack" + std::to_string(i), std::move(inputs));
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

bool packing::hasByteLayout(PackedType type) {
  return CPUWeightLayout::get(type).has_value() ||
         cpu::hasCompressedLayout(type);
}

bool packing::canPackOnHost(const WeightToPack &weight) {
  if (weight.left)
    return weight.right && CPULowRankLayout::get(weight.type).has_value();
  return weight.weight && hasByteLayout(weight.type);
}

FailureOr<std::vector<runtime::HostArray>>
packing::packOnHost(ArrayRef<WeightToPack> weights, unsigned threads,
                    std::string &error) {
  // Per weight: its pieces (one, or a low-rank weight's two factors) and
  // where their bytes go.
  std::vector<std::vector<Piece>> pieces(weights.size());
  std::vector<std::vector<int64_t>> offsets(weights.size());
  std::vector<int64_t> totalBytes(weights.size(), 0);
  for (auto [i, weight] : llvm::enumerate(weights)) {
    if (!canPackOnHost(weight)) {
      std::string type;
      llvm::raw_string_ostream(type) << weight.type;
      error = "the CPU backend has no byte layout for " + type;
      return failure();
    }
    if (!weight.left) {
      pieces[i] = {{weight.type, weight.weight, {}}};
      offsets[i] = {0};
      continue;
    }
    CPULowRankLayout layout = *CPULowRankLayout::get(weight.type);
    pieces[i] = {{layout.left, weight.left, {}},
                 {layout.right, weight.right, {}}};
    offsets[i] = {0, layout.rightOffset};
    totalBytes[i] = layout.totalBytes;
  }

  // Run once: compiling fast matters more than running fast, except for
  // the low-rank factorization (subspace iteration), which runs long, and
  // for many weights.
  SmallVector<Piece *> fast, slow;
  int64_t fastElements = 0;
  for (std::vector<Piece> &list : pieces)
    for (Piece &piece : list) {
      (factorizes(piece.type) ? slow : fast).push_back(&piece);
      if (!factorizes(piece.type))
        fastElements += piece.weight.getNumElements();
    }
  if (fastElements > runtime::kOptimizeRunOnceAboveWeightElements) {
    slow.append(fast.begin(), fast.end());
    fast.clear();
  }
  if (failed(packPieces(fast, /*optimize=*/false, threads, error)) ||
      failed(packPieces(slow, /*optimize=*/true, threads, error)))
    return failure();

  std::vector<runtime::HostArray> packed;
  for (auto [list, at, total] : llvm::zip(pieces, offsets, totalBytes)) {
    if (list.size() == 1) {
      packed.push_back(*list.front().bytes);
      continue;
    }
    runtime::HostArray bytes(runtime::ElementKind::I8, {total});
    for (auto [piece, offset] : llvm::zip(list, at))
      std::memcpy(static_cast<char *>(bytes.getData()) + offset,
                  piece.bytes->getData(),
                  size_t(piece.bytes->getNumElements()));
    packed.push_back(std::move(bytes));
  }
  return packed;
}

PackedConstantOp
packing::createPackedConstant(OpBuilder &b, Location loc, PackedType type,
                              const runtime::HostArray &bytes) {
  auto bytesType =
      RankedTensorType::get({bytes.getNumElements()}, b.getIntegerType(8));
  AsmResourceBlob blob(
      ArrayRef<char>(static_cast<const char *>(bytes.getData()),
                     size_t(bytes.getNumElements())),
      /*dataAlignment=*/1, [bytes](void *, size_t, size_t) {},
      /*dataIsMutable=*/false);
  auto attr =
      DenseResourceElementsAttr::get(bytesType, "packed", std::move(blob));
  return PackedConstantOp::create(b, loc, type, b.getStringAttr("cpu"), attr);
}
