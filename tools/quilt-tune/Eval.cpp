//===- Eval.cpp - quilt-tune eval: held-out accuracy and regret -----------===//
//
// This file implements `quilt-tune eval`: group k-fold cross-validation by
// shape family (every sample of a family is held out together, so the
// model is judged on shapes it never saw). Each fold trains a learned model
// on the other folds; the learned model, the analytical model and random
// choice are scored on the held-out samples by MAPE, Kendall tau, pairwise
// ranking accuracy within decision groups (the formats of one op) and
// decision regret: measured time of the format a model picks over the
// measured time of the best format.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/MLIRContext.h"
#include "quilt/Runtime/JitRunner.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace cl = llvm::cl;
using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getEvalCommand() {
  static cl::SubCommand command("eval", "Score the cost models on held-out "
                                        "shape families");
  return command;
}

static cl::opt<unsigned> numFolds("folds", cl::desc("Folds of shape families"),
                                  cl::init(4), cl::sub(getEvalCommand()));
static cl::opt<bool> json("json", cl::desc("Print the scores as JSON"),
                          cl::sub(getEvalCommand()));
static cl::opt<std::string>
    plotDir("plot", cl::desc("Write PNG plots (and their CSV) to DIR"),
            cl::value_desc("DIR"), cl::sub(getEvalCommand()));

namespace {

struct Scores {
  double mape = 0, kendallTau = 0, groupKendallTau = 0, pairwise = 0;
  double regretMedian = 0, regretP90 = 0, regretMean = 0;
  unsigned samples = 0, groups = 0;
  std::vector<double> regrets;
};

double quantile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

/// Kendall tau-a of `pred` against `meas` over the indices `idx`; also
/// counts concordant pairs for the pairwise accuracy.
double kendall(const std::vector<double> &pred, const std::vector<double> &meas,
               const std::vector<size_t> &idx, double &concordant,
               double &pairs) {
  double c = 0, d = 0;
  for (size_t a = 0; a < idx.size(); ++a)
    for (size_t b = a + 1; b < idx.size(); ++b) {
      double s = (pred[idx[a]] - pred[idx[b]]) * (meas[idx[a]] - meas[idx[b]]);
      if (s > 0)
        ++c;
      else if (s < 0)
        ++d;
    }
  double n = double(idx.size()) * double(idx.size() - 1) / 2;
  concordant += c;
  pairs += n;
  return n > 0 ? (c - d) / n : 0;
}

Scores score(const std::vector<double> &pred, const std::vector<double> &meas,
             const llvm::StringMap<std::vector<size_t>> &groups) {
  Scores s;
  s.samples = unsigned(meas.size());
  for (size_t i = 0; i < meas.size(); ++i)
    s.mape += std::abs(pred[i] - meas[i]) / meas[i];
  s.mape /= std::max<size_t>(meas.size(), 1);
  std::vector<size_t> all(meas.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  double c = 0, n = 0;
  s.kendallTau = kendall(pred, meas, all, c, n);
  c = n = 0;
  double tauSum = 0;
  for (const auto &g : groups) {
    const std::vector<size_t> &idx = g.getValue();
    if (idx.size() < 2)
      continue;
    tauSum += kendall(pred, meas, idx, c, n);
    size_t pick = idx[0], best = idx[0];
    for (size_t i : idx) {
      if (pred[i] < pred[pick])
        pick = i;
      if (meas[i] < meas[best])
        best = i;
    }
    s.regrets.push_back(meas[pick] / meas[best]);
  }
  s.groups = unsigned(s.regrets.size());
  s.groupKendallTau = s.groups ? tauSum / s.groups : 0;
  s.pairwise = n > 0 ? c / n : 0;
  s.regretMedian = quantile(s.regrets, 0.5);
  s.regretP90 = quantile(s.regrets, 0.9);
  for (double r : s.regrets)
    s.regretMean += r / std::max<size_t>(s.regrets.size(), 1);
  return s;
}

llvm::json::Object toJson(const Scores &s) {
  return llvm::json::Object{{"mape", s.mape},
                            {"kendall_tau", s.kendallTau},
                            {"kendall_tau_within_group", s.groupKendallTau},
                            {"pairwise_accuracy", s.pairwise},
                            {"regret_median", s.regretMedian},
                            {"regret_p90", s.regretP90},
                            {"regret_mean", s.regretMean},
                            {"samples", int64_t(s.samples)},
                            {"decision_groups", int64_t(s.groups)}};
}

/// Writes the CSVs and runs plot_eval.py (matplotlib) on them.
int writePlots(const std::vector<double> &meas,
               const std::vector<double> &learned,
               const std::vector<double> &analytical, const Scores &l,
               const Scores &a, const Scores &r) {
  if (std::error_code ec = llvm::sys::fs::create_directories(plotDir))
    return fail("cannot create " + plotDir + ": " + ec.message());
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(plotDir + "/predictions.csv", ec);
    os << "measured_us,learned_us,analytical_us\n";
    for (size_t i = 0; i < meas.size(); ++i)
      os << llvm::format("%g,%g,%g\n", meas[i], learned[i], analytical[i]);
    llvm::raw_fd_ostream rs(plotDir + "/regret.csv", ec);
    rs << "learned,analytical,random\n";
    for (size_t i = 0; i < l.regrets.size(); ++i)
      rs << llvm::format("%g,%g,%g\n", l.regrets[i], a.regrets[i],
                         r.regrets[i]);
  }
  // Debian's python3 first: python3-matplotlib installs there, not into
  // another python3 that may come first on PATH.
  auto python = llvm::sys::findProgramByName("python3", {"/usr/bin"});
  if (!python)
    python = llvm::sys::findProgramByName("python3");
  if (!python)
    return fail("--plot needs python3 with matplotlib");
  std::string script = QUILT_TUNE_PLOT_SCRIPT;
  llvm::StringRef args[] = {*python, script, plotDir};
  if (llvm::sys::ExecuteAndWait(*python, args) != 0)
    return fail("plot_eval.py failed (is python3-matplotlib installed?)");
  return 0;
}

} // namespace

