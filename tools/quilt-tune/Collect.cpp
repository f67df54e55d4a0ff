//===- Collect.cpp - quilt-tune collect: measure kernels --------*- C++ -*-===//
//
// This file implements `quilt-tune collect`: it builds small modules (one
// quilt.linear, quilt.matmul, element-wise op or quilt.fused block per
// entry) across shape families (LLM-, CNN- and odd-shaped), weight formats,
// fusions and thread counts, compiles each through quilt-cpu-pipeline with
// the JIT runner (QuiltRuntime), times its entries and appends one JSON line
// per entry to a dataset. A module is one weight shape in one format, with
// one entry per row count M, so a compilation is shared by several samples.
// Runs resume: modules whose samples are all in the dataset are skipped.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "quilt/Runtime/JitRunner.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

using namespace mlir;
namespace cl = llvm::cl;
namespace rt = mlir::quilt::runtime;

namespace quilt::tune {

cl::SubCommand &getCollectCommand() {
  static cl::SubCommand command("collect",
                                "Measure kernels and append to a dataset");
  return command;
}

static cl::opt<std::string> outPath("o", cl::desc("Dataset (JSONL, appended)"),
                                    cl::init("dataset.jsonl"),
                                    cl::sub(getCollectCommand()));
static cl::opt<double>
    budgetMinutes("budget-minutes",
                  cl::desc("Stop starting modules after this many minutes"),
                  cl::init(18), cl::sub(getCollectCommand()));
static cl::opt<std::string>
    shardSpec("shard", cl::desc("Only modules i, i+n, ... (as i/n)"),
              cl::init("0/1"), cl::sub(getCollectCommand()));
static cl::opt<unsigned> maxRepeats("repeats",
                                    cl::desc("Most timed calls per entry"),
                                    cl::init(7), cl::sub(getCollectCommand()));
static cl::opt<unsigned> numPasses(
    "passes",
    cl::desc("Measure the space this many times, each pass after the "
             "previous one, each kernel compiled anew (the dataset's time is "
             "the fastest pass's)"),
    cl::init(2), cl::sub(getCollectCommand()));
static cl::opt<bool> listOnly("list",
                              cl::desc("Print the modules and exit (no runs)"),
                              cl::sub(getCollectCommand()));
static cl::opt<bool> small("small", cl::desc("A tiny sample space (for tests)"),
                           cl::sub(getCollectCommand()));

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// A weight format as quilt-cpu-pipeline takes it.
struct Format {
  std::string name, type, act; // type: the !quilt.packed parameters
};

/// One module to compile: one weight shape, format, variant, thread count.
struct ModuleSpec {
  std::string category, family, variant, op;
  Format format;
  int64_t k = 0, n = 0, batch = 0;
  std::vector<int64_t> rows;
  unsigned threads = 1;
  std::string keyFor(int64_t m) const {
    return family + "|" + format.name + "|" + variant + "|" + str(threads) +
           "|" + str(m);
  }
  std::string groupFor(int64_t m) const {
    return family + "|" + variant + "|" + str(threads) + "|" + str(m);
  }
};

/// The formats that fit a K x N weight (the verifier's rules), named as in
/// bench/src/SuitesFormats.cpp.
std::vector<Format> formatsFor(int64_t k, int64_t n) {
  std::vector<Format> f = {
      {"f32", "precision<f32>", ""},
      {"bf16", "precision<bf16>", "<bf16>"},
      // bf16 weights with f32 activations: quilt-select-formats's bf16.
      {"bf16-w", "precision<bf16>", ""},
      {"int8", "precision<i8, channel>", ""},
      {"int8-a8", "precision<i8, channel>", "<i8, channel>"},
  };
  int64_t g = k % 128 == 0 ? 128 : k % 32 == 0 ? 32 : k % 16 == 0 ? 16 : 8;
  if (k % g == 0 && k % 2 == 0) {
    std::string p = "precision<i4, group<" + str(g) + ">>";
    f.push_back({"int4-g" + str(g), p, ""});
    f.push_back({"int4-g" + str(g) + "-a8", p, "<i8, channel>"});
  }
  if (k % 4 == 0) {
    f.push_back({"2of4", "sparsity<nm<2, 4>>", ""});
    f.push_back({"2of4-int8-a8", "precision<i8, channel>, sparsity<nm<2, 4>>",
                 "<i8, channel>"});
  }
  if (k % 16 == 0 && n % 16 == 0) {
    f.push_back({"block16-d25", "sparsity<block<16x16>, density = 0.25>", ""});
    f.push_back({"block16-d50", "sparsity<block<16x16>, density = 0.5>", ""});
    f.push_back({"block16-d25-int8-a8",
                 "precision<i8, channel>, sparsity<block<16x16>, density = "
                 "0.25>",
                 "<i8, channel>"});
  }
  f.push_back(
      {"unstructured-d10", "sparsity<unstructured, density = 0.1>", ""});
  f.push_back(
      {"unstructured-d30", "sparsity<unstructured, density = 0.3>", ""});
  if (k % 8 == 0 && n % 8 == 0 && k >= 64 && n >= 64) {
    f.push_back({"monarch-b8", "structure<monarch<8>>", ""});
    f.push_back(
        {"monarch-b8-bf16", "precision<bf16>, structure<monarch<8>>", ""});
  }
  if (k % 4 == 0 && n % 4 == 0)
    f.push_back({"blockdiag-b4", "structure<blockdiag<4>>", ""});
  // Packing runs a naive Jacobi SVD on the N x N Gram matrix: small only.
  if (n <= 256 && k <= 1024)
    f.push_back({"lowrank-r16", "structure<lowrank<16>>", ""});
  return f;
}

struct Family {
  const char *category;
  int64_t k, n;
  std::vector<int64_t> rows;
};

std::vector<Family> families() {
  if (small)
    return {{"llm", 64, 32, {1, 8}}};
  std::vector<int64_t> llm = {1, 16, 64}, cnn = {49, 196}, odd = {3, 24, 100};
  return {
      {"llm", 512, 512, llm},
      {"llm", 512, 1536, llm},
      {"llm", 1024, 1024, llm},
      {"llm", 1024, 2816, llm},
      {"llm", 768, 768, llm},
      {"llm", 768, 3072, llm},
      {"llm", 2048, 512, llm},
      {"llm", 256, 256, llm},
      {"cnn", 576, 64, cnn},
      {"cnn", 1152, 128, cnn},
      {"cnn", 288, 32, cnn},
      {"cnn", 2304, 256, cnn},
      {"cnn", 144, 96, cnn},
      {"odd", 336, 200, odd},
      {"odd", 480, 720, odd},
      {"odd", 1200, 208, odd},
      {"odd", 96, 1000, odd},
      {"odd", 200, 120, odd},
      // The scales deployed networks reach beyond the families above: a
      // 7B LLM's projections, MLP layers at large batch, and classifier
      // heads with few outputs (plain, one thread, and only the formats
      // quilt-select-formats chooses among; see isSelectionFamily).
      {"llm7b", 4096, 4096, {1, 16}},
      {"llm7b", 4096, 11008, {1, 16}},
      {"llm7b", 11008, 4096, {1, 16}},
      {"mlp", 128, 1024, {128, 512}},
      {"mlp", 1024, 1536, {128, 512}},
      {"head", 1024, 12, {16, 512}},
      {"head", 768, 100, {16, 512}},
  };
}

/// Families measured in the formats quilt-select-formats chooses among
/// only: their large weights make every other format minutes of packing.
bool isSelectionFamily(const Family &fam) {
  std::string category = fam.category;
  return category == "llm7b" || category == "mlp" || category == "head";
}

bool isSelectionFormat(const Format &format) {
  // The selection families' K are multiples of 128: int4 groups of 128.
  static const char *names[] = {"f32",         "bf16-w",       "int8-a8",
                                "int4-g128",   "int4-g128-a8", "2of4",
                                "2of4-int8-a8"};
  return llvm::is_contained(names, format.name);
}

/// All modules in a fixed order: groups (family x variant x threads) in a
/// seeded shuffle, so a budget cut keeps whole groups of every kind.
std::vector<ModuleSpec> sampleSpace() {
  std::vector<std::vector<ModuleSpec>> groups;
  for (const Family &fam : families()) {
    std::string family =
        std::string(fam.category) + "-" + str(fam.k) + "x" + str(fam.n);
    for (const char *variant : {"plain", "bias-gelu", "bias-silu"}) {
      for (unsigned threads : {1u, 2u}) {
        bool plain = std::string(variant) == "plain";
        // Two threads on this 2-core machine, shared with other jobs, time
        // mostly how long the OpenMP barrier waits for the other core: a
        // few LLM families only. bias-silu: LLM families only.
        bool twoThreadFamily =
            family == "llm-512x1536" || family == "llm-1024x2816";
        if ((threads == 2 && (!plain || !twoThreadFamily)) ||
            (!plain && std::string(variant) == "bias-silu" &&
             std::string(fam.category) != "llm") ||
            ((small || isSelectionFamily(fam)) && (!plain || threads != 1)))
          continue;
        std::vector<ModuleSpec> group;
        for (const Format &format : formatsFor(fam.k, fam.n)) {
          // bf16-w joined later: the selection families only.
          if (isSelectionFamily(fam) ? !isSelectionFormat(format)
                                     : format.name == "bf16-w")
            continue;
          // Fused variants: the formats a deployer would weigh.
          if (small && format.name != "f32" && format.name != "int8-a8")
            continue;
          if (!plain && format.name != "f32" && format.name != "int8-a8" &&
              format.name.rfind("int4", 0) != 0 && format.name != "2of4" &&
              format.name != "block16-d25")
            continue;
          ModuleSpec s{fam.category, family, variant, "linear", format,
                       fam.k,        fam.n,  0,       fam.rows, threads};
          group.push_back(s);
        }
        groups.push_back(std::move(group));
      }
    }
  }
  if (!small) {
    // Attention matmuls (batch x M x K times batch x N x K^T) and
    // element-wise ops: no weight format, for MAPE and ranking only.
    for (auto [b, s, d] : {std::tuple{8, 64, 64},
                           {8, 128, 64},
                           {4, 256, 64},
                           {12, 32, 64},
                           {2, 100, 80}})
      for (unsigned threads : {1u}) {
        ModuleSpec qk{"attention",
                      "att-" + str(b) + "x" + str(s) + "x" + str(d),
                      "qk",
                      "matmul",
                      {"-", "", ""},
                      d,
                      s,
                      b,
                      {s},
                      threads};
        ModuleSpec pv = qk;
        pv.variant = "pv";
        pv.k = s;
        pv.n = d;
        groups.push_back({qk});
        groups.push_back({pv});
      }
    for (const char *op :
         {"relu", "gelu", "silu", "add", "softmax", "rmsnorm", "layernorm"})
      for (auto [m, n] : {std::pair{1, 4096},
                          {16, 1024},
                          {64, 768},
                          {128, 3072},
                          {196, 576},
                          {7, 1000}})
        for (unsigned threads : {1u}) {
          ModuleSpec s{"elementwise",
                       "ew-" + str(m) + "x" + str(n),
                       op,
                       op,
                       {"-", "", ""},
                       0,
                       n,
                       0,
                       {m},
                       threads};
          groups.push_back({s});
        }
  }
  std::mt19937 rng(42);
  std::shuffle(groups.begin(), groups.end(), rng);
  std::vector<ModuleSpec> all;
  for (auto &g : groups)
    all.insert(all.end(), g.begin(), g.end());
  return all;
}

std::string tensor(std::initializer_list<int64_t> dims) {
  std::string t = "tensor<";
  for (int64_t d : dims)
    t += str(d) + "x";
  return t + "f32>";
}

/// The entry of one row count: one op, or one quilt.fused block.
std::string entryText(const ModuleSpec &s, int64_t m) {
  std::string name = "@m" + str(m);
  if (s.op == "matmul") {
    std::string a = tensor({s.batch, m, s.k});
    std::string b = s.variant == "qk" ? tensor({s.batch, s.n, s.k})
                                      : tensor({s.batch, s.k, s.n});
    std::string y = tensor({s.batch, m, s.n});
    std::string tb = s.variant == "qk" ? " transpose_b" : "";
    return "func.func " + name + "(%a: " + a + ", %b: " + b + ") -> " + y +
           " {\n  %y = quilt.matmul %a, %b" + tb + " : " + a + ", " + b +
           " -> " + y + "\n  return %y : " + y + "\n}\n";
  }
  if (s.op != "linear") {
    std::string x = tensor({m, s.n}), v = tensor({s.n});
    std::string args = "%x: " + x, operands = "%x", types = x;
    if (s.op == "add") { // one type: the result's
      args += ", %z: " + x;
      operands += ", %z";
    } else if (s.op == "rmsnorm" || s.op == "layernorm") {
      args += ", %g: " + v;
      operands += ", %g";
      types += ", " + v;
      if (s.op == "layernorm") {
        args += ", %c: " + v;
        operands += ", %c";
        types += ", " + v;
      }
    }
    return "func.func " + name + "(" + args + ") -> " + x +
           " {\n  %y = quilt." + s.op + " " + operands + " : " + types +
           "\n  return %y : " + x + "\n}\n";
  }
  std::string w =
      "!quilt.packed<" + str(s.k) + "x" + str(s.n) + ", " + s.format.type + ">";
  std::string x = tensor({m, s.k}), y = tensor({m, s.n}), b = tensor({s.n});
  std::string act = s.format.act.empty() ? "" : " act " + s.format.act;
  if (s.variant == "plain")
    return "func.func " + name + "(%x: " + x + ", %w: " + w + ") -> " + y +
           " {\n  %y = quilt.linear %x, %w" + act + " : " + x + ", " + w +
           " -> " + y + "\n  return %y : " + y + "\n}\n";
  std::string fn = s.variant == "bias-gelu" ? "gelu" : "silu";
  return "func.func " + name + "(%x: " + x + ", %w: " + w + ", %b: " + b +
         ") -> " + y +
         " {\n  %y = quilt.fused (%a = %x, %u = %w, %c = %b) : (" + x + ", " +
         w + ", " + b + ") -> " + y +
         " {\n    %l = quilt.linear %a, %u bias %c" + act + " : " + x + ", " +
         w + ", " + b + " -> " + y + "\n    %g = quilt." + fn + " %l : " + y +
         "\n    quilt.yield %g : " + y + "\n  }\n  return %y : " + y + "\n}\n";
}

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

std::string formatDuration(double seconds) {
  int s = int(seconds);
  return str(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + str(s % 60) + "s";
}

} // namespace

llvm::Expected<std::pair<double, unsigned>>
timeEntry(rt::JitModule &jit, llvm::StringRef entry, unsigned maxRepeats) {
  auto sig = jit.getSignature(entry);
  if (!sig)
    return sig.takeError();
  std::vector<rt::HostArray> inputs;
  uint64_t seed = 1;
  for (const rt::ArgumentInfo &arg : sig->arguments)
    inputs.push_back(rt::makeRandomArray(arg.kind, arg.shape, seed++));
  auto inv = jit.prepare(entry, std::move(inputs));
  if (!inv)
    return inv.takeError();
  if (llvm::Error e = (*inv)->run())
    return std::move(e);
  (*inv)->releaseResults();
  std::vector<double> us;
  double total = 0;
  while (us.size() < maxRepeats && (us.size() < 3 || total < 50e3)) {
    auto t0 = std::chrono::steady_clock::now();
    if (llvm::Error e = (*inv)->run())
      return std::move(e);
    auto t1 = std::chrono::steady_clock::now();
    (*inv)->releaseResults();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    total += us.back();
  }
  std::sort(us.begin(), us.end());
  return std::pair{us[us.size() / 2], unsigned(us.size())};
}

int runCollect() {
  unsigned shard = 0, numShards = 1;
  if (sscanf(shardSpec.c_str(), "%u/%u", &shard, &numShards) != 2 ||
      numShards == 0 || shard >= numShards)
    return fail("--shard wants i/n with i < n, got '" + shardSpec + "'");
  std::vector<ModuleSpec> all = sampleSpace();
  std::vector<ModuleSpec> mine;
  for (size_t i = shard; i < all.size(); i += numShards)
    mine.push_back(all[i]);
  if (listOnly) {
    for (const ModuleSpec &s : mine)
      llvm::outs() << s.family << " " << s.format.name << " " << s.variant
                   << " threads=" << s.threads << "\n";
    return 0;
  }
  // Resume: (key, pass) pairs already measured are not run again.
  auto passKey = [](llvm::StringRef key, unsigned pass) {
    return (key + "#" + llvm::Twine(pass)).str();
  };
  llvm::StringSet<> done;
  if (llvm::sys::fs::exists(outPath)) {
    auto existing = readDataset(outPath, /*mergePasses=*/false);
    if (!existing)
      return fail(llvm::toString(existing.takeError()));
    for (const Sample &s : *existing)
      done.insert(passKey(s.key, s.pass));
  }
  if (numPasses < 1)
    return fail("--passes must be at least 1");
  // Pass-major order: a kernel's passes are minutes apart, so a burst of
  // interference does not hit all of them.
  std::vector<std::pair<const ModuleSpec *, unsigned>> todo;
  for (unsigned pass = 0; pass < numPasses; ++pass)
    for (const ModuleSpec &s : mine)
      if (llvm::any_of(s.rows, [&](int64_t m) {
            return !done.contains(passKey(s.keyFor(m), pass));
          }))
        todo.push_back({&s, pass});
  std::error_code ec;
  llvm::raw_fd_ostream out(outPath, ec, llvm::sys::fs::OF_Append);
  if (ec)
    return fail("cannot open " + outPath + ": " + ec.message());
  llvm::errs() << "quilt-tune collect: " << todo.size() << " of "
               << mine.size() * numPasses << " module runs to do (" << numPasses
               << " passes, shard " << shard << "/" << numShards << "), budget "
               << llvm::format("%.0f", budgetMinutes.getValue()) << " min\n";

  DialectRegistry registry;
  rt::registerRuntimeDependencies(registry);
  auto start = std::chrono::steady_clock::now();
  unsigned ran = 0, failed = 0, samples = 0;
  for (auto [spec, pass] : todo) {
    const ModuleSpec &s = *spec;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (elapsed > budgetMinutes * 60) {
      llvm::errs() << "\nbudget reached; run again to resume\n";
      break;
    }
    // Progress bar with ETA from the mean time per module so far.
    double eta = ran ? elapsed / ran * (todo.size() - ran) : 0;
    unsigned width = 30,
             filled = width * ran / std::max<size_t>(todo.size(), 1);
    llvm::errs() << "\r[" << std::string(filled, '#')
                 << std::string(width - filled, '.') << "] " << ran << "/"
                 << todo.size() << " elapsed " << formatDuration(elapsed)
                 << " ETA " << formatDuration(eta) << "   ";
    ++ran;

    MLIRContext context(registry);
    context.disableMultithreading();
    std::string diagnostics;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    std::string text;
    for (int64_t m : s.rows)
      text += entryText(s, m);
    auto module = parseSourceString<ModuleOp>(text, &context);
    if (!module) {
      ++failed;
      llvm::errs() << "\nskipped " << s.keyFor(0) << ": " << diagnostics;
      continue;
    }
    rt::CompileOptions options;
    options.threads = s.threads;
    auto jit = rt::JitModule::compile(*module, options);
    if (!jit) {
      ++failed;
      llvm::errs() << "\nskipped " << s.keyFor(0) << ": "
                   << llvm::toString(jit.takeError()) << "\n";
      continue;
    }
    double load = loadAverage();
    for (int64_t m : s.rows) {
      if (done.contains(passKey(s.keyFor(m), pass)))
        continue;
      auto timed = timeEntry(**jit, "m" + str(m), maxRepeats);
      if (!timed) {
        ++failed;
        llvm::errs() << "\nskipped " << s.keyFor(m) << ": "
                     << llvm::toString(timed.takeError()) << "\n";
        continue;
      }
      Sample sample;
      sample.key = s.keyFor(m);
      sample.category = s.category;
      sample.family = s.family;
      sample.group = s.groupFor(m);
      sample.format = s.format.name;
      sample.threads = s.threads;
      sample.medianUs = timed->first;
      sample.pass = pass;
      sample.mlir = entryText(s, m);
      llvm::json::Object obj = sampleToJson(sample);
      obj["repeats"] = int64_t(timed->second);
      obj["load1"] = load;
      out << llvm::json::Value(std::move(obj)) << "\n";
      ++samples;
    }
    out.flush();
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  llvm::errs() << "\nquilt-tune collect: " << samples << " samples from " << ran
               << " module runs (" << failed << " failures) in "
               << formatDuration(elapsed) << " -> " << outPath << "\n";
  return 0;
}

} // namespace quilt::tune
