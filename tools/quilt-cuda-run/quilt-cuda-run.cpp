//===- quilt-cuda-run.cpp - Run Quilt's PTX on a CUDA device ----*- C++ -*-===//
//
// quilt-cuda-run runs one entry compiled by Quilt's NVPTX pipeline: it reads
// the entry's launch manifest, fills the inputs (seeded random exactly like
// quilt-run, or .npy files), runs the launches through the CUDA driver API
// (loaded at run time), checks the first output against a reference .npy
// and times the run. It uses only the C++ standard library so that it builds
// standalone on GPU machines without LLVM:
//   c++ -O2 -std=c++17 -Iinclude -o quilt-cuda-run tools/quilt-cuda-run/*.cpp
//   -ldl
// All validation happens before the driver is loaded, so every error path
// is testable on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "HostBuffer.h"
#include "Launcher.h"
#include "Manifest.h"
#include "NpyIO.h"
#include "Watchdog.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

using namespace quilt_cuda_run;

static const char kHelp[] =
    R"(quilt-cuda-run: run an entry compiled by Quilt's NVPTX pipeline

USAGE: quilt-cuda-run MANIFEST.json [options]

MANIFEST.json is the launch manifest the NVPTX pipeline writes per entry
(schema 1: the PTX file, the buffers, the setup and run launches).

OPTIONS:
  --ptx FILE.ptx        PTX to load (default: the manifest's "ptx", relative
                        to the manifest's directory)
  --seed S              Seed of the random inputs (default 1): input buffer
                        with "index" i is generated with seed S + i, exactly
                        like `quilt-run --seed S` generates argument #i
  --input NAME=FILE.npy Input buffer NAME from a .npy file (dtype and shape
                        must match; a bf16 buffer takes '<f4' values, as
                        quilt-run writes bf16)
  --expect FILE.npy     Compare the first output (lowest "index") with FILE:
                          max_abs_err = max_i |out_i - ref_i|
                          max_rel_err = max_abs_err / max_i |ref_i|
                        e.g. FILE = DIR/result0.npy written by
                        `quilt-run --pipeline reference --output-npy DIR`
  --tolerance T         With --expect: exit 1 when max_rel_err > T or an
                        output holds a NaN (outputs start as 0xFF bytes, NaN
                        for floats, so unwritten elements fail)
  --output-npy FILE     Write the first output to FILE (bf16 widened to <f4)
  --bench N             Time N iterations of the run launches (CUDA events)
                        after the checked run; report median/min/max ms,
                        GFLOP/s and GB/s (manifest "flops"/"bytes")
  --warmup W            Untimed iterations before the timed ones (default 3)
  --l2-flush MODE       How every timed iteration starts with a cold L2:
                        `read` (default) reads 256 MiB, leaving clean lines;
                        `write` writes 256 MiB, leaving the L2 full of dirty
                        lines that the timed kernels must write back first
  --json                Print one JSON object instead of text
  --device I            CUDA device ordinal (default 0)
  --timeout S           Exit with an error naming the launch if the whole
                        run takes more than S seconds: a kernel that never
                        finishes (default 300; 0: no limit)
  --print-results       Print the outputs' values (the first 16 of each)
  --help                Print this text

Setup launches run once, untimed, after temp buffers are zeroed; then the
run launches run once, each checked with cuCtxSynchronize.
The driver is libcuda.so.1 ($QUILT_CUDA_DRIVER overrides the path).
)";

namespace {

struct Options {
  std::string manifestPath;
  std::string ptxPath;
  uint64_t seed = 1;
  std::vector<std::string> inputSpecs;
  std::string expectPath;
  std::optional<double> tolerance;
  std::string outputNpy;
  unsigned bench = 0;
  unsigned warmup = 3;
  bool flushByWrite = false;
  bool json = false;
  int device = 0;
  unsigned timeout = 300;
  bool printResults = false;
  /// Hidden: write the inputs to DIR/NAME.npy and exit (tests compare them
  /// with quilt-run's).
  std::string dumpInputsDir;
};

uint64_t parseUnsigned(const std::string &flag, const std::string &text,
                       uint64_t max) {
  char *end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end || errno || value > max)
    fail(flag + " '" + text + "': expected an integer in [0, " +
         std::to_string(max) + "]");
  return value;
}

