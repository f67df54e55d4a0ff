//===- TrainRegisters.cpp - quilt-tune train-registers --------------------===//
//
// This file implements `quilt-tune train-registers`: it fits the register
// model to a collect-ptx dataset (trees over the tiling features predicting
// log2 of the registers a kernel needs), reports its k-fold held-out
// accuracy (registers of the kernels that fit, and whether a kernel spills,
// the question convert-quilt-to-nvptx asks) and writes the model file.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "quilt/CostModel/RegisterModel.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace cl = llvm::cl;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getTrainRegistersCommand() {
  static cl::SubCommand command(
      "train-registers",
      "Fit the NVPTX register model to a collect-ptx dataset");
  return command;
}

static cl::opt<std::string> registersData("data", cl::desc("collect-ptx JSONL"),
                                          cl::Required,
                                          cl::sub(getTrainRegistersCommand()));
static cl::opt<std::string>
    registersModelOut("o", cl::desc("Register model file to write"),
                      cl::sub(getTrainRegistersCommand()));
static cl::opt<unsigned> folds("folds",
                               cl::desc("Folds of the held-out evaluation"),
                               cl::init(5),
                               cl::sub(getTrainRegistersCommand()));
static cl::opt<std::string> heldOutOut(
    "predictions",
    cl::desc("Also write each kernel's held-out predicted registers (the "
             "demand, over the cap when predicted to spill), one per line in "
             "dataset order"),
    cl::sub(getTrainRegistersCommand()));
static cl::opt<unsigned> registerRounds("rounds", cl::desc("Boosting rounds"),
                                        cl::init(300),
                                        cl::sub(getTrainRegistersCommand()));

namespace {

struct RegisterSample {
  NVPTXKernelConfig config;
  KernelResources resources;
};

llvm::Expected<std::vector<RegisterSample>> readSamples(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read " + path);
  std::vector<RegisterSample> samples;
  unsigned lineNumber = 0;
  for (llvm::StringRef line : llvm::split((*buffer)->getBuffer(), '\n')) {
    ++lineNumber;
    if (line.trim().empty())
      continue;
    auto bad = [&](const llvm::Twine &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     path + ":" + llvm::Twine(lineNumber) +
                                         ": " + why);
    };
    auto value = llvm::json::parse(line);
    if (!value)
      return bad(llvm::toString(value.takeError()));
    const llvm::json::Object *o = value->getAsObject();
    const llvm::json::Value *config = o ? o->get("config") : nullptr;
    if (!config)
      return bad("no config");
    auto parsed = NVPTXKernelConfig::fromJson(*config);
    if (!parsed)
      return bad(llvm::toString(parsed.takeError()));
    RegisterSample s{*parsed, {}};
    s.resources.registers = o->getInteger("registers").value_or(-1);
    s.resources.stackBytes = o->getInteger("stack_bytes").value_or(0);
    s.resources.spillStoreBytes =
        o->getInteger("spill_store_bytes").value_or(0);
    s.resources.spillLoadBytes = o->getInteger("spill_load_bytes").value_or(0);
    if (s.resources.registers <= 0)
      return bad("no registers");
    samples.push_back(s);
  }
  return samples;
}

/// Fits trees to log2(demand) of `samples`.
llvm::Expected<std::string> fit(llvm::ArrayRef<const RegisterSample *> samples,
                                const TrainOptions &options) {
  std::vector<float> rows, labels;
  for (const RegisterSample *s : samples) {
    std::vector<float> row = extractRegisterFeatures(s->config);
    rows.insert(rows.end(), row.begin(), row.end());
    labels.push_back(float(std::log2(
        getRegisterDemand(s->resources, s->config.getRegisterCap()))));
  }
  return trainBooster(rows, getRegisterFeatureNames().size(), labels, options);
}

/// Held-out accuracy over k folds: the registers of the kernels that fit,
/// and how often "spills" is right.
struct Accuracy {
  unsigned samples = 0, spilling = 0;
  unsigned missedSpills = 0, falseSpills = 0;
  /// |predicted - actual| registers of the kernels that fit and are
  /// predicted to.
  std::vector<double> absErrors;
  llvm::json::Object toJson() const {
    std::vector<double> sorted = absErrors;
    llvm::sort(sorted);
    double mean = 0;
    for (double e : sorted)
      mean += e / double(sorted.size());
    double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    double p90 = sorted.empty() ? 0 : sorted[sorted.size() * 9 / 10];
    return llvm::json::Object{
        {"samples", samples},
        {"spilling", spilling},
        {"spill_accuracy",
         samples ? 1.0 - double(missedSpills + falseSpills) / samples : 0.0},
        {"missed_spills", missedSpills},
        {"false_spills", falseSpills},
        {"registers_mean_abs_error", mean},
        {"registers_median_abs_error", median},
        {"registers_p90_abs_error", p90}};
  }
};

} // namespace

