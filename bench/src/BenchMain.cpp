//===- BenchMain.cpp - quilt-bench: Quilt vs baselines, interleaved -*- C++
//-*-===//
//
// This file implements the quilt-bench driver behind `bench/run SUITE`: it
// checks the baselines, runs every case of a suite at each thread count with
// all impls interleaved in this one process, prints a table and writes the
// JSON records.
//
//===----------------------------------------------------------------------===//

#include "Measure.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace quilt::bench;

namespace {

struct Options {
  std::string suite;
  std::vector<unsigned> threads{1, 2};
  std::string casesRegex;
  std::string implsRegex;
  std::string jsonPath;
  bool list = false;
  bool quick = false;
  bool referencePipeline = false;
  MeasureOptions measure;
};

void printUsage() {
  std::fprintf(
      stderr,
      "usage: quilt-bench SUITE [--threads 1,2] [--repeats N] [--quick]\n"
      "                   [--cases REGEX] [--impls REGEX] [--json PATH]\n"
      "                   [--min-time S] [--max-case-time S] [--verbose]\n"
      "                   [--quilt-reference]\n"
      "       quilt-bench --list\n");
}

bool parseThreads(const std::string &text, std::vector<unsigned> &threads) {
  threads.clear();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int t = std::atoi(item.c_str());
    if (t <= 0)
      return false;
    threads.push_back(unsigned(t));
  }
  return !threads.empty();
}

/// Returns false (after printing why) on a malformed command line.
bool parseOptions(int argc, char **argv, Options &options) {
  bool minTimeSet = false, caseTimeSet = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "quilt-bench: %s needs a value\n", arg.c_str());
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--list") {
      options.list = true;
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--quilt-reference") {
      options.referencePipeline = true;
    } else if (arg == "--verbose") {
      options.measure.verbose = true;
    } else if (arg == "--threads") {
      if (!value(v) || !parseThreads(v, options.threads)) {
        std::fprintf(stderr, "quilt-bench: bad --threads '%s'\n", v.c_str());
        return false;
      }
    } else if (arg == "--repeats") {
      if (!value(v) || (options.measure.repeats = std::atoi(v.c_str())) <= 0) {
        std::fprintf(stderr, "quilt-bench: bad --repeats '%s'\n", v.c_str());
        return false;
      }
    } else if (arg == "--cases") {
      if (!value(options.casesRegex))
        return false;
    } else if (arg == "--impls") {
      if (!value(options.implsRegex))
        return false;
    } else if (arg == "--json") {
      if (!value(options.jsonPath))
        return false;
    } else if (arg == "--min-time") {
      if (!value(v))
        return false;
      options.measure.minSecondsPerImpl = std::atof(v.c_str());
      minTimeSet = true;
    } else if (arg == "--max-case-time") {
      if (!value(v))
        return false;
      options.measure.maxSecondsPerCase = std::atof(v.c_str());
      caseTimeSet = true;
    } else if (!arg.empty() && arg[0] != '-' && options.suite.empty()) {
      options.suite = arg;
    } else {
      std::fprintf(stderr, "quilt-bench: unknown argument '%s'\n", arg.c_str());
      return false;
    }
  }
  // --quick: a smoke run that still interleaves and reports every figure,
  // just with fewer, shorter rounds.
  if (options.quick) {
    options.measure.minRepeats = 3;
    options.measure.warmups = 1;
    if (!minTimeSet)
      options.measure.minSecondsPerImpl = 0.1;
    if (!caseTimeSet)
      options.measure.maxSecondsPerCase = 1.5;
  }
  if (!options.list && options.suite.empty()) {
    printUsage();
    return false;
  }
  return true;
}

/// Sets the environment the baselines are measured in (see README), which
/// libraries read when they are loaded: re-executes this process once if it
/// changed anything. Returns false if that failed.
bool normalizeEnvironment(char **argv) {
  // OpenMP workers (libdnnl's libgomp, an LLVM libomp) spin after each
  // parallel region; interleaved with another library on 2 cores the
  // spinning steals the core the next impl needs. PASSIVE makes idle workers
  // sleep at once (a futex wake per call, tens of microseconds).
  bool changed = false;
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    changed = true;
  }
  // OpenBLAS's own pthreads spin the same way unless told to sleep soon
  // (the timeout is 2^N cycles; 4 is its minimum).
  if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    changed = true;
  }
  // OpenBLAS may pick generic kernels on a CPU it does not recognize.
  std::string core = getOpenBlasCoreOverride();
  if (!core.empty() && !std::getenv("OPENBLAS_CORETYPE")) {
    std::fprintf(stderr,
                 "quilt-bench: OpenBLAS chose generic kernels; using "
                 "OPENBLAS_CORETYPE=%s\n",
                 core.c_str());
    setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
    changed = true;
  }
  if (!changed || std::getenv("QUILT_BENCH_REEXEC"))
    return true;
  setenv("QUILT_BENCH_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);
  std::perror("quilt-bench: execv");
  return false;
}