Options parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      std::cout << kHelp;
      std::exit(0);
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!options.manifestPath.empty())
        fail("unexpected argument '" + arg + "' (one manifest only)");
      options.manifestPath = arg;
      continue;
    }
    // Flags take "--flag value" or "--flag=value".
    std::string flag = arg, value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    auto takeValue = [&]() {
      if (!hasValue) {
        if (i + 1 >= argc)
          fail(flag + " needs a value");
        value = argv[++i];
      }
      return value;
    };
    auto noValue = [&]() {
      if (hasValue)
        fail(flag + " takes no value");
    };
    if (flag == "--ptx") {
      options.ptxPath = takeValue();
    } else if (flag == "--seed") {
      options.seed = parseUnsigned(flag, takeValue(), UINT64_MAX);
    } else if (flag == "--input") {
      options.inputSpecs.push_back(takeValue());
    } else if (flag == "--expect") {
      options.expectPath = takeValue();
    } else if (flag == "--tolerance") {
      std::string text = takeValue();
      char *end = nullptr;
      double tolerance = std::strtod(text.c_str(), &end);
      if (text.empty() || *end || !(tolerance >= 0))
        fail("--tolerance '" + text + "': expected a non-negative number");
      options.tolerance = tolerance;
    } else if (flag == "--output-npy") {
      options.outputNpy = takeValue();
    } else if (flag == "--bench") {
      options.bench = unsigned(parseUnsigned(flag, takeValue(), 1u << 24));
    } else if (flag == "--warmup") {
      options.warmup = unsigned(parseUnsigned(flag, takeValue(), 1u << 24));
    } else if (flag == "--l2-flush") {
      std::string mode = takeValue();
      if (mode != "read" && mode != "write")
        fail("--l2-flush '" + mode + "': expected `read` or `write`");
      options.flushByWrite = mode == "write";
    } else if (flag == "--json") {
      noValue();
      options.json = true;
    } else if (flag == "--device") {
      options.device = int(parseUnsigned(flag, takeValue(), 1 << 20));
    } else if (flag == "--timeout") {
      options.timeout = unsigned(parseUnsigned(flag, takeValue(), 1u << 24));
    } else if (flag == "--print-results") {
      noValue();
      options.printResults = true;
    } else if (flag == "--dump-inputs") {
      options.dumpInputsDir = takeValue();
    } else {
      fail("unknown option '" + arg + "' (see --help)");
    }
  }
  if (options.manifestPath.empty())
    fail("no manifest given (usage: quilt-cuda-run MANIFEST.json [options], "
         "see --help)");
  if (options.tolerance && options.expectPath.empty())
    fail("--tolerance needs --expect");
  return options;
}

