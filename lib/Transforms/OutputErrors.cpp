//===- OutputErrors.cpp - Format errors on calibration activations -*- C++ -*-//
//
// This file implements quilt-select-formats' output-error measurement: each
// layer's linear is run on its recorded calibration input in every candidate
// format and compared with its dense output, by kernels JIT-compiled through
// quilt-cpu-pipeline (ScratchModule), so the errors are those of the very
// kernels the program will run.
//
//===----------------------------------------------------------------------===//

#include "HostPacking.h"
#include "ScratchModule.h"
#include "SelectFormats.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Parallel.h"

#include <atomic>
#include <numeric>
#include <thread>

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::select;

namespace {

/// Layers wider than kSampleAboveColumns have their errors measured on an
/// even sample of kSampledColumns columns, where every candidate stores each
/// column on its own. 512 rather than 1024 took a third off the LLM
/// example's selection (0.6 s on a Zen 3 VM), its errors within 3%.
constexpr int64_t kSampleAboveColumns = 1024, kSampledColumns = 512;

/// Whether `type` stores every column of the weight independently of the
/// others (per-channel or group scales, N:M along K, no structure): then a
/// column's output error is the same measured alone, and the error over a
/// sample of columns estimates the whole.
bool storesColumnsApart(PackedType type) {
  SparsityAttr sparsity = type.getSparsity();
  return type.getPrecision().getGranularity() != Granularity::Tensor &&
         type.getStructure().isDense() &&
         (sparsity.isDense() || sparsity.getKind() == SparsityKind::NM);
}

/// The columns of layer `layer` to measure on: empty for all of them.
std::vector<int64_t> getMeasuredColumns(const Layer &layer) {
  int64_t n = layer.op.getOutputSize();
  bool separable = llvm::all_of(layer.candidates, [](const Candidate &c) {
    return c.errorKnown || storesColumnsApart(c.format);
  });
  if (n <= kSampleAboveColumns || !separable)
    return {};
  std::vector<int64_t> columns;
  for (int64_t j = 0; j < kSampledColumns; ++j)
    columns.push_back(j * n / kSampledColumns);
  return columns;
}

/// The weight's `columns` (all of them if empty) in a host array.
runtime::HostArray getColumns(ElementsAttr weight, ArrayRef<int64_t> columns) {
  runtime::HostArray all = runtime::viewElements(weight);
  if (columns.empty())
    return all;
  int64_t k = all.getShape()[0], n = all.getShape()[1];
  int64_t m = int64_t(columns.size());
  runtime::HostArray some(runtime::ElementKind::F32, {k, m});
  const auto *from = static_cast<const float *>(all.getData());
  auto *to = static_cast<float *>(some.getData());
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < m; ++j)
      to[i * m + j] = from[i * n + columns[j]];
  return some;
}

/// Runs `run(i)` for every i < count on all cores, in the order `before`
/// sorts them: the longest first, so that no core idles at the end. Each
/// worker takes the next in that order (llvm::parallelFor's tasks ran
/// last-first).
template <typename BeforeFn, typename RunFn>
void runLongestFirst(size_t count, BeforeFn before, RunFn run) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, before);
  std::atomic<size_t> next{0};
  unsigned workers = llvm::parallel::strategy.compute_thread_count();
  llvm::parallelFor(0, workers, [&](size_t) {
    for (size_t i = next++; i < count; i = next++)
      run(order[i]);
  });
}

/// The output errors of one function's layers: call (l, c) computes layer
/// l's linear (without bias: it cancels in the difference, not in the norm,
/// which is why the dense output is taken with the same function shape) on
/// its recorded input in candidate c; call (l, 0) is the dense output.
class OutputErrors {
public:
  explicit OutputErrors(MutableArrayRef<Layer> layers);

  LogicalResult measure(CaptureFn capture, std::string &error);

private:
  /// Candidate c of layer l as measured: for the sampled columns.
  Candidate getMeasured(size_t l, size_t c) const;
  /// The functions of the calls (@e<l>_<c>).
  OwningOpRef<ModuleOp> buildCalls() const;
  /// Packs toPack, then runs the calls on all cores; fills the errors.
  LogicalResult run(const packing::Packer &packer, const ScratchModule &jit,
                    ArrayRef<runtime::HostArray> activations,
                    std::string &error);
  int64_t getSampledElements(size_t l) const {
    return weights[l]->getNumElements();
  }

