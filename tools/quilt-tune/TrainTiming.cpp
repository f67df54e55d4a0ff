//===- TrainTiming.cpp - quilt-tune train-timing --------------------------===//
//
// This file implements `quilt-tune train-timing`: it fits the NVPTX timing
// model to GPU bench results (`bench/run gpu` on the tiling grid, whose rows
// record each kernel's tiling) and reports how well it ranks the tilings of
// a case it has not seen: for each case, the model is trained on the other
// cases, and the tiling it ranks first is compared with the fastest
// measured and with the one `auto` picked. That is the question
// convert-quilt-to-nvptx asks it.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "quilt/CostModel/TimingModel.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace cl = llvm::cl;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getTrainTimingCommand() {
  static cl::SubCommand command(
      "train-timing", "Fit the NVPTX timing model to timed GPU bench results");
  return command;
}

static cl::list<std::string>
    timingData("data",
               cl::desc("bench/run gpu results (JSON; repeat for several)"),
               cl::OneOrMore, cl::sub(getTrainTimingCommand()));
static cl::opt<std::string>
    timingModelOut("o", cl::desc("Timing model file to write"),
                   cl::sub(getTrainTimingCommand()));
static cl::opt<unsigned> timingRounds("rounds", cl::desc("Boosting rounds"),
                                      cl::init(300),
                                      cl::sub(getTrainTimingCommand()));

namespace {

/// One timed kernel set of the bench: its GEMM and median time.
struct TimingSample {
  std::string caseName, impl;
  NVPTXTimingQuery query;
  double microseconds = 0;
};

struct TimingData {
  std::vector<TimingSample> samples;
  std::string device;
  /// Rows left out, and why (not timed, check failed, no tiling recorded).
  llvm::StringMap<unsigned> skipped;
};

llvm::Error readResults(llvm::StringRef path, TimingData &data) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail(buffer.getError().message());
  auto value = llvm::json::parse((*buffer)->getBuffer());
  if (!value)
    return fail(llvm::toString(value.takeError()));
  const llvm::json::Object *top = value->getAsObject();
  const llvm::json::Array *rows = top ? top->getArray("rows") : nullptr;
  if (!rows)
    return fail("no rows (not a bench/run gpu result)");
  std::string device = top->getString("device").value_or("").str();
  if (device.empty())
    return fail("no device named");
  if (!data.device.empty() && data.device != device)
    return fail("timed on " + device + ", the other data on " + data.device +
                ": one model per GPU");
  data.device = device;
  for (const llvm::json::Value &rowValue : *rows) {
    const llvm::json::Object *row = rowValue.getAsObject();
    if (!row)
      return fail("a row is not an object");
    llvm::StringRef impl = row->getString("impl").value_or("");
    if (!impl.starts_with("quilt"))
      continue; // baselines
    if (row->getString("status") != "ok" || row->getString("check") != "ok") {
      ++data.skipped["not ok"];
      continue;
    }
    const llvm::json::Object *extra = row->getObject("extra");
    const llvm::json::Array *kernels =
        extra ? extra->getArray("kernels") : nullptr;
    const llvm::json::Object *gemm = nullptr;
    for (size_t i = 0; kernels && i < kernels->size(); ++i)
      if (const llvm::json::Object *o = (*kernels)[i].getAsObject())
        if (o->get("config"))
          gemm = o;
    if (!gemm) {
      ++data.skipped["no kernel config"];
      continue;
    }
    auto config = NVPTXKernelConfig::fromJson(*gemm->get("config"));
    if (!config)
      return fail(llvm::toString(config.takeError()));
    if (!config->m || !config->ctas) {
      ++data.skipped["config without problem and launch"];
      continue;
    }
    TimingSample s;
    s.caseName = row->getString("case").value_or("").str();
    s.impl = impl.str();
    s.query.config = *config;
    s.query.registers = gemm->getInteger("registers").value_or(0);
    s.query.extraLaunches = int64_t(kernels->size()) - 1;
    s.microseconds = row->getNumber("median_ms").value_or(0) * 1e3;
    if (s.microseconds <= 0)
      return fail("row " + s.impl + " of " + s.caseName + " has no time");
    data.samples.push_back(std::move(s));
  }
  return llvm::Error::success();
}

double getLabel(const TimingSample &s) {
  return std::log2(s.microseconds / getRooflineMicroseconds(s.query.config));
}

llvm::Expected<std::string> fit(llvm::ArrayRef<const TimingSample *> samples,
                                const TrainOptions &options) {
  std::vector<float> rows, labels;
  for (const TimingSample *s : samples) {
    std::vector<float> row = extractTimingFeatures(s->query);
    rows.insert(rows.end(), row.begin(), row.end());
    labels.push_back(float(getLabel(*s)));
  }
  return trainBooster(rows, getTimingFeatureNames().size(), labels, options);
}

/// How the model trained without a case ranks that case's tilings.
struct CaseResult {
  std::string caseName, picked;
  unsigned tilings = 0;
  double pickedOverBest = 0, autoOverBest = 0; // 0: no `auto` row
  double meanAbsLog2Error = 0;
};