std::string readFile(const std::string &path, const std::string &what) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    fail("cannot read " + what + " '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

HostBuffer readNpyOrFail(const std::string &path) {
  std::string error;
  std::optional<HostBuffer> buffer = readNpy(path, error);
  if (!buffer)
    fail(error);
  return std::move(*buffer);
}

std::string describeBuffer(const BufferSpec &buffer) {
  return formatTensorType(buffer.dtype, buffer.shape);
}

/// One host array per manifest buffer (empty for temps and outputs).
std::vector<HostBuffer> makeInputs(const Manifest &manifest,
                                   const Options &options) {
  std::vector<std::optional<std::string>> files(manifest.buffers.size());
  for (const std::string &spec : options.inputSpecs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      fail("--input '" + spec + "': expected NAME=FILE.npy");
    std::string name = spec.substr(0, eq);
    auto it = std::find_if(
        manifest.buffers.begin(), manifest.buffers.end(),
        [&](const BufferSpec &buffer) { return buffer.name == name; });
    if (it == manifest.buffers.end() || it->kind != BufferSpec::Kind::Input) {
      std::string names;
      for (const BufferSpec *input :
           manifest.getBuffers(BufferSpec::Kind::Input))
        names += (names.empty() ? "" : ", ") + input->name;
      fail("--input '" + spec + "': entry '" + manifest.entry +
           "' has no input buffer '" + name +
           "' (inputs: " + (names.empty() ? "none" : names) + ")");
    }
    std::optional<std::string> &file = files[it - manifest.buffers.begin()];
    if (file)
      fail("--input '" + spec + "': buffer '" + name + "' is given twice");
    file = spec.substr(eq + 1);
  }

  std::vector<HostBuffer> inputs(manifest.buffers.size());
  for (size_t i = 0; i < manifest.buffers.size(); ++i) {
    const BufferSpec &buffer = manifest.buffers[i];
    if (buffer.kind != BufferSpec::Kind::Input)
      continue;
    if (!files[i]) {
      inputs[i] = makeRandomBuffer(buffer.dtype, buffer.shape,
                                   options.seed + uint64_t(buffer.index));
      continue;
    }
    HostBuffer given = readNpyOrFail(*files[i]);
    std::optional<HostBuffer> converted = convertForBuffer(given, buffer.dtype);
    if (!converted || given.shape != buffer.shape)
      fail("--input '" + buffer.name + "=" + *files[i] + "': buffer '" +
           buffer.name + "' is " + describeBuffer(buffer) +
           ", the file holds " + formatTensorType(given.dtype, given.shape));
    inputs[i] = std::move(*converted);
  }
  return inputs;
}

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x", unsigned(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// JSON has no inf or NaN: they become null.
std::string jsonNumber(double value) {
  if (!std::isfinite(value))
    return "null";
  char text[64];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
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

/// The first 16 values in text, all of them (NaN and inf as null) in JSON.
std::string formatValues(const HostBuffer &buffer, bool json) {
  int64_t n = buffer.getNumElements();
  int64_t shown = json ? n : std::min<int64_t>(n, 16);
  std::string text = "[";
  for (int64_t i = 0; i < shown; ++i) {
    text += i ? ", " : "";
    if (json && !isIntegerDType(buffer.dtype))
      text += jsonNumber(buffer.getAsDouble(i));
    else
      text += buffer.formatElement(i);
  }
  if (shown < n)
    text += ", ...";
  return text + "]";
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);

  // Validate everything before the driver is loaded.
  Manifest manifest;
  std::string error;
  if (!parseManifest(readFile(options.manifestPath, "manifest"), manifest,
                     error))
    fail("'" + options.manifestPath + "': " + error);
  std::string ptxPath = options.ptxPath;
  if (ptxPath.empty()) {
    if (manifest.ptx.empty())
      fail("'" + options.manifestPath +
           "': missing field 'ptx' (or give --ptx FILE.ptx)");
    ptxPath = (std::filesystem::path(options.manifestPath).parent_path() /
               manifest.ptx)
                  .string();
  }
  std::string ptx = readFile(ptxPath, "PTX file");
  std::vector<HostBuffer> inputs = makeInputs(manifest, options);
  std::vector<const BufferSpec *> outputs =
      manifest.getBuffers(BufferSpec::Kind::Output);
  const BufferSpec &firstOutput = *outputs.front();
  std::optional<HostBuffer> expected;
  if (!options.expectPath.empty()) {
    expected = readNpyOrFail(options.expectPath);
    if (expected->shape != firstOutput.shape)
      fail("--expect '" + options.expectPath + "': holds " +
           formatTensorType(expected->dtype, expected->shape) + ", output '" +
           firstOutput.name + "' is " + describeBuffer(firstOutput));
  }

  if (!options.dumpInputsDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dumpInputsDir, ec);
    if (ec)
      fail("cannot create '" + options.dumpInputsDir + "': " + ec.message());
    for (size_t i = 0; i < manifest.buffers.size(); ++i)
      if (manifest.buffers[i].kind == BufferSpec::Kind::Input &&
          !writeNpy(options.dumpInputsDir + "/" + manifest.buffers[i].name +
                        ".npy",
                    inputs[i], error))
        fail(error);
    return 0;
  }

  std::unique_ptr<CudaDriver> driver = CudaDriver::load(error);
  if (!driver)
    fail(error);
  startWatchdog(options.timeout);
  Launcher launcher(std::move(driver), options.device);
  const DeviceInfo &device = launcher.getDevice();
  if (!options.json)
    std::cout << "device: " << device.name << " (" << device.getSm()
              << "), driver " << device.getDriverVersion() << std::endl;
  launcher.checkChip(manifest.chip);
  launcher.loadModule(ptx, manifest);
  launcher.allocateBuffers(manifest, inputs);
  launcher.runPhase(/*setup=*/true);
  launcher.runPhase(/*setup=*/false);

  // The checked results are those of one run after the poisoning: timed
  // iterations may accumulate into outputs.
  std::vector<HostBuffer> results;
  for (const BufferSpec *output : outputs)
    results.push_back(
        launcher.readBuffer(size_t(output - &manifest.buffers[0])));

  std::optional<Timing> timing;
  double flops = 0, bytes = 0;
  if (options.bench) {
    timing = summarize(launcher.benchmark(options.warmup, options.bench,
                                          options.flushByWrite));
    for (const LaunchSpec &launch : manifest.launches)
      if (!launch.isSetup) {
        flops += launch.flops;
        bytes += launch.bytes;
      }
  }
  bool hasThroughput = timing && timing->medianMs > 0 && (flops || bytes);
  double gflops = hasThroughput ? flops / (timing->medianMs * 1e-3) / 1e9 : 0;
  double gbps = hasThroughput ? bytes / (timing->medianMs * 1e-3) / 1e9 : 0;

  std::optional<Difference> difference;
  if (expected)
    difference = compareBuffers(results.front(), *expected);

  if (!options.outputNpy.empty() &&
      !writeNpy(options.outputNpy, results.front(), error))
    fail(error);

  std::ostream &os = std::cout;
  if (options.json) {
    os << "{\"device\": " << jsonString(device.name)
       << ", \"sm\": " << jsonString(device.getSm())
       << ", \"driver\": " << jsonString(device.getDriverVersion())
       << ", \"entry\": " << jsonString(manifest.entry);
    if (timing)
      os << ", \"median_ms\": " << jsonNumber(timing->medianMs)
         << ", \"min_ms\": " << jsonNumber(timing->minMs)
         << ", \"max_ms\": " << jsonNumber(timing->maxMs)
         << ", \"runs\": " << options.bench
         << ", \"warmup\": " << options.warmup << ", \"l2_flush\": "
         << jsonString(options.flushByWrite ? "write" : "read");
    if (hasThroughput)
      os << ", \"gflops\": " << jsonNumber(gflops)
         << ", \"gbps\": " << jsonNumber(gbps);
    if (difference)
      os << ", \"max_abs_err\": " << jsonNumber(difference->maxAbsErr)
         << ", \"max_rel_err\": " << jsonNumber(difference->maxRelErr);
    os << ", \"results\": [";
    for (size_t i = 0; i < outputs.size(); ++i) {
      os << (i ? ", " : "") << "{\"name\": " << jsonString(outputs[i]->name)
         << ", \"type\": " << jsonString(describeBuffer(*outputs[i]));
      if (options.printResults)
        os << ", \"values\": " << formatValues(results[i], /*json=*/true);
      os << "}";
    }
    os << "]}\n";
  } else {
    os << "entry " << manifest.entry << ": " << manifest.launches.size()
       << " launch(es)\n";
    for (size_t i = 0; i < outputs.size(); ++i) {
      os << "result #" << outputs[i]->index << " (" << outputs[i]->name
         << "): " << describeBuffer(*outputs[i]) << "\n";
      if (options.printResults)
        os << formatValues(results[i], /*json=*/false) << "\n";
    }
    if (timing)
      os << "time: median " << formatNumber(timing->medianMs) << " ms, min "
         << formatNumber(timing->minMs) << " ms, max "
         << formatNumber(timing->maxMs) << " ms over " << options.bench
         << " run(s), " << options.warmup << " warm-up\n"
         << "throughput: "
         << (hasThroughput ? formatNumber(gflops) + " GFLOP/s, " +
                                 formatNumber(gbps) + " GB/s"
                           : std::string("n/a"))
         << "\n";
    if (difference)
      os << "check vs reference: max_abs_err "
         << formatNumber(difference->maxAbsErr) << ", max_rel_err "
         << formatNumber(difference->maxRelErr) << "\n";
  }
  os.flush();

  if (options.tolerance) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      int64_t nans = 0, first = -1;
      for (int64_t j = 0, e = results[i].getNumElements(); j < e; ++j)
        if (std::isnan(results[i].getAsDouble(j)) && nans++ == 0)
          first = j;
      if (nans)
        fail("output '" + outputs[i]->name + "' has " + std::to_string(nans) +
             " NaN element(s), the first at flat index " +
             std::to_string(first) +
             " (outputs start as NaN: unwritten, or computed NaN)");
    }
    if (!(difference->maxRelErr <= *options.tolerance))
      fail("max_rel_err " + formatNumber(difference->maxRelErr) +
           " exceeds --tolerance " + formatNumber(*options.tolerance));
  }
  return 0;
}
