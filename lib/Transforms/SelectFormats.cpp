//===- SelectFormats.cpp - quilt-select-formats -----------------*- C++ -*-===//
//
// This file implements the pass that chooses, per quilt.linear with a
// constant weight, the weight format (and activation precision) that makes
// the function fastest or smallest under an accuracy budget: candidates from
// the target, errors measured on the real weights (FormatErrors.cpp), times
// from the cost model, one choice per layer by an exact knapsack
// (FormatAllocation.cpp), validated end to end when calibration data is
// given.
//
//===----------------------------------------------------------------------===//

#include "SelectFormats.h"
#include "HostPacking.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "quilt/CostModel/CostModel.h"
#include "quilt/Runtime/OpCost.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <thread>

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTSELECTFORMATS
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::select;

namespace {

constexpr StringLiteral kPinnedAttr = "quilt.pinned";

/// A format of the CPU target: its name, the packed type's format text for
/// a K x N weight (empty: dense f32) and the activation precision.
struct FormatSpec {
  StringLiteral name;
  StringLiteral format;
  StringLiteral act;
};

// `{G}` stands for the group size.
constexpr FormatSpec kCPUFormats[] = {
    // Dense f32 too is a packed type: the CPU's f32 panels, packed once at
    // compile time (a dense tensor weight is packed on every call).
    {"f32", "precision<f32>", ""},
    {"bf16", "precision<bf16>", ""},
    {"i8", "precision<i8, channel>", "<i8, channel>"},
    {"i4", "precision<i4, group<{G}>>", ""},
    {"i4a8", "precision<i4, group<{G}>>", "<i8, channel>"},
    {"nm24", "sparsity<nm<2, 4>>", ""},
    {"nm24-i8", "precision<i8, channel>, sparsity<nm<2, 4>>", "<i8, channel>"},
    // With calibration data, fitted to the layer's outputs (see
    // fitLowRankToOutputs); else the truncated SVD of the weight.
    {"lr16", "structure<lowrank<16>>", ""},
    {"lr32", "structure<lowrank<32>>", ""},
    {"lr64", "structure<lowrank<64>>", ""},
    {"lr128", "structure<lowrank<128>>", ""},
};

/// The rank of a low-rank candidate, 0 for the others.
int64_t getLowRank(const Candidate &candidate) {
  StructureAttr structure =
      candidate.format ? candidate.format.getStructure() : StructureAttr();
  return structure && structure.getKind() == StructureKind::LowRank
             ? structure.getSize()
             : 0;
}

std::string knownFormats() {
  std::string names;
  for (const FormatSpec &spec : kCPUFormats)
    names += (names.empty() ? "" : ", ") + spec.name.str();
  return names;
}

/// The candidate `spec` stands for with a K x N weight, or nullopt when the
/// format cannot hold such a weight (the verifier's rules).
std::optional<Candidate> makeCandidate(MLIRContext *context,
                                       const FormatSpec &spec, int64_t k,
                                       int64_t n) {
  Candidate candidate;
  candidate.name = spec.name.str();
  std::string format = spec.format.str();
  if (size_t at = format.find("{G}"); at != std::string::npos)
    format.replace(at, 3, std::to_string(std::min<int64_t>(128, k)));
  std::string text = "!quilt.packed<" + std::to_string(k) + "x" +
                     std::to_string(n) + ", " + format + ">";
  // Rejected shapes are expected, not errors: keep them out of the output.
  ScopedDiagnosticHandler silence(context,
                                  [](Diagnostic &) { return success(); });
  candidate.format = dyn_cast_or_null<PackedType>(parseType(text, context));
  if (!candidate.format)
    return std::nullopt;
  // A factorization doing more than half the dense multiply-adds gains
  // nothing worth its error.
  if (int64_t rank = getLowRank(candidate); 2 * rank * (k + n) > k * n)
    return std::nullopt;
  if (!spec.act.empty())
    candidate.act = dyn_cast_or_null<PrecisionAttr>(
        parseAttribute(("#quilt.precision" + spec.act).str(), context));
  return candidate;
}

/// The low-rank candidates' weights fitted to the layers' calibration
/// inputs, computed on a thread of their own while the other candidates'
/// errors are measured (start), then stored in the candidates (finish).
/// The thread touches no MLIR context: it reads the weights and activations
/// and returns plain factors.
class BackgroundLowRankFits {
public:
  ~BackgroundLowRankFits() {
    if (thread.joinable())
      thread.join();
  }