llvm::Expected<CaseResult>
evaluateHeldOutCase(const std::vector<TimingSample> &samples,
                    llvm::StringRef caseName, const TrainOptions &options) {
  std::vector<const TimingSample *> train, test;
  for (const TimingSample &s : samples)
    (s.caseName == caseName ? test : train).push_back(&s);
  auto booster = fit(train, options);
  if (!booster)
    return booster.takeError();
  auto trees = Booster::load(*booster);
  if (!trees)
    return trees.takeError();
  CaseResult r;
  r.caseName = caseName.str();
  r.tilings = test.size();
  const TimingSample *picked = nullptr, *best = nullptr,
                     *chosenByAuto = nullptr;
  double pickedPrediction = 0;
  for (const TimingSample *s : test) {
    std::vector<float> row = extractTimingFeatures(s->query);
    double predicted = double((*trees)->predict(row, row.size())[0]);
    r.meanAbsLog2Error += std::abs(predicted - getLabel(*s)) / test.size();
    if (!picked || predicted < pickedPrediction)
      picked = s, pickedPrediction = predicted;
    if (!best || s->microseconds < best->microseconds)
      best = s;
    if (!llvm::StringRef(s->impl).contains('@'))
      chosenByAuto = s;
  }
  r.picked = picked->impl;
  r.pickedOverBest = picked->microseconds / best->microseconds;
  if (chosenByAuto)
    r.autoOverBest = chosenByAuto->microseconds / best->microseconds;
  return r;
}

} // namespace

int runTrainTiming() {
  TimingData data;
  for (const std::string &path : timingData)
    if (llvm::Error e = readResults(path, data))
      return fail(llvm::toString(std::move(e)));
  for (const auto &[why, count] : data.skipped)
    llvm::errs() << llvm::formatv("quilt-tune train-timing: left out {0} "
                                  "rows: {1}\n",
                                  count, why);
  if (data.samples.size() < 8)
    return fail("only " + llvm::Twine(data.samples.size()) +
                " timed Quilt kernels with a recorded tiling; time the "
                "tiling grid (bench/gpu/README.md)");
  int64_t sm = data.samples.front().query.config.sm;
  for (const TimingSample &s : data.samples)
    if (s.query.config.sm != sm)
      return fail(llvm::formatv("kernels for sm_{0} and sm_{1}: one model per "
                                "compute capability",
                                sm, s.query.config.sm));
  TrainOptions options;
  options.rounds = timingRounds;
  options.maxDepth = 4;
  options.minChildWeight = 1;

  std::vector<std::string> cases;
  for (const TimingSample &s : data.samples)
    if (!llvm::is_contained(cases, s.caseName))
      cases.push_back(s.caseName);
  llvm::outs() << llvm::formatv(
      "quilt-tune train-timing: {0} timed kernels of {1} cases on {2} "
      "(sm_{3})\n",
      data.samples.size(), cases.size(), data.device, sm);

  llvm::json::Array heldOut;
  double logPicked = 0, logAuto = 0;
  unsigned withAuto = 0;
  if (cases.size() > 1) {
    llvm::outs() << "held out by case (trained on the other cases):\n";
    llvm::outs() << llvm::formatv("{0,-40} {1,7} {2,12} {3,10} {4,11}  {5}\n",
                                  "case", "tilings", "picked/best", "auto/best",
                                  "|log2 err|", "picked");
    for (const std::string &c : cases) {
      auto r = evaluateHeldOutCase(data.samples, c, options);
      if (!r)
        return fail(llvm::toString(r.takeError()));
      std::string autoText =
          r->autoOverBest ? llvm::formatv("{0:F2}x", r->autoOverBest).str()
                          : "-";
      llvm::outs() << llvm::formatv(
          "{0,-40} {1,7} {2,11:F2}x {3,10} {4,11:F2}  {5}\n", r->caseName,
          r->tilings, r->pickedOverBest, autoText, r->meanAbsLog2Error,
          r->picked);
      logPicked += std::log(r->pickedOverBest) / cases.size();
      if (r->autoOverBest)
        logAuto += std::log(r->autoOverBest), ++withAuto;
      llvm::json::Object o{{"case", r->caseName},
                           {"tilings", r->tilings},
                           {"picked", r->picked},
                           {"picked_over_best", r->pickedOverBest},
                           {"mean_abs_log2_error", r->meanAbsLog2Error}};
      if (r->autoOverBest)
        o["auto_over_best"] = r->autoOverBest;
      heldOut.push_back(std::move(o));
    }
    std::string autoText =
        withAuto ? llvm::formatv("{0:F2}x", std::exp(logAuto / withAuto)).str()
                 : "-";
    llvm::outs() << llvm::formatv("{0,-40} {1,7} {2,11:F2}x {3,10}\n",
                                  "geometric mean", "", std::exp(logPicked),
                                  autoText);
  } else {
    llvm::outs() << "one case: no held-out case to rank\n";
  }
  if (timingModelOut.empty())
    return 0;

  std::vector<const TimingSample *> everything;
  for (const TimingSample &s : data.samples)
    everything.push_back(&s);
  auto booster = fit(everything, options);
  if (!booster)
    return fail(llvm::toString(booster.takeError()));
  TimingModelFile file;
  file.sm = sm;
  file.device = data.device;
  for (const TimingSample &s : data.samples)
    for (auto [knob, value] : getTilingKnobs(s.query.config)) {
      std::vector<int64_t> &seen =
          file.domain[getKernelForm(s.query.config)][knob.str()];
      if (!llvm::is_contained(seen, value))
        seen.insert(llvm::upper_bound(seen, value), value);
    }
  file.featureNames = getTimingFeatureNames();
  file.booster = std::move(*booster);
  file.training = llvm::json::Object{
      {"datasets", llvm::json::Array(std::vector<std::string>(
                       timingData.begin(), timingData.end()))},
      {"samples", int64_t(data.samples.size())},
      {"cases", int64_t(cases.size())},
      {"rounds", int64_t(options.rounds)},
      {"max_depth", int64_t(options.maxDepth)},
      {"label", "log2(median time / roofline time at the chip's peaks)"},
      {"held_out_by_case", std::move(heldOut)}};
  if (llvm::Error e = writeTimingModelFile(timingModelOut, file))
    return fail(llvm::toString(std::move(e)));
  llvm::outs() << "-> " << timingModelOut << "\n";
  return 0;
}

} // namespace quilt::tune