  MutableArrayRef<Layer> layers;
  /// Per layer: the columns measured, empty for all.
  std::vector<std::vector<int64_t>> columns;
  std::vector<std::pair<size_t, size_t>> calls;
  /// Weights in a format the CPU backend stores as bytes are packed before
  /// the calls, once per layer and format (i4 and i4a8 share one), by
  /// packing kernels compiled optimized beside the measurement kernels:
  /// packing inside the calls, at O0, was most of their time (LLM block on
  /// Zen 3: int4 at 25 ns per element). Per call: its weight's entry in
  /// toPack, or -1 when the call packs it itself.
  std::vector<std::pair<size_t, PackedType>> toPack;
  std::vector<int> packIndex;
  /// Per call: the function it calls. Calls whose weight comes packed share
  /// one when their input type, format and activation precision are the
  /// same (the LLM block's gate and up projections).
  std::vector<std::string> entries;
  /// Per layer with calls: its weight's measured columns.
  std::vector<std::optional<runtime::HostArray>> weights;
};

std::string getEntryName(size_t layer, size_t candidate) {
  return "e" + std::to_string(layer) + "_" + std::to_string(candidate);
}

OutputErrors::OutputErrors(MutableArrayRef<Layer> layers)
    : layers(layers), weights(layers.size()) {
  for (Layer &layer : layers) {
    columns.push_back(getMeasuredColumns(layer));
    layer.sampledColumns = int64_t(columns.back().size());
    layer.candidates[0].error = 0;
  }
  for (size_t l = 0; l < layers.size(); ++l)
    for (size_t c = 1; c < layers[l].candidates.size(); ++c)
      if (!layers[l].candidates[c].errorKnown) {
        if (calls.empty() || calls.back().first != l)
          calls.push_back({l, 0});
        calls.push_back({l, c});
      }
  DenseMap<std::tuple<Type, Type, Attribute>, size_t> sharing;
  for (auto [i, call] : llvm::enumerate(calls)) {
    auto [l, c] = call;
    Candidate candidate = getMeasured(l, c);
    entries.push_back(getEntryName(l, c));
    packIndex.push_back(-1);
    if (candidate.left || !packing::hasByteLayout(candidate.format))
      continue;
    std::pair<size_t, PackedType> key{l, candidate.format};
    packIndex[i] = int(llvm::find(toPack, key) - toPack.begin());
    if (packIndex[i] == int(toPack.size()))
      toPack.push_back(key);
    auto first = sharing.try_emplace(
        {layers[l].op.getInput().getType(), candidate.format, candidate.act},
        i);
    entries[i] = entries[first.first->second];
  }
}

Candidate OutputErrors::getMeasured(size_t l, size_t c) const {
  Candidate candidate = layers[l].candidates[c];
  if (!columns[l].empty())
    candidate.format = PackedType::get(
        candidate.format.getContext(), layers[l].op.getReductionSize(),
        int64_t(columns[l].size()), candidate.format.getFormat());
  return candidate;
}

OwningOpRef<ModuleOp> OutputErrors::buildCalls() const {
  Location loc = layers.front().op.getLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(loc.getContext());
  b.setInsertionPointToEnd(module->getBody());
  for (auto [i, call] : llvm::enumerate(calls)) {
    auto [l, c] = call;
    // Another call's function.
    if (entries[i] != getEntryName(l, c))
      continue;
    Candidate candidate = getMeasured(l, c);
    RankedTensorType dense = candidate.format.getUnpackedType();
    Type weightType = dense;
    if (packIndex[i] >= 0)
      weightType = candidate.format;
    // Static: the cost model has already refused dynamic shapes.
    auto x = cast<RankedTensorType>(layers[l].op.getInput().getType());
    auto y = RankedTensorType::get({x.getDimSize(0), dense.getDimSize(1)},
                                   b.getF32Type());
    auto func = func::FuncOp::create(b, loc, entries[i],
                                     b.getFunctionType({x, weightType}, {y}));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(func.addEntryBlock());
    auto linear = LinearOp::create(b, loc, y, func.getArgument(0),
                                   func.getArgument(1), Value(), nullptr);
    if (packIndex[i] < 0)
      applyCandidate(b, linear, func.getArgument(1), candidate);
    else if (candidate.act)
      linear.setActAttr(candidate.act);
    b.setInsertionPointAfter(linear);
    func::ReturnOp::create(b, loc, linear.getResult());
  }
  return module;
}