int runTrainRegisters() {
  auto samples = readSamples(registersData);
  if (!samples)
    return fail(llvm::toString(samples.takeError()));
  if (samples->size() < 2 * folds)
    return fail("too few samples for " + llvm::Twine(folds) + " folds");
  TrainOptions options;
  options.rounds = registerRounds;
  options.maxDepth = 5;
  options.minChildWeight = 1;

  // int4 with bulk loads (int4-load=bulk) has a row of its own: the same
  // family to the model, but its loads stay where they are issued.
  static constexpr const char *names[] = {"dense", "sparse24", "int4",
                                          "int8",  "wgmma",    "int4-bulk"};
  constexpr unsigned kFamilies = std::size(names);
  auto familyRow = [](const NVPTXKernelConfig &c) {
    return c.family == NVPTXKernelFamily::Int4 && c.tma ? kFamilies - 1
                                                        : unsigned(c.family);
  };
  // Fold f holds out every folds-th sample from f: the grid's neighbours
  // (same tile, other warps or stages) land in other folds.
  std::vector<Accuracy> byFamily(kFamilies);
  Accuracy all;
  std::vector<double> predicted(samples->size());
  for (unsigned f = 0; f < folds; ++f) {
    std::vector<const RegisterSample *> train, test;
    for (size_t i = 0; i < samples->size(); ++i)
      (i % folds == f ? test : train).push_back(&(*samples)[i]);
    auto booster = fit(train, options);
    if (!booster)
      return fail(llvm::toString(booster.takeError()));
    auto trees = Booster::load(*booster);
    if (!trees)
      return fail(llvm::toString(trees.takeError()));
    for (const RegisterSample *s : test) {
      std::vector<float> row = extractRegisterFeatures(s->config);
      double demand = std::exp2(double((*trees)->predict(row, row.size())[0]));
      predicted[s - samples->data()] = demand;
      bool predictedSpill = demand > double(s->config.getRegisterCap());
      bool spilled = s->resources.spills();
      for (Accuracy *a : {&all, &byFamily[familyRow(s->config)]}) {
        ++a->samples;
        a->spilling += spilled;
        a->missedSpills += spilled && !predictedSpill;
        a->falseSpills += !spilled && predictedSpill;
        if (!spilled && !predictedSpill)
          a->absErrors.push_back(
              std::abs(demand - double(s->resources.registers)));
      }
    }
  }
  if (!heldOutOut.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(heldOutOut, ec);
    if (ec)
      return fail("cannot write " + heldOutOut + ": " + ec.message());
    for (double demand : predicted)
      os << llvm::format("%.1f\n", demand);
  }
  llvm::json::Object heldOut = all.toJson();
  llvm::outs() << llvm::formatv(
      "quilt-tune train-registers: {0} kernels, {1}-fold held-out\n",
      samples->size(), folds.getValue());
  llvm::outs() << llvm::formatv("{0,-9} {1,8} {2,9} {3,10} {4,8} {5,8} "
                                "{6,11} {7,9}\n",
                                "family", "kernels", "spilling", "spill-acc",
                                "missed", "false", "regs-mean", "regs-p90");
  for (unsigned i = 0; i <= kFamilies; ++i) {
    const Accuracy &a = i < kFamilies ? byFamily[i] : all;
    if (!a.samples)
      continue;
    llvm::json::Object o = a.toJson();
    llvm::outs() << llvm::formatv(
        "{0,-9} {1,8} {2,9} {3,10:P1} {4,8} {5,8} {6,11:F1} {7,9:F1}\n",
        i < kFamilies ? names[i] : "all", a.samples, a.spilling,
        *o.getNumber("spill_accuracy"), a.missedSpills, a.falseSpills,
        *o.getNumber("registers_mean_abs_error"),
        *o.getNumber("registers_p90_abs_error"));
    if (i < kFamilies)
      heldOut[names[i]] = std::move(o);
  }
  if (registersModelOut.empty())
    return 0;

  std::vector<const RegisterSample *> everything;
  for (const RegisterSample &s : *samples)
    everything.push_back(&s);
  auto booster = fit(everything, options);
  if (!booster)
    return fail(llvm::toString(booster.takeError()));
  RegisterModelFile file;
  file.featureNames = getRegisterFeatureNames();
  file.booster = std::move(*booster);
  file.training = llvm::json::Object{
      {"dataset", registersData.getValue()},
      {"samples", int64_t(samples->size())},
      {"rounds", int64_t(options.rounds)},
      {"max_depth", int64_t(options.maxDepth)},
      {"label", "log2(registers, plus stack frame / 4 when it spills)"},
      {"held_out", std::move(heldOut)}};
  if (llvm::Error e = writeRegisterModelFile(registersModelOut, file))
    return fail(llvm::toString(std::move(e)));
  llvm::outs() << "-> " << registersModelOut << "\n";
  return 0;
}

} // namespace quilt::tune
