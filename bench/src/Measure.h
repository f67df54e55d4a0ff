//===- Measure.h - Interleaved timing and reporting ------------*- C++ -*-===//
//
// The measurement method of quilt-bench (untimed setup, warm-up, interleaved
// rounds with a rotating start) and the table and JSON it reports.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_BENCH_MEASURE_H
#define QUILT_BENCH_MEASURE_H

#include "Bench.h"

#include <string>
#include <vector>

namespace quilt::bench {

/// How many interleaved rounds to run.
struct MeasureOptions {
  /// Fixed number of rounds; 0 picks it adaptively from the warm-up times.
  int repeats = 0;
  int minRepeats = 5;
  int maxRepeats = 2000;
  /// Target time of the fastest impl, summed over its rounds.
  double minSecondsPerImpl = 1.0;
  /// Cap on the timed rounds of one case and thread count, all impls.
  double maxSecondsPerCase = 15.0;
  int warmups = 2;
  bool verbose = false;
};

/// One impl of one case at one thread count.
struct Record {
  std::string caseName;
  std::string impl;
  unsigned threads = 1;
  /// Non-empty when the impl did not run; the figures below are then unset.
  std::string skipped;
  int repeats = 0;
  double medianMs = 0, minMs = 0, maxMs = 0;
  double gflops = 0, gbps = 0;
  /// openblas-f32 median / this median, < 0 when there is no baseline.
  double ratioVsOpenBlas = -1;
  /// quilt-f32 median / this median, < 0 when the case has no quilt-f32.
  double ratioVsQuiltF32 = -1;
  /// quilt-unfused median / this median (fusion suite), < 0 without one.
  double ratioVsUnfused = -1;
  /// Bytes of the weight as stored, < 0 when the impl does not say.
  double weightBytes = -1;
  /// max |y - y_ref| / max |y_ref| against the case's first impl, < 0 when
  /// unknown.
  double maxRelErr = -1;
};

/// Sets up `impls`, warms them up, runs interleaved rounds and returns one
/// record per impl (skipped impls included, with the reason).
std::vector<Record> measureCase(const std::string &caseName, unsigned threads,
                                std::vector<Impl> &impls,
                                const MeasureOptions &options);

void printTable(const std::vector<Record> &records);
/// Writes the records that ran as a JSON array; returns false on I/O error.
bool writeJson(const std::string &path, const std::vector<Record> &records);

} // namespace quilt::bench

#endif // QUILT_BENCH_MEASURE_H
