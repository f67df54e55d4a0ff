//===- quilt-run.cpp - JIT-compile and run a Quilt entry --------*- C++ -*-===//
//
// quilt-run lowers a module through a Quilt pipeline, JIT-compiles it for the
// host CPU and calls one entry on seeded random or .npy inputs: it prints the
// results, times repeated calls, and checks them against the reference
// pipeline. Its --json object is an interface other tools read (DESIGN.md).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "quilt/InitAllPasses.h"
#include "quilt/Runtime/JitRunner.h"
#include "quilt/Runtime/OpCost.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::quilt::runtime;
namespace cl = llvm::cl;

static cl::OptionCategory category("quilt-run options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir file>"),
                                      cl::cat(category));
static cl::opt<std::string> entryName("entry", cl::init("main"),
                                      cl::desc("Function to call"),
                                      cl::cat(category));
static cl::opt<PipelineKind>
    pipelineKind("pipeline", cl::init(PipelineKind::CPU),
                 cl::desc("Pipeline that lowers the module"),
                 cl::values(clEnumValN(PipelineKind::CPU, "cpu",
                                       "quilt-cpu-pipeline (default)"),
                            clEnumValN(PipelineKind::Reference, "reference",
                                       "quilt-reference-pipeline")),
                 cl::cat(category));
static cl::opt<bool> check(
    "check",
    cl::desc("Also run the entry through the reference pipeline and report "
             "max_abs_err and max_rel_err of the results (see above)"),
    cl::cat(category));
static cl::opt<double>
    tolerance("tolerance",
              cl::desc("With --check: fail (exit 1) when max_rel_err exceeds "
                       "this value"),
              cl::cat(category));
static cl::opt<unsigned>
    benchRuns("bench", cl::init(0),
              cl::desc("Time N calls (after the warm-up calls) and report "
                       "median/min/max ms, GFLOP/s and GB/s"),
              cl::cat(category));
static cl::opt<unsigned>
    warmupRuns("warmup", cl::init(1),
               cl::desc("Untimed calls before the timed ones (with --bench)"),
               cl::cat(category));
static cl::opt<uint64_t>
    seed("seed", cl::init(1),
         cl::desc("Seed of the random inputs: argument #i is generated "
                  "with seed S + i"),
         cl::cat(category));
static cl::list<std::string>
    inputFiles("input",
               cl::desc("Argument #I from a .npy file (for a packed "
                        "weight: its dense f32 K x N matrix or, with the "
                        "CPU pipeline, its packed bytes)"),
               cl::value_desc("I=FILE.npy"), cl::cat(category));
static cl::opt<std::string>
    outputDir("output-npy", cl::value_desc("DIR"),
              cl::desc("Write result #i to DIR/result<i>.npy"),
              cl::cat(category));
static cl::opt<std::string> prePasses(
    "passes", cl::value_desc("PIPELINE"),
    cl::desc("Passes run on the module before the entry is compiled, e.g. "
             "'quilt-load-weights{dir=W},quilt-select-formats{error-budget="
             "0.02}' (the entry's signature is taken after them)"),
    cl::cat(category));
static cl::opt<std::string> cpuFeatures(
    "cpu-features", cl::init("host"), cl::value_desc("FEATURES"),
    cl::desc("Target features of the cpu pipeline's kernels: `host`, or a "
             "comma list the host supports, e.g. `+avx2,+fma` for the AVX2 "
             "kernels on an AVX-512 machine"),
    cl::cat(category));
static cl::opt<bool> json("json",
                          cl::desc("Print one JSON object instead of text"),
                          cl::cat(category));
static cl::opt<bool> printResults("print-results",
                                  cl::desc("Print the result values"),
                                  cl::cat(category));

static const char overview[] = R"(quilt-run: JIT-compile and run a Quilt entry

Inputs are seeded random values (floats uniform in [-1, 1), integers in
[-8, 7], splitmix64), or .npy files given with --input. Packed weight
arguments (!quilt.packed<KxN, ...>) take their dense f32 K x N matrix and are
packed once, untimed, before the entry runs.

