//===- FormatErrors.cpp - What a weight format costs in accuracy -*- C++ -*-=//
//
// This file implements the weight-space error measurement of
// quilt-select-formats, the capture of calibration activations and the
// end-to-end check of a choice. Rather than a second implementation of every
// format's projection, they build small modules out of quilt ops (pack +
// unpack, the function itself), JIT-compile them through quilt-cpu-pipeline
// in a fresh context (ScratchModule) and run them on the real weights and
// activations, so the errors are those of the very kernels the program will
// run. Output errors on calibration activations: OutputErrors.cpp.
//
//===----------------------------------------------------------------------===//

#include "HostPacking.h"
#include "ScratchModule.h"
#include "SelectFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Parallel.h"

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
  ScratchModule jit(work > runtime::kOptimizeRunOnceAboveWeightElements);
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
/// the layers' weights, compiled as `jit`. `weights`, if given, runs on
/// this thread while the entry compiles on another.
FailureOr<std::vector<runtime::HostArray>>
runEntry(ModuleOp module, ArrayRef<Layer> layers,
         const runtime::HostArray &input, ScratchModule jit, std::string &error,
         WeightsFn weights = nullptr) {
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
  // Its dense f32 kernels read the weights in place, which is slow at O0.
  int64_t weightElements = 0;
  for (const Layer &layer : layers)
    weightElements += layer.weight.getNumElements();
  ScratchModule jit(weightElements >
                    runtime::kOptimizeRunOnceAboveWeightElements);
  auto results = runEntry(*module, layers, input, std::move(jit), error);
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
  // Its weights come packed: compiling it is most of its time. At O0 the
  // LLM block's check (16 rows, 2.2G multiply-adds) compiled in 0.3 s
  // rather than 0.7 s and ran in 0.19 s rather than 0.08 s on one core
  // (Zen 3): O1 pays from about 8G multiply-adds.
  constexpr int64_t kOptimizeAboveMultiplyAdds = int64_t(8) << 30;
  int64_t multiplyAdds = 0;
  for (const Layer &layer : layers) {
    int64_t rows = layer.op.getInput().getType().getDimSize(0);
    if (ShapedType::isDynamic(rows))
      rows = input.getShape().front();
    multiplyAdds += rows * layer.weight.getNumElements();
  }
  // It runs on all cores: the packing and the compile are done by then.
  ScratchModule jit(multiplyAdds > kOptimizeAboveMultiplyAdds,
                    llvm::parallel::strategy.compute_thread_count());
  auto results = runEntry(*module, layers, input, std::move(jit), error, pack);
  if (failed(results))
    return failure();
  return CheckedChoice{std::move((*results)[0]), std::move(packed)};
}