int runEval() {
  auto samples = readDataset(dataPath);
  if (!samples)
    return fail(llvm::toString(samples.takeError()));
  if (numFolds < 2)
    return fail("--folds must be at least 2");
  TargetDescription target = loadTarget(targetPath, dataPath);
  auto context = makeContext();
  auto analyzed = analyzeSamples(*context, *samples, target);
  if (!analyzed)
    return fail(llvm::toString(analyzed.takeError()));

  size_t n = analyzed->size();
  std::vector<double> meas(n), learned(n), analytical(n), random(n);
  std::mt19937 rng(7);
  for (unsigned fold = 0; fold < numFolds; ++fold) {
    std::vector<AnalyzedSample> train;
    std::vector<size_t> test;
    for (size_t i = 0; i < n; ++i) {
      if (getFold((*analyzed)[i].sample->family, numFolds) == fold)
        test.push_back(i);
      else
        train.push_back((*analyzed)[i]);
    }
    if (test.empty() || train.empty())
      continue;
    auto file = fitModel(train, target, !noIRTokens, getTrainOptions());
    if (!file)
      return fail(llvm::toString(file.takeError()));
    auto model = LearnedModel::create(std::move(*file));
    if (!model)
      return fail(llvm::toString(model.takeError()));
    std::uniform_int_distribution<size_t> pickTrain(0, train.size() - 1);
    for (size_t i : test) {
      const AnalyzedSample &a = (*analyzed)[i];
      meas[i] = a.sample->medianUs;
      learned[i] = (*model)->predictSeconds(a.work) * 1e6;
      analytical[i] = a.analyticalSeconds * 1e6;
      // Random: the time of a random training sample.
      random[i] = train[pickTrain(rng)].sample->medianUs;
    }
  }
  llvm::StringMap<std::vector<size_t>> groups;
  for (size_t i = 0; i < n; ++i)
    if ((*analyzed)[i].sample->format != "-")
      groups[(*analyzed)[i].sample->group].push_back(i);
  Scores l = score(learned, meas, groups);
  Scores a = score(analytical, meas, groups);
  Scores r = score(random, meas, groups);

  if (json) {
    llvm::json::Object o{
        {"learned", toJson(l)},     {"analytical", toJson(a)},
        {"random", toJson(r)},      {"folds", int64_t(numFolds)},
        {"ir_tokens", !noIRTokens}, {"dataset", dataPath.getValue()}};
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(o)))
                 << "\n";
  } else {
    llvm::outs() << "quilt-tune eval: " << n << " samples, " << l.groups
                 << " decision groups, " << numFolds
                 << "-fold by shape family, IR tokens "
                 << (noIRTokens ? "off" : "on") << "\n"
                 << llvm::format("%-28s %10s %10s %10s\n", "", "learned",
                                 "analytical", "random");
    auto row = [&](const char *name, double Scores::*field) {
      llvm::outs() << llvm::format("%-28s %10.3f %10.3f %10.3f\n", name,
                                   l.*field, a.*field, r.*field);
    };
    row("MAPE", &Scores::mape);
    row("Kendall tau (all samples)", &Scores::kendallTau);
    row("Kendall tau (within group)", &Scores::groupKendallTau);
    row("pairwise ranking accuracy", &Scores::pairwise);
    row("decision regret median", &Scores::regretMedian);
    row("decision regret p90", &Scores::regretP90);
    row("decision regret mean", &Scores::regretMean);
  }
  if (!plotDir.empty())
    return writePlots(meas, learned, analytical, l, a, r);
  return 0;
}

} // namespace quilt::tune