/// Other tenants of the cores distort every figure, the 2-thread ones most.
void warnIfBusy(unsigned cores) {
  double load = 0;
  if (FILE *f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1)
      load = 0;
    std::fclose(f);
  }
  if (load > 0.5)
    std::fprintf(stderr,
                 "quilt-bench: warning: load average %.2f on %u hardware "
                 "threads; other processes will add noise\n",
                 load, cores);
}

void listSuites() {
  for (const Suite *suite : getSuites()) {
    std::printf("%s: %s\n", suite->name.c_str(), suite->description.c_str());
    for (const Case &c : suite->makeCases())
      std::printf("  %s\n", c.name.c_str());
  }
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parseOptions(argc, argv, options))
    return 2;
  if (options.list) {
    listSuites();
    return 0;
  }
  const Suite *suite = findSuite(options.suite);
  if (!suite) {
    std::fprintf(stderr, "quilt-bench: unknown suite '%s'; see --list\n",
                 options.suite.c_str());
    return 2;
  }

  if (!normalizeEnvironment(argv))
    return 1;
  setQuiltReferencePipeline(options.referencePipeline);

  // A baseline that computes the wrong thing makes every ratio meaningless.
  std::string blasError = checkOpenBlas();
  if (!blasError.empty()) {
    std::fprintf(stderr, "quilt-bench: %s\n", blasError.c_str());
    return 1;
  }

  std::regex filter, implFilter;
  try {
    filter = std::regex(options.casesRegex);
    implFilter = std::regex(options.implsRegex);
  } catch (const std::regex_error &) {
    std::fprintf(stderr, "quilt-bench: bad --cases or --impls regex\n");
    return 2;
  }
  std::vector<Case> cases;
  for (Case &c : suite->makeCases())
    if (options.casesRegex.empty() || std::regex_search(c.name, filter))
      cases.push_back(std::move(c));
  if (cases.empty()) {
    std::fprintf(stderr, "quilt-bench: no case of '%s' matches '%s'\n",
                 suite->name.c_str(), options.casesRegex.c_str());
    return 2;
  }

  unsigned cores = std::thread::hardware_concurrency();
  std::fprintf(stderr,
               "quilt-bench %s: %zu cases x %zu thread counts, %u "
               "hardware threads\n  %s\n  %s\n",
               suite->name.c_str(), cases.size(), options.threads.size(), cores,
               describeOpenBlas().c_str(), describeOneDnn().c_str());
  std::fprintf(
      stderr,
      "  OMP_WAIT_POLICY=%s OPENBLAS_THREAD_TIMEOUT=%s "
      "OPENBLAS_CORETYPE=%s\n",
      std::getenv("OMP_WAIT_POLICY"), std::getenv("OPENBLAS_THREAD_TIMEOUT"),
      std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE")
                                       : "(auto)");
  warnIfBusy(cores);
  for (unsigned t : options.threads)
    if (cores && t > cores)
      std::fprintf(stderr,
                   "quilt-bench: warning: %u threads on %u hardware "
                   "threads measures oversubscription\n",
                   t, cores);

  std::vector<Record> records;
  size_t step = 0, steps = cases.size() * options.threads.size();
  for (Case &c : cases) {
    for (unsigned threads : options.threads) {
      std::fprintf(stderr, "[%zu/%zu] %s, %u thread%s\n", ++step, steps,
                   c.name.c_str(), threads, threads == 1 ? "" : "s");
      // Libraries size their thread pools and pick kernels when primitives
      // are created, so set the counts before the impls exist.
      setOpenBlasThreads(threads);
      setOneDnnThreads(threads);
      std::vector<Impl> impls;
      for (Impl &impl : c.makeImpls(threads))
        if (options.implsRegex.empty() ||
            std::regex_search(impl.name, implFilter))
          impls.push_back(std::move(impl));
      std::vector<Record> caseRecords =
          measureCase(c.name, threads, impls, options.measure);
      records.insert(records.end(), caseRecords.begin(), caseRecords.end());
    }
    // Frees the case's inputs before the next case allocates its own.
    c.makeImpls = nullptr;
  }

  std::printf("\n");
  printTable(records);
  if (!options.jsonPath.empty()) {
    if (!writeJson(options.jsonPath, records)) {
      std::fprintf(stderr, "quilt-bench: cannot write %s\n",
                   options.jsonPath.c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s\n", options.jsonPath.c_str());
  }
  return 0;
}
