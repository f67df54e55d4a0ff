//===- FormatErrors.cpp - What a weight format costs in accuracy -*- C++ -*-=//
//
// This file implements the error measurement of quilt-select-formats. Rather
// than a second implementation of every format's projection, it builds small
// modules out of quilt ops (pack + unpack, or pack + linear), JIT-compiles
// them through quilt-cpu-pipeline in a fresh context (as quilt-pack-weights
// does) and runs them on the real weights and activations, so the errors are
// those of the very kernels the program will run.
//
//===----------------------------------------------------------------------===//

#include "HostPacking.h"
#include "SelectFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Parallel.h"

#include <atomic>
#include <cmath>
#include <thread>

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::select;

double select::relativeError(const runtime::HostArray &actual,
                             const runtime::HostArray &reference) {
  if (actual.getNumElements() != reference.getNumElements())
    return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (int64_t i = 0, e = reference.getNumElements(); i < e; ++i) {
    double r = reference.getAsDouble(i), a = actual.getAsDouble(i);
    diff += (a - r) * (a - r);
    norm += r * r;
  }
  if (std::isnan(diff))
    return std::numeric_limits<double>::infinity();
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

namespace {

/// A module JIT-compiled by quilt-cpu-pipeline in a context of its own, so
/// that compiling it never touches the context the pass runs in.
class ScratchModule {
public:
  /// `weightElements`: the weight elements its calls will process.
  explicit ScratchModule(int64_t weightElements)
      : optimize(weightElements >
                 runtime::kOptimizeRunOnceAboveWeightElements) {}

  /// `module` (built in the pass's context) as text, for compileText:
  /// whole, whatever --mlir-elide-* or --mlir-print-skip-regions flags
  /// the tool was given.
  static std::string print(ModuleOp module) {
    std::string text;
    llvm::raw_string_ostream os(text);
    constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
    module.print(os, OpPrintingFlags()
                         .elideLargeElementsAttrs(kNever)
                         .elideLargeResourceString(kNever)
                         .skipRegions(false));
    return text;
  }

  /// Prints `module`, parses it in a fresh context and compiles it.
  LogicalResult compile(ModuleOp module, std::string &error) {
    return compileText(print(module), error);
  }

  /// Parses `text` in a fresh context and compiles it: touches nothing of
  /// the pass's context, so it may run on another thread.
  LogicalResult compileText(const std::string &text, std::string &error) {
    runtime::CompileOptions options;
    options.pipeline = runtime::PipelineKind::CPU;
    // Run once: packing constants inside the entry beats a JIT per weight.
    options.packConstantWeights = false;
    options.optimize = optimize;
    options.optLevel = 1;
    auto compiled = packing::compileInFreshContext(text, "measurement", options,
                                                   context, error);
    if (failed(compiled))
      return failure();
    jit = std::move(*compiled);
    return success();
  }

  /// Calls `entry` once and returns its results.
  FailureOr<std::vector<runtime::HostArray>>
  call(StringRef entry, std::vector<runtime::HostArray> inputs,
       std::string &error) {
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

private:
  bool optimize;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<runtime::JitModule> jit;
};

/// The candidates of `layer` whose error is still to be measured.
int64_t countUnmeasured(const Layer &layer) {
  return llvm::count_if(layer.candidates,
                        [](const Candidate &c) { return !c.errorKnown; });
}

std::string entryName(size_t layer, size_t candidate) {
  return "e" + std::to_string(layer) + "_" + std::to_string(candidate);
}

} // namespace

void select::applyCandidate(OpBuilder &b, LinearOp op, Value weight,
                            const Candidate &candidate) {
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  if (candidate.left)
    weight = PackFactorsOp::create(
        b, loc, candidate.format,
        arith::ConstantOp::create(b, loc, candidate.left),
        arith::ConstantOp::create(b, loc, candidate.right));
  else if (candidate.format)
    weight = PackOp::create(b, loc, candidate.format, weight);
  op.getWeightMutable().assign(weight);
  if (candidate.act)
    op.setActAttr(candidate.act);
}

namespace {

/// The module of per-(layer, candidate) functions `build` makes.
template <typename BuildFn>
OwningOpRef<ModuleOp> buildMeasurements(ArrayRef<Layer> layers, BuildFn build) {
  Location loc = layers.front().op.getLoc();
  OpBuilder b(loc.getContext());
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  for (size_t l = 0; l < layers.size(); ++l)
    for (size_t c = 1; c < layers[l].candidates.size(); ++c)
      if (!layers[l].candidates[c].errorKnown)
        build(b, loc, l, c);
  return module;
}

} // namespace

LogicalResult select::measureWeightErrors(MutableArrayRef<Layer> layers,
                                          std::string &error) {
  if (layers.empty())
    return success();
  int64_t work = 0;
  for (const Layer &layer : layers)
    work += layer.weight.getNumElements() * countUnmeasured(layer);
  ScratchModule jit(work);
  auto build = [&](OpBuilder &b, Location loc, size_t l, size_t c) {
    const Candidate &candidate = layers[l].candidates[c];
    RankedTensorType dense = candidate.format.getUnpackedType();
    auto func = func::FuncOp::create(b, loc, entryName(l, c),
                                     b.getFunctionType({dense}, {dense}));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(func.addEntryBlock());
    Value packed =
        PackOp::create(b, loc, candidate.format, func.getArgument(0));
    Value unpacked = UnpackOp::create(b, loc, dense, packed);
    func::ReturnOp::create(b, loc, unpacked);
  };
  OwningOpRef<ModuleOp> module = buildMeasurements(layers, build);
  if (failed(jit.compile(*module, error)))
    return failure();
  for (size_t l = 0; l < layers.size(); ++l) {
    runtime::HostArray weight = runtime::viewElements(layers[l].weight);
    for (size_t c = 1; c < layers[l].candidates.size(); ++c) {
      if (layers[l].candidates[c].errorKnown)
        continue;
      auto results = jit.call(entryName(l, c), {weight.clone()}, error);
      if (failed(results))
        return failure();
      layers[l].candidates[c].error = relativeError((*results)[0], weight);
    }
  }
  return success();
}

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

} // namespace

LogicalResult select::measureOutputErrors(MutableArrayRef<Layer> layers,
                                          CaptureFn capture,
                                          std::string &error) {
  if (layers.empty())
    return success();
  // Function (l, c) computes layer l's linear (without bias: it cancels in
  // the difference, not in the norm, which is why the dense output is taken
  // with the same function shape) on its recorded input, in candidate c.
  std::vector<std::vector<int64_t>> columns;
  for (Layer &layer : layers) {
    columns.push_back(getMeasuredColumns(layer));
    layer.sampledColumns = int64_t(columns.back().size());
  }
  // At O0 whatever its size: its calls multiply sampled columns only, and
  // at O1 or O3 it compiled for longer than they all ran (LLM block on
  // Zen 3: 0.4-0.6 s at O0 and 1.4 s of calls, against 1.8-2.4 s and
  // 0.5-0.6 s).
  ScratchModule jit(/*weightElements=*/0);
  auto makeLinear = [&](OpBuilder &b, Location loc, size_t l, size_t c,
                        std::string name) {
    const Layer &layer = layers[l];
    auto weightType = cast<RankedTensorType>(layer.weight.getShapedType());
    Candidate candidate = layer.candidates[c];
    if (!columns[l].empty()) {
      int64_t k = weightType.getDimSize(0), n = int64_t(columns[l].size());
      weightType = RankedTensorType::get({k, n}, weightType.getElementType());
      candidate.format =
          PackedType::get(b.getContext(), k, n, candidate.format.getFormat());
    }
    // Static: the cost model has already refused dynamic shapes.
    auto x = cast<RankedTensorType>(layer.op.getInput().getType());
    auto y = RankedTensorType::get({x.getDimSize(0), weightType.getDimSize(1)},
                                   b.getF32Type());
    auto func = func::FuncOp::create(b, loc, name,
                                     b.getFunctionType({x, weightType}, {y}));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(func.addEntryBlock());
    auto linear = LinearOp::create(b, loc, y, func.getArgument(0),
                                   func.getArgument(1), Value(), nullptr);
    applyCandidate(b, linear, func.getArgument(1), candidate);
    b.setInsertionPointAfter(linear);
    func::ReturnOp::create(b, loc, linear.getResult());
  };
  std::vector<bool> measured(layers.size(), false);
  auto build = [&](OpBuilder &b, Location loc, size_t l, size_t c) {
    if (!measured[l])
      makeLinear(b, loc, l, 0, "dense" + std::to_string(l));
    measured[l] = true;
    makeLinear(b, loc, l, c, entryName(l, c));
  };
  // The kernels compile on a thread of their own while `capture` runs the
  // function on the calibration input: neither waits for the other.
  std::string text = ScratchModule::print(*buildMeasurements(layers, build));
  std::string compileError;
  LogicalResult compiled = failure();
  std::thread compiler([&] { compiled = jit.compileText(text, compileError); });
  FailureOr<ArrayRef<runtime::HostArray>> captured = capture(error);
  // Gathering the sampled columns of the weights also overlaps the compile.
  std::vector<std::optional<runtime::HostArray>> weights(layers.size());
  for (size_t l = 0; l < layers.size(); ++l)
    if (measured[l])
      weights[l] = getColumns(layers[l].weight, columns[l]);
  compiler.join();
  if (failed(captured))
    return failure();
  if (failed(compiled)) {
    error = compileError;
    return failure();
  }
  ArrayRef<runtime::HostArray> activations = *captured;

  // The calls are independent (each packs its own weight, at O0, which is
  // most of their time): all of them, dense outputs included, on all cores,
  // the longest first so that no core idles at the end (largest layer
  // first; within a layer the later formats, which pack slower at O0:
  // sparse, int4, low rank). Call (l, 0) is layer l's dense output.
  std::vector<std::pair<size_t, size_t>> calls;
  for (size_t l = 0; l < layers.size(); ++l) {
    layers[l].candidates[0].error = 0;
    if (!measured[l])
      continue;
    calls.push_back({l, 0});
    for (size_t c = 1; c < layers[l].candidates.size(); ++c)
      if (!layers[l].candidates[c].errorKnown)
        calls.push_back({l, c});
  }
  llvm::stable_sort(calls, [&](auto a, auto b) {
    int64_t sizeA = weights[a.first]->getNumElements();
    int64_t sizeB = weights[b.first]->getNumElements();
    return sizeA != sizeB ? sizeA > sizeB : a.second > b.second;
  });
  std::vector<std::vector<std::vector<runtime::HostArray>>> outputs(
      layers.size());
  for (size_t l = 0; l < layers.size(); ++l)
    outputs[l].resize(layers[l].candidates.size());
  std::vector<std::string> errors(calls.size());
  // Each worker takes the next call in that order (llvm::parallelFor's
  // tasks ran last-first).
  std::atomic<size_t> next{0};
  unsigned workers = llvm::parallel::strategy.compute_thread_count();
  llvm::parallelFor(0, workers, [&](size_t) {
    for (size_t i = next++; i < calls.size(); i = next++) {
      auto [l, c] = calls[i];
      std::string name = c ? entryName(l, c) : "dense" + std::to_string(l);
      // Shared, not copied: the kernels only read their operands.
      auto results = jit.call(name, {activations[l], *weights[l]}, errors[i]);
      if (succeeded(results))
        outputs[l][c] = std::move(*results);
    }
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

namespace {

/// A copy of `func` as @entry of a new module, with `edit` applied to the
/// copies of the layers' linears. The layers' weights become arguments
/// after the function's own (runEntry passes them), so that the module
/// stays small: printed, parsed and compiled as constants, an LLM block's
/// 540 MB of weights took most of a minute.
OwningOpRef<ModuleOp> cloneFunction(
    func::FuncOp func, ArrayRef<Layer> layers,
    llvm::function_ref<void(OpBuilder &, ArrayRef<LinearOp>, func::FuncOp)>
        edit) {
  Location loc = func.getLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(func.getContext());
  b.setInsertionPointToEnd(module->getBody());
  IRMapping mapping;
  auto copy = cast<func::FuncOp>(b.clone(*func, mapping));
  copy.setName("entry");
  copy.setPublic();
  SmallVector<LinearOp> linears;
  SmallVector<Type> inputs(copy.getArgumentTypes());
  llvm::SetVector<Operation *> constants;
  for (const Layer &layer : layers) {
    auto linear = cast<LinearOp>(mapping.lookup(layer.op.getOperation()));
    Value weight = linear.getWeight();
    if (Operation *def = weight.getDefiningOp())
      constants.insert(def);
    inputs.push_back(weight.getType());
    linear.getWeightMutable().assign(
        copy.getBody().addArgument(weight.getType(), weight.getLoc()));
    linears.push_back(linear);
  }
  for (Operation *def : constants)
    if (def->use_empty())
      def->erase();
  copy.setFunctionType(b.getFunctionType(inputs, copy.getResultTypes()));
  edit(b, linears, copy);
  return module;
}

/// Fills the weights runEntry passes for each layer instead of its dense
/// one (none: the dense weight), while the entry compiles.
using WeightsFn = llvm::function_ref<LogicalResult(
    std::vector<std::optional<runtime::HostArray>> &, std::string &)>;

/// The results of @entry of `module` (made by cloneFunction) on `input` and
/// the layers' weights. `weights`, if given, runs on this thread while the
/// entry compiles on another.
FailureOr<std::vector<runtime::HostArray>>
runEntry(ModuleOp module, ArrayRef<Layer> layers,
         const runtime::HostArray &input, std::string &error,
         WeightsFn weights = nullptr) {
  int64_t work = 0;
  for (const Layer &layer : layers)
    work += layer.weight.getNumElements();
  ScratchModule jit(work);
  std::string text = ScratchModule::print(module);
  std::string compileError;
  LogicalResult compiled = failure();
  std::thread compiler([&] { compiled = jit.compileText(text, compileError); });
  std::vector<std::optional<runtime::HostArray>> given(layers.size());
  LogicalResult filled = weights ? weights(given, error) : success();
  compiler.join();
  if (failed(filled))
    return failure();
  if (failed(compiled)) {
    error = compileError;
    return failure();
  }
  std::vector<runtime::HostArray> inputs;
  inputs.push_back(input.clone());
  for (auto [layer, weight] : llvm::zip(layers, given))
    inputs.push_back(weight ? *weight : runtime::viewElements(layer.weight));
  return jit.call("entry", std::move(inputs), error);
}

} // namespace

FailureOr<std::vector<runtime::HostArray>>
select::captureActivations(func::FuncOp func, ArrayRef<Layer> layers,
                           const runtime::HostArray &input,
                           std::string &error) {
  // Each distinct input is returned once (layers may share one: gate and
  // up projections); `index` maps layers, then the result, to them.
  std::vector<unsigned> index;
  OwningOpRef<ModuleOp> module = cloneFunction(
      func, layers,
      [&](OpBuilder &b, ArrayRef<LinearOp> linears, func::FuncOp copy) {
        auto ret = cast<func::ReturnOp>(copy.getBody().back().getTerminator());
        SmallVector<Value> values;
        auto add = [&](Value v) {
          auto *it = llvm::find(values, v);
          index.push_back(unsigned(it - values.begin()));
          if (it == values.end())
            values.push_back(v);
        };
        for (LinearOp linear : linears)
          add(linear.getInput());
        add(ret.getOperand(0));
        b.setInsertionPoint(ret);
        func::ReturnOp::create(b, ret.getLoc(), values);
        ret.erase();
        SmallVector<Type> types;
        for (Value v : values)
          types.push_back(v.getType());
        copy.setFunctionType(b.getFunctionType(copy.getArgumentTypes(), types));
      });
  auto results = runEntry(*module, layers, input, error);
  if (failed(results))
    return failure();
  std::vector<runtime::HostArray> activations;
  for (unsigned i : index)
    activations.push_back((*results)[i].clone());
  return activations;
}

FailureOr<CheckedChoice> select::runWithChoice(func::FuncOp func,
                                               ArrayRef<Layer> layers,
                                               ArrayRef<unsigned> choice,
                                               const runtime::HostArray &input,
                                               std::string &error) {
  // The chosen formats the CPU backend stores as bytes, dense f32 panels
  // included, are packed once, here, while the entry compiles, and passed
  // packed (Quilt-level arguments of the packed type); the others are
  // packed by the entry itself. The caller stores them (store-packed), so
  // quilt-pack-weights does not pack them again.
  std::vector<packing::WeightToPack> toPack;
  std::vector<size_t> packedLayers;
  for (size_t l = 0; l < layers.size(); ++l) {
    const Candidate &candidate = layers[l].candidates[choice[l]];
    if (!candidate.format)
      continue;
    packing::WeightToPack weight{
        candidate.format, candidate.left ? ElementsAttr() : layers[l].weight,
        candidate.left, candidate.right};
    if (!packing::canPackOnHost(weight))
      continue;
    toPack.push_back(weight);
    packedLayers.push_back(l);
  }
  OwningOpRef<ModuleOp> module = cloneFunction(
      func, layers,
      [&](OpBuilder &b, ArrayRef<LinearOp> linears, func::FuncOp copy) {
        for (size_t l = 0; l < linears.size(); ++l) {
          LinearOp linear = linears[l];
          const Candidate &candidate = layers[l].candidates[choice[l]];
          if (!llvm::is_contained(packedLayers, l)) {
            applyCandidate(b, linear, linear.getWeight(), candidate);
            continue;
          }
          cast<BlockArgument>(linear.getWeight()).setType(candidate.format);
          if (candidate.act)
            linear.setActAttr(candidate.act);
        }
        copy.setFunctionType(b.getFunctionType(
            copy.getBody().getArgumentTypes(), copy.getResultTypes()));
      });
  std::vector<std::optional<runtime::HostArray>> packed(layers.size());
  auto pack = [&](std::vector<std::optional<runtime::HostArray>> &given,
                  std::string &message) -> LogicalResult {
    // One thread: the entry compiles on the other core meanwhile.
    auto bytes = packing::packOnHost(toPack, /*threads=*/1, message);
    if (failed(bytes))
      return failure();
    for (auto [l, array] : llvm::zip(packedLayers, *bytes))
      given[l] = packed[l] = std::move(array);
    return success();
  };
  auto results = runEntry(*module, layers, input, error, pack);
  if (failed(results))
    return failure();
  return CheckedChoice{std::move((*results)[0]), std::move(packed)};
}