--check compares every result with the reference pipeline's:
  max_abs_err = max_i |result_i - reference_i|
  max_rel_err = max_abs_err / max_i |reference_i|
(relative to the largest reference magnitude of that result; both are the
maxima over all results).

--bench FLOPs and bytes count the quilt.linear and quilt.matmul ops of the
entry: 2*M*N*K FLOPs each; bytes = inputs read (weights at their stored size,
with scales) + outputs written. Without such ops they are n/a.
)";

namespace {

[[noreturn]] void fail(const llvm::Twine &message) {
  llvm::errs() << "quilt-run: error: " << message << "\n";
  std::exit(1);
}

template <typename T> T orFail(llvm::Expected<T> value) {
  if (!value)
    fail(llvm::toString(value.takeError()));
  return std::move(*value);
}

/// "file:line:col" of a location (or of the first file location inside it).
std::string formatLocation(Location loc) {
  if (auto file = loc->findInstanceOf<FileLineColLoc>())
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) +
            ":" + llvm::Twine(file.getColumn()))
        .str();
  return "";
}

OwningOpRef<ModuleOp> parseInput(MLIRContext &context) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer)
    fail("cannot open '" + inputFile + "': " + buffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  std::string firstError;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = formatLocation(diag.getLocation()) + ": " + diag.str();
    return success();
  });
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    fail("cannot parse '" + inputFile + "': " + firstError);
  return module;
}

/// One input per argument: from --input I=FILE.npy, else seeded random.
std::vector<HostArray> makeInputs(const EntrySignature &signature) {
  std::vector<std::optional<HostArray>> given(signature.arguments.size());
  for (const std::string &spec : inputFiles) {
    auto [indexText, path] = llvm::StringRef(spec).split('=');
    unsigned index;
    if (path.empty() || indexText.getAsInteger(10, index))
      fail("--input '" + spec + "': expected I=FILE.npy");
    if (index >= given.size())
      fail("--input '" + spec + "': entry '" + entryName + "' has " +
           llvm::Twine(given.size()) + " argument(s)");
    given[index] = orFail(readNpy(path));
  }
  std::vector<HostArray> inputs;
  for (auto [i, arg] : llvm::enumerate(signature.arguments))
    inputs.push_back(given[i] ? std::move(*given[i])
                              : makeRandomArray(arg.kind, arg.shape, seed + i));
  return inputs;
}

std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

bool isInteger(ElementKind kind) {
  return kind == ElementKind::I8 || kind == ElementKind::I32 ||
         kind == ElementKind::I64;
}

/// Element `i`, exact for integers (doubles would round large i64).
int64_t getInteger(const HostArray &array, int64_t i) {
  if (array.getKind() == ElementKind::I64)
    return static_cast<const int64_t *>(array.getData())[i];
  return int64_t(array.getAsDouble(i));
}

std::string formatElement(const HostArray &array, int64_t i) {
  if (isInteger(array.getKind()))
    return std::to_string(getInteger(array, i));
  return formatNumber(array.getAsDouble(i));
}

/// Values as nested brackets, one innermost row per line.
void printValues(llvm::raw_ostream &os, const HostArray &array) {
  llvm::ArrayRef<int64_t> shape = array.getShape();
  if (shape.empty()) {
    os << formatElement(array, 0) << "\n";
    return;
  }
  int64_t rowSize = shape.back();
  int64_t rows = rowSize ? array.getNumElements() / rowSize : 0;
  for (int64_t row = 0; row < rows; ++row) {
    // A bracket opens (closes) for each outer dimension whose block of rows
    // starts (ends) at this row.
    unsigned opening = 1, closing = 1;
    int64_t block = 1;
    for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d) {
      block *= shape[d];
      if (row % block == 0)
        ++opening;
      if ((row + 1) % block == 0)
        ++closing;
    }
    os.indent(shape.size() - opening) << std::string(opening, '[');
    for (int64_t i = 0; i < rowSize; ++i)
      os << (i ? ", " : "") << formatElement(array, row * rowSize + i);
    os << std::string(closing, ']') << (row + 1 < rows ? "," : "") << "\n";
  }
}

