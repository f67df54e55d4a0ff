//===- Report.cpp - Table and JSON output of quilt-bench -------*- C++ -*-===//
//
// This file implements the human-readable table and bench/results/SUITE.json,
// the array of records that dashboards read (see "Interfaces other tools
// rely on" in DESIGN.md).
//
//===----------------------------------------------------------------------===//

#include "Measure.h"

#include <cstdio>

namespace quilt::bench {

void printTable(const std::vector<Record> &records) {
  std::printf(
      "%-30s %3s %-22s %10s %10s %10s %9s %8s %8s %8s %8s %9s %9s %5s\n",
      "case", "thr", "impl", "median_ms", "min_ms", "max_ms", "GFLOP/s", "GB/s",
      "vs_oblas", "vs_qf32", "vs_unfus", "weight_MB", "rel_err", "reps");
  std::string previous;
  for (const Record &r : records) {
    std::string group = r.caseName + "/" + std::to_string(r.threads);
    if (!previous.empty() && group != previous)
      std::printf("\n");
    previous = group;
    if (!r.skipped.empty()) {
      std::printf("%-30s %3u %-22s skipped: %s\n", r.caseName.c_str(),
                  r.threads, r.impl.c_str(), r.skipped.c_str());
      continue;
    }
    char ratio[16] = "-", ratioQ[16] = "-", ratioU[16] = "-", weight[16] = "-",
         err[16] = "-";
    if (r.ratioVsUnfused >= 0)
      std::snprintf(ratioU, sizeof(ratioU), "%.2fx", r.ratioVsUnfused);
    if (r.ratioVsOpenBlas >= 0)
      std::snprintf(ratio, sizeof(ratio), "%.2fx", r.ratioVsOpenBlas);
    if (r.ratioVsQuiltF32 >= 0)
      std::snprintf(ratioQ, sizeof(ratioQ), "%.2fx", r.ratioVsQuiltF32);
    if (r.weightBytes >= 0)
      std::snprintf(weight, sizeof(weight), "%.2f", r.weightBytes / 1048576.0);
    if (r.maxRelErr >= 0)
      std::snprintf(err, sizeof(err), "%.1e", r.maxRelErr);
    std::printf("%-30s %3u %-22s %10.3f %10.3f %10.3f %9.1f %8.1f %8s %8s %8s "
                "%9s %9s %5d\n",
                r.caseName.c_str(), r.threads, r.impl.c_str(), r.medianMs,
                r.minMs, r.maxMs, r.gflops, r.gbps, ratio, ratioQ, ratioU,
                weight, err, r.repeats);
  }
  std::fflush(stdout);
}

bool writeJson(const std::string &path, const std::vector<Record> &records) {
  FILE *f = std::fopen(path.c_str(), "w");
  if (!f)
    return false;
  // Names are [a-z0-9x-] by construction, so no JSON escaping is needed.
  std::fprintf(f, "[");
  bool first = true;
  for (const Record &r : records) {
    if (!r.skipped.empty())
      continue;
    std::fprintf(f,
                 "%s\n  {\"case\": \"%s\", \"impl\": \"%s\", "
                 "\"threads\": %u, \"median_ms\": %.6g, \"min_ms\": %.6g, "
                 "\"max_ms\": %.6g, \"gflops\": %.6g, \"gbps\": %.6g",
                 first ? "" : ",", r.caseName.c_str(), r.impl.c_str(),
                 r.threads, r.medianMs, r.minMs, r.maxMs, r.gflops, r.gbps);
    if (r.ratioVsOpenBlas >= 0)
      std::fprintf(f, ", \"ratio_vs_openblas\": %.6g", r.ratioVsOpenBlas);
    if (r.ratioVsQuiltF32 >= 0)
      std::fprintf(f, ", \"ratio_vs_quilt_f32\": %.6g", r.ratioVsQuiltF32);
    if (r.ratioVsUnfused >= 0)
      std::fprintf(f, ", \"ratio_vs_unfused\": %.6g", r.ratioVsUnfused);
    if (r.weightBytes >= 0)
      std::fprintf(f, ", \"weight_bytes\": %.0f", r.weightBytes);
    if (r.maxRelErr >= 0)
      std::fprintf(f, ", \"max_rel_err\": %.6g", r.maxRelErr);
    std::fprintf(f, ", \"repeats\": %d}", r.repeats);
    first = false;
  }
  std::fprintf(f, "\n]\n");
  return std::fclose(f) == 0;
}

} // namespace quilt::bench