  /// Picks the candidates to fit and starts fitting them. A rank above the
  /// rows it is fitted on (half the calibration rows) is not determined by
  /// the data, and is skipped unless `assigned`.
  void start(MutableArrayRef<Layer> layers,
             ArrayRef<runtime::HostArray> activations, bool assigned) {
    jobs.resize(layers.size());
    for (size_t l = 0; l < layers.size(); ++l) {
      Job &job = jobs[l];
      int64_t fitRows = (activations[l].getShape().front() + 1) / 2;
      for (Candidate &c : layers[l].candidates) {
        int64_t rank = getLowRank(c);
        if (!rank || !c.skipped.empty())
          continue;
        if (rank > fitRows && !assigned) {
          c.skipped = "few rows";
          c.error = std::numeric_limits<double>::infinity();
          continue;
        }
        job.ranks.push_back(rank);
        job.candidates.push_back(&c);
      }
      if (!job.ranks.empty()) {
        job.weight = runtime::viewElements(layers[l].weight);
        job.activations = activations[l];
      }
    }
    thread = std::thread([this] {
      for (Job &job : jobs)
        if (!job.ranks.empty())
          job.fits =
              fitLowRankToOutputs(*job.weight, *job.activations, job.ranks);
    });
  }

  /// Waits for the fits and gives each candidate its factors and error.
  void finish(MutableArrayRef<Layer> layers) {
    if (thread.joinable())
      thread.join();
    for (auto [layer, job] : llvm::zip(layers, jobs)) {
      Type f32 = Float32Type::get(layer.op.getContext());
      int64_t k = layer.op.getReductionSize(), n = layer.op.getOutputSize();
      for (auto [c, r, fit] : llvm::zip(job.candidates, job.ranks, job.fits)) {
        c->left = DenseElementsAttr::get(RankedTensorType::get({k, r}, f32),
                                         ArrayRef<float>(fit.left));
        c->right = DenseElementsAttr::get(RankedTensorType::get({r, n}, f32),
                                          ArrayRef<float>(fit.right));
        c->error = fit.error;
        c->errorKnown = true;
      }
    }
    jobs.clear();
  }

private:
  struct Job {
    SmallVector<int64_t> ranks;
    SmallVector<Candidate *> candidates;
    std::optional<runtime::HostArray> weight, activations;
    std::vector<LowRankFit> fits;
  };
  std::vector<Job> jobs;
  std::thread thread;
};

struct QuiltSelectFormatsPass
    : quilt::impl::QuiltSelectFormatsBase<QuiltSelectFormatsPass> {
  using Base::Base;

  /// Checks the options; the allowed format specs in `allowed`.
  LogicalResult checkOptions(SmallVectorImpl<const FormatSpec *> &allowed) {
    ModuleOp module = getOperation();
    if (target != "cpu")
      return module.emitError("quilt-select-formats: unknown target '")
             << target << "' (supported: cpu)";
    if (!(errorBudget >= 0))
      return module.emitError(
                 "quilt-select-formats: error-budget must be >= 0, got ")
             << errorBudget;
    if (objective != "latency" && objective != "size")
      return module.emitError("quilt-select-formats: unknown objective '")
             << objective << "' (latency or size)";
    if (!modelPath.empty() && modelPath != "auto" &&
        !llvm::sys::fs::exists(modelPath))
      return module.emitError("quilt-select-formats: model file '")
             << modelPath << "' does not exist";
    allowed.push_back(&kCPUFormats[0]);
    for (const std::string &name : formats) {
      auto *it = llvm::find_if(
          kCPUFormats, [&](const FormatSpec &s) { return s.name == name; });
      if (it == std::end(kCPUFormats))
        return module.emitError("quilt-select-formats: unknown format '")
               << name << "' (known: " << knownFormats() << ")";
      if (!llvm::is_contained(allowed, it))
        allowed.push_back(it);
    }
    if (formats.empty())
      for (const FormatSpec &spec : ArrayRef(kCPUFormats).drop_front())
        allowed.push_back(&spec);
    return success();
  }

  /// The layers of `func` the pass may choose for, with their candidates.
  std::vector<Layer> collectLayers(func::FuncOp func,
                                   ArrayRef<const FormatSpec *> allowed) {
    std::vector<Layer> layers;
    func.walk([&](LinearOp op) {
      // Pinned: the user's format (a packed weight) or the attribute.
      if (op->hasAttr(kPinnedAttr) || isa<PackedType>(op.getWeight().getType()))
        return;
      if (op->getParentOfType<FusedOp>())
        return;
      ElementsAttr weight;
      if (!matchPattern(op.getWeight(), m_Constant(&weight)) ||
          !weight.getElementType().isF32())
        return;
      Layer layer{op, weight, {}};
      for (const FormatSpec *spec : allowed)
        if (auto candidate =
                makeCandidate(&getContext(), *spec, op.getReductionSize(),
                              op.getOutputSize()))
          layer.candidates.push_back(std::move(*candidate));
      layers.push_back(std::move(layer));
    });
    return layers;
  }

  /// Fills seconds and bytes of every candidate.
  LogicalResult predict(MutableArrayRef<Layer> layers,
                        const cost::CostModel &model) {
    for (Layer &layer : layers) {
      PrecisionAttr act = layer.op.getActAttr();
      for (Candidate &candidate : layer.candidates) {
        // The model reads the activation precision from the op itself.
        layer.op.setActAttr(candidate.act ? candidate.act : act);
        if (!candidate.act && !act)
          layer.op.removeActAttr();
        FailureOr<cost::CostEstimate> estimate =
            model.estimate({layer.op, candidate.format, threads});
        if (act)
          layer.op.setActAttr(act);
        else
          layer.op.removeActAttr();
        if (failed(estimate))
          return layer.op.emitError("quilt-select-formats: the ")
                 << model.getName() << " cost model cannot predict format "
                 << candidate.name;
        candidate.seconds = estimate->seconds;
        candidate.bytes = runtime::getStoredWeightBytes(candidate.format);
      }
    }
    return success();
  }

  void explainTable(func::FuncOp func, ArrayRef<Layer> layers,
                    ArrayRef<unsigned> choice, StringRef errorKind,
                    StringRef modelName, StringRef why) {
    llvm::raw_ostream &os = llvm::errs();
    os << "quilt-select-formats @" << func.getSymName() << ": objective "
       << objective << ", error budget " << errorBudget << " (" << errorKind
       << "), cost model " << modelName << "\n";
    for (size_t l = 0; l < layers.size(); ++l) {
      const Layer &layer = layers[l];
      LinearOp op = layer.op;
      os << "  layer " << l << " (" << op.getReductionSize() << "x"
         << op.getOutputSize() << " at " << op.getLoc();
      if (layer.sampledColumns)
        os << "; errors on " << layer.sampledColumns << " of "
           << op.getOutputSize() << " columns";
      os << ")\n";
      os << llvm::format("    %-9s %12s %12s %12s\n", "format", "pred_ms",
                         "error", "bytes");
      for (size_t c = 0; c < layer.candidates.size(); ++c) {
        const Candidate &cand = layer.candidates[c];
        std::string error = cand.skipped.empty()
                                ? llvm::formatv("{0:e3}", cand.error).str()
                                : cand.skipped.str();
        os << llvm::format("    %-9s %12.4f %12s %12.0f%s\n", cand.name.c_str(),
                           cand.seconds * 1e3, error.c_str(), cand.bytes,
                           c == choice[l] ? "  <- chosen" : "");
      }
    }
    os << "  why: " << why << "\n";
  }

  /// The candidates `assign` names, one per layer.
  LogicalResult assignedChoice(func::FuncOp func, ArrayRef<Layer> layers,
                               std::vector<unsigned> &choice) {
    if (assign.size() != layers.size())
      return func.emitError("quilt-select-formats: assign names ")
             << assign.size() << " format(s) but @" << func.getSymName()
             << " has " << layers.size() << " selectable linear(s)";
    for (size_t l = 0; l < layers.size(); ++l) {
      auto it = llvm::find_if(layers[l].candidates, [&](const Candidate &c) {
        return c.name == assign[l];
      });
      LinearOp op = layers[l].op;
      if (it == layers[l].candidates.end())
        return op.emitError("quilt-select-formats: format '")
               << assign[l] << "' is not a candidate of this linear";
      choice.push_back(unsigned(it - layers[l].candidates.begin()));
    }
    return success();
  }

  LogicalResult selectIn(func::FuncOp func,
                         ArrayRef<const FormatSpec *> allowed,
                         const cost::CostModel &model,
                         const runtime::HostArray *calibrationInput) {
    std::vector<Layer> layers = collectLayers(func, allowed);
    if (layers.empty())
      return success();
    if (failed(predict(layers, model)))
      return failure();

    bool bySize = objective == "size";
    auto cost = [&](const Candidate &c) {
      return bySize ? c.bytes : c.seconds;
    };
    // A candidate no cheaper than dense f32 (error 0) can never be chosen:
    // its error is not worth measuring (unless assigned).
    for (Layer &layer :
         assign.empty() ? MutableArrayRef(layers) : MutableArrayRef<Layer>())
      for (Candidate &c : MutableArrayRef(layer.candidates).drop_front())
        if (cost(c) >= cost(layer.candidates.front())) {
          c.error = std::numeric_limits<double>::infinity();
          c.errorKnown = true;
          c.skipped = "no gain";
        }

    std::string error;
    std::vector<runtime::HostArray> activations;
    std::string errorKind = "relative weight error, weight-space proxy";
    // A fixed assignment needs no errors unless they are to be shown.
    bool measure = assign.empty() || explain;
    // Assigned low-rank formats still need the calibration input to be
    // fitted to it.
    std::vector<unsigned> assigned;
    if (!assign.empty() && failed(assignedChoice(func, layers, assigned)))
      return failure();
    bool fit =
        calibrationInput &&
        (measure || llvm::any_of(llvm::seq(layers.size()), [&](size_t l) {
           return getLowRank(layers[l].candidates[assigned[l]]) != 0;
         }));
    if (fit && func.getNumArguments() != 1)
      return func.emitError("quilt-select-formats: calibration needs "
                            "functions of one argument, @")
             << func.getSymName() << " has " << func.getNumArguments();
    // Runs the function on the calibration input and starts fitting the
    // low-rank candidates to the activations.
    BackgroundLowRankFits fits;
    auto captureAndFit =
        [&](std::string &message) -> FailureOr<ArrayRef<runtime::HostArray>> {
      auto captured =
          captureActivations(func, layers, *calibrationInput, message);
      if (failed(captured)) {
        message = "cannot run @" + func.getSymName().str() +
                  " on the calibration input: " + message;
        return failure();
      }
      activations = std::move(*captured);
      fits.start(layers, activations, !assign.empty());
      return ArrayRef(activations).drop_back();
    };
    if (fit)
      // The fit gives these their errors: they need no measurement.
      for (Layer &layer : layers)
        for (Candidate &c : layer.candidates)
          c.errorKnown |= getLowRank(c) != 0;
    LogicalResult measured = success();
    if (measure && calibrationInput) {
      measured = measureOutputErrors(layers, captureAndFit, error);
      errorKind = "relative output error on calibration data";
    } else if (fit) {
      measured = captureAndFit(error);
    } else if (measure) {
      measured = measureWeightErrors(layers, error);
    } else {
      errorKind = "not measured";
    }
    fits.finish(layers);
    if (failed(measured))
      return func.emitError("quilt-select-formats: ") << error;

    // Per-layer errors are not additive: check the whole function and
    // tighten the allocation budget until it holds.
    double allocationBudget = errorBudget;
    std::vector<unsigned> choice;
    std::string why = "least summed " +
                      std::string(bySize ? "size" : "predicted time") +
                      " with the per-layer errors' root-sum-square within "
                      "the budget";
    if (!assign.empty()) {
      choice = assigned;
      why = "assigned by the `assign` option";
    }
    // The chosen formats' bytes as the check packed them, per layer.
    std::vector<std::optional<runtime::HostArray>> packed(layers.size());
    for (unsigned attempt = 0; assign.empty(); ++attempt) {
      choice = allocateFormats(layers, allocationBudget, cost);
      if (!calibrationInput ||
          llvm::all_of(choice, [](unsigned c) { return c == 0; }))
        break;
      auto checked =
          runWithChoice(func, layers, choice, *calibrationInput, error);
      if (failed(checked))
        return func.emitError("quilt-select-formats: ") << error;
      double endToEnd = relativeError(checked->output, activations.back());
      why += "; end-to-end relative output error " +
             llvm::formatv("{0:e3}", endToEnd).str();
      packed = std::move(checked->packed);
      if (endToEnd <= errorBudget)
        break;
      packed.assign(layers.size(), std::nullopt);
      if (attempt == 3) {
        choice.assign(layers.size(), 0);
        why += " exceeds the budget after 4 tries: dense f32";
        break;
      }
      allocationBudget *= 0.5;
      why += " exceeds the budget: allocation budget halved to " +
             llvm::formatv("{0:e3}", allocationBudget).str();
    }

    if (explain)
      explainTable(func, layers, choice, errorKind, model.getName(), why);
    for (size_t l = 0; l < layers.size(); ++l) {
      LinearOp op = layers[l].op;
      OpBuilder b(op);
      const Candidate &candidate = layers[l].candidates[choice[l]];
      if (!storePacked || !packed[l]) {
        applyCandidate(b, op, op.getWeight(), candidate);
        continue;
      }
      Value weight = op.getWeight();
      op.getWeightMutable().assign(packing::createPackedConstant(
          b, op.getLoc(), candidate.format, *packed[l]));
      if (candidate.act)
        op.setActAttr(candidate.act);
      if (Operation *def = weight.getDefiningOp(); def && def->use_empty())
        def->erase();
    }
    return success();
  }

  void runOnOperation() override {
    SmallVector<const FormatSpec *> allowed;
    if (failed(checkOptions(allowed)))
      return signalPassFailure();

    std::optional<runtime::HostArray> calibrationInput;
    if (!calibration.empty()) {
      auto array = runtime::readNpy(calibration);
      if (!array) {
        getOperation().emitError("quilt-select-formats: cannot read the "
                                 "calibration input: ")
            << llvm::toString(array.takeError());
        return signalPassFailure();
      }
      calibrationInput = std::move(*array);
    }

    cost::CostModelOptions options;
    options.modelPath = modelPath;
    std::unique_ptr<cost::CostModel> model =
        cost::createCostModel(options, [&](const Twine &message) {
          getOperation().emitWarning("quilt-select-formats: ") << message;
        });

    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() &&
          failed(selectIn(func, allowed, *model,
                          calibrationInput ? &*calibrationInput : nullptr)))
        return signalPassFailure();
  }
};

} // namespace