LogicalResult OutputErrors::measure(CaptureFn capture, std::string &error) {
  // The capture is still wanted: it gives the low-rank fits their input.
  if (calls.empty())
    return success(succeeded(capture(error)));

  // At O0 whatever its size: its calls multiply sampled columns only, and
  // at O1 or O3 it compiled for longer than they all ran (LLM block on
  // Zen 3: 0.4-0.6 s at O0 and 1.4 s of calls, against 1.8-2.4 s and
  // 0.5-0.6 s).
  ScratchModule jit(/*optimize=*/false);
  std::string text = ScratchModule::print(*buildCalls());
  SmallVector<PackedType> packTypes;
  int64_t packElements = 0;
  for (auto [l, type] : toPack) {
    packTypes.push_back(type);
    packElements += type.getUnpackedType().getNumElements();
  }
  std::string packText = packing::Packer::print(packTypes);

  // The measurement kernels and the packing kernels compile on threads of
  // their own while `capture` runs the function on the calibration input.
  std::string compileError, packCompileError;
  LogicalResult compiled = failure(), packCompiled = success();
  std::thread compiler([&] { compiled = jit.compileText(text, compileError); });
  packing::Packer packer;
  std::thread packCompiler([&] {
    if (!toPack.empty())
      packCompiled = packer.compile(
          packText, packElements > runtime::kOptimizeRunOnceAboveWeightElements,
          /*threads=*/1, packCompileError);
  });
  FailureOr<ArrayRef<runtime::HostArray>> captured = capture(error);
  // Gathering the sampled columns of the weights also overlaps the compiles.
  for (auto [l, c] : calls)
    if (!c)
      weights[l] = getColumns(layers[l].weight, columns[l]);
  compiler.join();
  packCompiler.join();
  if (failed(captured))
    return failure();
  if (failed(compiled) || failed(packCompiled)) {
    error = failed(compiled) ? compileError : packCompileError;
    return failure();
  }
  return run(packer, jit, *captured, error);
}

LogicalResult OutputErrors::run(const packing::Packer &packer,
                                const ScratchModule &jit,
                                ArrayRef<runtime::HostArray> activations,
                                std::string &error) {
  std::vector<std::string> errors(toPack.size() + calls.size());
  std::vector<std::optional<runtime::HostArray>> packed(toPack.size());
  runLongestFirst(
      toPack.size(),
      [&](size_t a, size_t b) {
        return getSampledElements(toPack[a].first) >
               getSampledElements(toPack[b].first);
      },
      [&](size_t i) {
        auto bytes = packer.pack(i, *weights[toPack[i].first], errors[i]);
        if (succeeded(bytes))
          packed[i] = std::move(*bytes);
      });

  // Largest layer first; within a layer the later formats, which run
  // slower (sparse, int4).
  std::vector<std::vector<std::vector<runtime::HostArray>>> outputs(
      layers.size());
  for (size_t l = 0; l < layers.size(); ++l)
    outputs[l].resize(layers[l].candidates.size());
  runLongestFirst(
      calls.size(),
      [&](size_t a, size_t b) {
        auto [la, ca] = calls[a];
        auto [lb, cb] = calls[b];
        int64_t sizeA = getSampledElements(la), sizeB = getSampledElements(lb);
        return sizeA != sizeB ? sizeA > sizeB : ca > cb;
      },
      [&](size_t i) {
        auto [l, c] = calls[i];
        int pack = packIndex[i];
        if (pack >= 0 && !packed[pack])
          return;
        // Shared, not copied: the kernels only read their operands.
        const runtime::HostArray &weight =
            pack >= 0 ? *packed[pack] : *weights[l];
        auto results = jit.call(entries[i], {activations[l], weight},
                                errors[toPack.size() + i]);
        if (succeeded(results))
          outputs[l][c] = std::move(*results);
      });
  for (std::string &message : errors)
    if (!message.empty()) {
      error = message;
      return failure();
    }
  for (auto [l, c] : calls)
    if (c)
      layers[l].candidates[c].error =
          relativeError(outputs[l][c][0], outputs[l][0][0]);
  return success();
}

} // namespace

LogicalResult select::measureOutputErrors(MutableArrayRef<Layer> layers,
                                          CaptureFn capture,
                                          std::string &error) {
  if (layers.empty())
    return success();
  return OutputErrors(layers).measure(capture, error);
}