/// JSON has no inf or NaN: they become null.
llvm::json::Value jsonNumber(double value) {
  if (std::isfinite(value))
    return value;
  return nullptr;
}

struct Timing {
  double medianMs = 0, minMs = 0, maxMs = 0;
};

Timing summarize(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  double median =
      n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2.0;
  return {median, times.front(), times.back()};
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  quilt::registerAllPasses();
  // libLLVM already registers an unrelated, undocumented `--threads`; move it
  // aside before registering ours, which DESIGN.md fixes.
  if (cl::Option *llvmThreads = cl::getRegisteredOptions().lookup("threads")) {
    llvmThreads->setArgStr("llvm-threads");
    llvmThreads->setHiddenFlag(cl::ReallyHidden);
  }
  cl::opt<unsigned> threads(
      "threads", cl::init(1),
      cl::desc("Worker threads of the generated code (cpu pipeline)"),
      cl::cat(category));
  // libLLVM registers hundreds of codegen options: keep --help to ours.
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, overview);
  if (tolerance.getNumOccurrences() && !check)
    fail("--tolerance needs --check");
  if (cpuFeatures != "host") {
    // Code for a feature the host lacks would die of an illegal instruction.
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    SmallVector<StringRef> parts;
    StringRef(cpuFeatures)
        .split(parts, ',', /*MaxSplit=*/-1,
               /*KeepEmpty=*/false);
    for (StringRef part : parts) {
      part = part.trim();
      if (part.consume_front("+") && !host.lookup(part))
        fail("--cpu-features: the host CPU has no '" + part + "'");
    }
  }

  DialectRegistry registry;
  registerRuntimeDependencies(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseInput(context);
  if (!prePasses.empty()) {
    PassManager pm(&context);
    std::string error;
    llvm::raw_string_ostream os(error);
    if (failed(parsePassPipeline(prePasses, pm, os)))
      fail("--passes '" + prePasses + "': " + error);
    if (failed(pm.run(*module)))
      fail("--passes '" + prePasses + "' failed");
  }

  CompileOptions options;
  options.pipeline = pipelineKind;
  options.threads = threads;
  options.cpuFeatures = cpuFeatures;
  std::unique_ptr<JitModule> jit = orFail(JitModule::compile(*module, options));
  EntrySignature signature = orFail(jit->getSignature(entryName));
  std::vector<HostArray> inputs = makeInputs(signature);
  std::unique_ptr<Invocation> invocation =
      orFail(jit->prepare(entryName, inputs));

  // Time each call alone: results are freed outside the timed region.
  std::optional<Timing> timing;
  for (unsigned i = 0; benchRuns && i < warmupRuns; ++i)
    if (llvm::Error error = invocation->run())
      fail(llvm::toString(std::move(error)));
  std::vector<double> times;
  for (unsigned i = 0; i < std::max(1u, benchRuns.getValue()); ++i) {
    invocation->releaseResults();
    auto start = std::chrono::steady_clock::now();
    llvm::Error error = invocation->run();
    auto end = std::chrono::steady_clock::now();
    if (error)
      fail(llvm::toString(std::move(error)));
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  if (benchRuns)
    timing = summarize(times);
  std::vector<HostArray> results = orFail(invocation->getResults());

  std::optional<ArrayDifference> difference;
  if (check) {
    CompileOptions referenceOptions;
    referenceOptions.pipeline = PipelineKind::Reference;
    std::unique_ptr<JitModule> reference =
        orFail(JitModule::compile(*module, referenceOptions));
    std::unique_ptr<Invocation> referenceCall =
        orFail(reference->prepare(entryName, inputs));
    if (llvm::Error error = referenceCall->run())
      fail(llvm::toString(std::move(error)));
    std::vector<HostArray> expected = orFail(referenceCall->getResults());
    difference = ArrayDifference();
    for (auto [actual, want] : llvm::zip(results, expected)) {
      ArrayDifference d = compareArrays(actual, want);
      difference->maxAbsErr = std::max(difference->maxAbsErr, d.maxAbsErr);
      difference->maxRelErr = std::max(difference->maxRelErr, d.maxRelErr);
    }
  }

  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      fail("cannot create '" + outputDir + "': " + ec.message());
    for (auto [i, result] : llvm::enumerate(results)) {
      llvm::SmallString<128> path(outputDir.getValue());
      llvm::sys::path::append(path, "result" + std::to_string(i) + ".npy");
      if (llvm::Error error = writeNpy(path, result))
        fail(llvm::toString(std::move(error)));
    }
  }

  // Throughput from the quilt ops, measured at the median.
  EntryCost cost;
  if (Operation *entry = module->lookupSymbol(entryName))
    cost = estimateEntryCost(entry);
  std::optional<double> gflops, gbps;
  if (timing && cost.numOps && timing->medianMs > 0) {
    gflops = cost.flops / (timing->medianMs * 1e-3) / 1e9;
    gbps = cost.bytes / (timing->medianMs * 1e-3) / 1e9;
  }

  llvm::raw_ostream &os = llvm::outs();
  if (json) {
    llvm::json::Object object{
        {"entry", entryName},
        {"pipeline", pipelineKind == PipelineKind::CPU ? "cpu" : "reference"},
        {"threads", int64_t(threads)}};
    if (timing) {
      object["median_ms"] = timing->medianMs;
      object["min_ms"] = timing->minMs;
      object["max_ms"] = timing->maxMs;
    }
    if (difference) {
      object["max_abs_err"] = jsonNumber(difference->maxAbsErr);
      object["max_rel_err"] = jsonNumber(difference->maxRelErr);
    }
    if (gflops) {
      object["gflops"] = *gflops;
      object["gbps"] = *gbps;
    }
    llvm::json::Array resultArray;
    for (auto [info, result] : llvm::zip(signature.results, results)) {
      llvm::json::Object entry{{"type", info.typeString}};
      if (printResults) {
        llvm::json::Array values;
        for (int64_t i = 0, e = result.getNumElements(); i < e; ++i) {
          if (isInteger(result.getKind()))
            values.push_back(getInteger(result, i));
          else
            values.push_back(jsonNumber(result.getAsDouble(i)));
        }
        entry["values"] = std::move(values);
      }
      resultArray.push_back(std::move(entry));
    }
    object["results"] = std::move(resultArray);
    os << llvm::json::Value(std::move(object)) << "\n";
  } else {
    os << "entry @" << entryName << ", pipeline "
       << getPipelineName(pipelineKind) << ", " << threads << " thread(s)\n";
    for (auto [i, pair] :
         llvm::enumerate(llvm::zip(signature.results, results))) {
      os << "result #" << i << ": " << std::get<0>(pair).typeString << "\n";
      if (printResults)
        printValues(os, std::get<1>(pair));
    }
    if (timing)
      os << "time: median " << formatNumber(timing->medianMs) << " ms, min "
         << formatNumber(timing->minMs) << " ms, max "
         << formatNumber(timing->maxMs) << " ms over " << benchRuns
         << " run(s), " << warmupRuns << " warm-up\n"
         << "throughput: "
         << (gflops ? formatNumber(*gflops) + " GFLOP/s, " +
                          formatNumber(*gbps) + " GB/s"
                    : std::string("n/a"))
         << "\n";
    if (difference)
      os << "check vs reference: max_abs_err "
         << formatNumber(difference->maxAbsErr) << ", max_rel_err "
         << formatNumber(difference->maxRelErr) << "\n";
  }
  os.flush();

  if (difference && tolerance.getNumOccurrences() &&
      !(difference->maxRelErr <= tolerance))
    fail("max_rel_err " + formatNumber(difference->maxRelErr) +
         " exceeds --tolerance " + formatNumber(tolerance));
  return 0;
}
