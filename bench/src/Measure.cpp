//===- Measure.cpp - Interleaved timing of a case's impls ------*- C++ -*-===//
//
// This file implements the measurement of one case at one thread count. All
// impls are set up before any is timed; then rounds call each impl once, the
// starting impl rotating every round, so slow drifts (frequency, other
// tenants of the machine, page cache) spread evenly over the impls instead of
// favouring whichever ran first.
//
//===----------------------------------------------------------------------===//

#include "Measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace quilt::bench {

namespace {
using Clock = std::chrono::steady_clock;

/// Times one call; returns seconds, or a negative value after an error.
double timeCall(Impl &impl, std::string &error, bool release = true) {
  auto start = Clock::now();
  error = impl.run();
  auto stop = Clock::now();
  if (release && impl.release)
    impl.release();
  if (!error.empty())
    return -1;
  return std::chrono::duration<double>(stop - start).count();
}

/// Normalized by the reference's magnitude, not per element: outputs near
/// zero would otherwise dominate the relative error of a quantized impl.
double compareOutputs(const std::vector<float> &y,
                      const std::vector<float> &ref) {
  if (y.empty() || y.size() != ref.size())
    return -1;
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    maxDiff = std::max(maxDiff, std::fabs(double(y[i]) - double(ref[i])));
    maxRef = std::max(maxRef, std::fabs(double(ref[i])));
  }
  return maxRef > 0 ? maxDiff / maxRef : maxDiff;
}

int chooseRounds(const std::vector<double> &estimates,
                 const MeasureOptions &options) {
  if (options.repeats > 0)
    return options.repeats;
  double fastest = *std::min_element(estimates.begin(), estimates.end());
  double perRound = 0;
  for (double t : estimates)
    perRound += t;
  double rounds =
      std::ceil(options.minSecondsPerImpl / std::max(fastest, 1e-7));
  rounds = std::min(rounds, double(options.maxRepeats));
  rounds = std::min(rounds, std::floor(options.maxSecondsPerCase / perRound));
  return std::max(int(rounds), options.minRepeats);
}
} // namespace

std::vector<Record> measureCase(const std::string &caseName, unsigned threads,
                                std::vector<Impl> &impls,
                                const MeasureOptions &options) {
  std::vector<Record> records(impls.size());
  std::vector<size_t> active;
  for (size_t i = 0; i < impls.size(); ++i) {
    records[i].caseName = caseName;
    records[i].impl = impls[i].name;
    records[i].threads = threads;
    records[i].skipped = impls[i].setup();
    if (records[i].skipped.empty())
      active.push_back(i);
  }

  // Warm-up: first calls pay for page faults, lazy JIT symbol resolution and
  // thread-pool start-up. The fastest warm-up call estimates the time per
  // call for choosing the number of rounds.
  std::vector<double> estimates;
  std::vector<size_t> warm;
  for (size_t i : active) {
    double best = 1e30;
    std::string error;
    int warmups = std::max(options.warmups, 1);
    // The last warm-up call keeps its results for the accuracy check.
    for (int w = 0; w < warmups && error.empty(); ++w)
      best = std::min(best, timeCall(impls[i], error, w + 1 < warmups));
    if (!error.empty()) {
      records[i].skipped = "run failed: " + error;
      continue;
    }
    warm.push_back(i);
    estimates.push_back(best);
  }
  if (warm.empty())
    return records;

  // Accuracy against the first impl that ran (the case's reference), once,
  // untimed.
  std::vector<float> reference;
  if (impls[warm.front()].result)
    reference = impls[warm.front()].result();
  for (size_t i : warm) {
    if (impls[i].result && !reference.empty())
      records[i].maxRelErr = compareOutputs(impls[i].result(), reference);
    if (impls[i].release)
      impls[i].release();
  }

  int rounds = chooseRounds(estimates, options);
  if (options.verbose)
    std::fprintf(stderr, "  %d rounds of %zu impls\n", rounds, warm.size());
  std::vector<std::vector<double>> samples(warm.size());
  std::vector<bool> failed(warm.size(), false);
  for (int r = 0; r < rounds; ++r) {
    for (size_t j = 0; j < warm.size(); ++j) {
      size_t slot = (size_t(r) + j) % warm.size();
      if (failed[slot])
        continue;
      std::string error;
      double t = timeCall(impls[warm[slot]], error);
      if (t < 0) {
        records[warm[slot]].skipped = "run failed: " + error;
        failed[slot] = true;
        continue;
      }
      samples[slot].push_back(t);
    }
  }

  for (size_t slot = 0; slot < warm.size(); ++slot) {
    if (failed[slot])
      continue;
    Record &rec = records[warm[slot]];
    std::vector<double> &s = samples[slot];
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    double median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    rec.repeats = int(n);
    rec.medianMs = median * 1e3;
    rec.minMs = s.front() * 1e3;
    rec.maxMs = s.back() * 1e3;
    const Impl &impl = impls[warm[slot]];
    double bytes = impl.bytes;
    if (impl.weightBytes) {
      rec.weightBytes = impl.weightBytes();
      bytes += rec.weightBytes;
    }
    rec.gflops = impl.flops / median * 1e-9;
    rec.gbps = bytes / median * 1e-9;
  }

  auto find = [&](const char *name) -> const Record * {
    for (const Record &rec : records)
      if (rec.impl == name && rec.skipped.empty())
        return &rec;
    return nullptr;
  };
  const Record *openBlas = find("openblas-f32");
  const Record *quiltF32 = find("quilt-f32");
  const Record *unfused = find("quilt-unfused");
  for (Record &rec : records) {
    if (!rec.skipped.empty())
      continue;
    if (openBlas)
      rec.ratioVsOpenBlas = openBlas->medianMs / rec.medianMs;
    if (quiltF32)
      rec.ratioVsQuiltF32 = quiltF32->medianMs / rec.medianMs;
    if (unfused)
      rec.ratioVsUnfused = unfused->medianMs / rec.medianMs;
  }
  return records;
}

} // namespace quilt::bench
