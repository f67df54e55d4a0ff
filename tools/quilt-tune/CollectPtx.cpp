//===- CollectPtx.cpp - quilt-tune collect-ptx: registers of NVPTX kernels ===//
//
// This file implements `quilt-tune collect-ptx`: it compiles one linear per
// kernel family (dense, 2:4, int4, int8), chip and tiling of a grid through
// quilt-nvptx-pipeline, assembles the PTX with `ptxas -v` (no GPU needed)
// and writes one JSONL line per kernel: the tiling and epilogue the
// manifest records, and the registers, stack frame and spills ptxas
// reports. The register model is fitted to these lines.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "quilt/CostModel/RegisterModel.h"
#include "quilt/InitAllDialects.h"
#include "quilt/Pipelines/Pipelines.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"

namespace cl = llvm::cl;
using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getCollectPtxCommand() {
  static cl::SubCommand command(
      "collect-ptx", "Record ptxas -v's registers and spills of NVPTX kernels "
                     "over a grid of tilings (no GPU needed)");
  return command;
}

static cl::opt<std::string> outPath("o", cl::desc("JSONL dataset to write"),
                                    cl::Required,
                                    cl::sub(getCollectPtxCommand()));
static cl::list<std::string>
    chips("chips", cl::desc("Chips to compile for"), cl::CommaSeparated,
          cl::list_init<std::string>({"sm_80", "sm_90a"}),
          cl::sub(getCollectPtxCommand()));
static cl::opt<std::string>
    ptxasPath("ptxas",
              cl::desc("ptxas to run (default: on PATH or /usr/local/cuda)"),
              cl::sub(getCollectPtxCommand()));
static cl::opt<unsigned> maxKernels(
    "max-kernels",
    cl::desc("Compile only this many kernels, spread evenly over the grid "
             "(0: all)"),
    cl::init(0), cl::sub(getCollectPtxCommand()));
static cl::list<std::string> families(
    "families",
    cl::desc("Kernel families to compile (dense, sparse24, int4, int8, "
             "wgmma, int4-bulk; default: all). The grid keeps its order, so "
             "datasets "
             "of disjoint families concatenate into the whole grid's"),
    cl::CommaSeparated, cl::sub(getCollectPtxCommand()));
static cl::opt<unsigned> jobs("j",
                              cl::desc("Kernels compiled at once (0: one per "
                                       "core)"),
                              cl::init(0), cl::sub(getCollectPtxCommand()));

namespace {

/// One kernel to compile: the pipeline's tiling options and the IR.
struct PtxJob {
  std::string family, chip, tiles, warps, ir;
  unsigned stages = 0;
  /// wgmma only: batches left in flight, TMA loads, mbarrier release and a
  /// producer warpgroup.
  unsigned inFlight = 0;
  bool tma = false, mbarrierRelease = false, producer = false;
};

/// The epilogues of the grid, from none to the heaviest.
struct EpilogueKind {
  bool bias, residual;
  const char *activation; // quilt op name, or nullptr
};
constexpr EpilogueKind kEpilogues[] = {{false, false, nullptr},
                                       {true, false, nullptr},
                                       {true, false, "silu"},
                                       {true, true, "gelu"}};

/// A function of one linear (x: M x K of `xType`, weight `weight`, `act`
/// rounding if not empty) with `epilogue` behind it.
std::string makeLinear(int64_t m, int64_t k, int64_t n, StringRef xType,
                       StringRef weight, const EpilogueKind &epilogue,
                       StringRef act = "") {
  std::string y = llvm::formatv("tensor<{0}x{1}x{2}>", m, n, xType).str();
  std::string w = llvm::formatv("!quilt.packed<{0}x{1}, {2}>", k, n, weight);
  std::string ir;
  llvm::raw_string_ostream os(ir);
  os << "func.func @lin(%x: tensor<" << m << "x" << k << "x" << xType
     << ">, %w: " << w;
  if (epilogue.bias)
    os << ", %b: tensor<" << n << "xf32>";
  if (epilogue.residual)
    os << ", %r: " << y;
  os << ") -> " << y << " {\n  %y = quilt.linear %x, %w"
     << (epilogue.bias ? " bias %b" : "")
     << (act.empty() ? "" : (" act " + act).str()) << " : tensor<" << m << "x"
     << k << "x" << xType << ">, " << w
     << (epilogue.bias ? llvm::formatv(", tensor<{0}xf32>", n).str() : "")
     << " -> " << y << "\n";
  std::string last = "%y";
  if (epilogue.activation) {
    os << "  %a = quilt." << epilogue.activation << " " << last << " : " << y
       << "\n";
    last = "%a";
  }
  if (epilogue.residual) {
    os << "  %s = quilt.add " << last << ", %r : " << y << "\n";
    last = "%s";
  }
  os << "  return " << last << " : " << y << "\n}\n";
  return ir;
}

/// The grid: every CTA tile and warp grid of at most 8 warps for the dense,
/// 2:4 and int8 kernels, every split of the int4 one (with direct or bulk
/// loads), every wgmma tile and way of loading it; stages, the type of x and
/// the epilogue rotate along the grid so each value meets many tilings.
/// Families added later (int8, then wgmma) come last, after every chip's
/// others, so that the earlier kernels keep the rotation they were collected
/// with.
std::vector<PtxJob> makeGrid() {
  std::vector<PtxJob> grid;
  unsigned turn = 0;
  for (const std::string &chip : chips) {
    for (bool sparse : {false, true}) {
      for (int64_t bm : {16, 32, 64, 128, 256})
        for (int64_t bn : {32, 64, 128, 256})
          for (int64_t bk : {32, 64})
            for (int64_t wm : {1, 2, 4, 8})
              for (int64_t wn : {1, 2, 4, 8}) {
                if (wm * wn > 8 || bm % (16 * wm) || bn % (16 * wn) ||
                    (sparse && bk != 64))
                  continue;
                const EpilogueKind &e = kEpilogues[turn % 4];
                StringRef type = turn % 2 ? "f16" : "bf16";
                std::string weight = ("precision<" + type + ">" +
                                      (sparse ? ", sparsity<nm<2, 4>>" : ""))
                                         .str();
                PtxJob job{sparse ? "sparse24" : "dense",
                           chip,
                           llvm::formatv("{0}x{1}x{2}", bm, bn, bk),
                           llvm::formatv("{0}x{1}", wm, wn),
                           makeLinear(256, 512, 512, type, weight, e),
                           unsigned(2 + turn % 3)};
                grid.push_back(std::move(job));
                ++turn;
              }
    }
    // int4 unrolls each warp's K blocks: K rotates so that the blocks per
    // warp span 1-64. Warps side by side in N only change the cap.
    for (int64_t rows : {1, 4, 8, 16})
      for (int64_t tilesPerWarp : {1, 2, 4, 8})
        for (int64_t splitK : {1, 2, 4, 8, 16})
          for (int64_t warpsN : {1, 3, 8}) {
            const EpilogueKind &e = kEpilogues[turn % 4];
            int64_t k = int64_t(1024) << (turn % 3);
            PtxJob job{"int4",
                       chip,
                       llvm::formatv("16x{0}x64", 16 * tilesPerWarp * warpsN),
                       llvm::formatv("{0}x{1}", warpsN, splitK),
                       makeLinear(rows, k, 2048, "f16",
                                  "precision<i4, group<128>>", e),
                       unsigned(1 << (turn % 4))};
            grid.push_back(std::move(job));
            ++turn;
          }
  }
  // int8 (W8A8): the dense kernel's grid with K slices twice as deep in
  // values (the same bytes).
  turn = 0;
  for (const std::string &chip : chips)
    for (int64_t bm : {16, 32, 64, 128, 256})
      for (int64_t bn : {32, 64, 128, 256})
        for (int64_t bk : {64, 128})
          for (int64_t wm : {1, 2, 4, 8})
            for (int64_t wn : {1, 2, 4, 8}) {
              if (wm * wn > 8 || bm % (16 * wm) || bn % (16 * wn))
                continue;
              const EpilogueKind &e = kEpilogues[turn % 4];
              const char *types[] = {"bf16", "f16", "f32"};
              PtxJob job{"int8",
                         chip,
                         llvm::formatv("{0}x{1}x{2}", bm, bn, bk),
                         llvm::formatv("{0}x{1}", wm, wn),
                         makeLinear(256, 512, 512, types[(turn / 4) % 3],
                                    "precision<i8, channel>", e,
                                    "<i8, channel>"),
                         unsigned(2 + turn % 3)};
              grid.push_back(std::move(job));
              ++turn;
            }
  // wgmma (sm_90a): every tile of 64-256 rows, its 128-byte slices filled
  // by cp.async or TMA (then freed by a CTA barrier or mbarriers, the
  // loads issued by the consumers or a producer warpgroup); batches in
  // flight, operand type (bf16, f16, int8) and epilogue rotate.
  turn = 0;
  if (llvm::is_contained(chips, "sm_90a"))
    for (int64_t bm : {64, 128, 192, 256})
      for (int64_t bn : {32, 64, 128, 192, 256})
        for (unsigned stages : {2, 3, 4, 5})
          for (int loads = 0; loads < 4; ++loads) {
            const EpilogueKind &e = kEpilogues[turn % 4];
            unsigned inFlight = (turn / 4) % 2;
            bool int8 = turn % 3 == 2;
            StringRef type = turn % 3 == 1 ? "f16" : "bf16";
            PtxJob job{"wgmma",
                       "sm_90a",
                       llvm::formatv("{0}x{1}x{2}", bm, bn, int8 ? 128 : 64),
                       llvm::formatv("{0}x1", 4 * bm / 64),
                       int8 ? makeLinear(256, 512, 512, type,
                                         "precision<i8, channel>", e,
                                         "<i8, channel>")
                            : makeLinear(256, 512, 512, type,
                                         ("precision<" + type + ">").str(), e),
                       stages,
                       inFlight,
                       loads > 0,
                       loads > 1,
                       loads > 2};
            grid.push_back(std::move(job));
            ++turn;
          }
  // int4 with its weights streamed by cp.async.bulk (sm_90,
  // int4-load=bulk, "tma" in the record): the int4 grid with six warps
  // side by side instead of eight (8 x 16 warps of rings exceed the shared
  // memory more often than not); the ring's depth rotates between as deep
  // as fits and 2 or 4 stages.
  turn = 0;
  if (llvm::is_contained(chips, "sm_90a"))
    for (int64_t rows : {1, 4, 8, 16})
      for (int64_t tilesPerWarp : {1, 2, 4})
        for (int64_t splitK : {1, 2, 4, 8, 16})
          for (int64_t warpsN : {1, 3, 6}) {
            const EpilogueKind &e = kEpilogues[turn % 4];
            int64_t k = int64_t(1024) << (turn % 3);
            PtxJob job{"int4-bulk",
                       "sm_90a",
                       llvm::formatv("16x{0}x64", 16 * tilesPerWarp * warpsN),
                       llvm::formatv("{0}x{1}", warpsN, splitK),
                       makeLinear(rows, k, 2048, "f16",
                                  "precision<i4, group<128>>", e),
                       unsigned((turn / 4) % 3 * 2)};
            grid.push_back(std::move(job));
            ++turn;
          }
  if (!families.empty())
    llvm::erase_if(grid, [](const PtxJob &job) {
      return !llvm::is_contained(families, job.family);
    });
  return grid;
}

/// Compiles `job` into `dir` with ptxas; returns the manifest's GEMM
/// launch, or nothing when the tiling is invalid for the kernel family.
std::optional<llvm::json::Object> compile(const DialectRegistry &registry,
                                          const PtxJob &job, StringRef dir,
                                          StringRef ptxas) {
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  // Invalid tilings are expected on a grid: keep their errors quiet.
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(job.ir, ParserConfig(&context));
  if (!module)
    return std::nullopt;
  PassManager pm(&context);
  mlir::quilt::NVPTXPipelineOptions options;
  options.chip = job.chip;
  options.tiles = job.tiles;
  options.warps = job.warps;
  options.stages = job.stages;
  if (job.family == "wgmma") {
    options.mma = "wgmma";
    options.wgmmaInFlight = job.inFlight;
    options.tma = job.tma;
    options.tmaRelease = job.mbarrierRelease ? "mbarrier" : "barrier";
    options.tmaProducer = job.producer ? "warpgroup" : "thread";
  }
  if (job.family == "int4-bulk")
    options.int4Load = "bulk";
  options.outputDir = dir.str();
  options.ptxas = ptxas.str();
  options.registerModel = "none";
  mlir::quilt::populateNVPTXPipeline(pm, options);
  if (failed(pm.run(*module)))
    return std::nullopt;
  auto text = llvm::MemoryBuffer::getFile((dir + "/lin.json").str());
  if (!text)
    return std::nullopt;
  auto manifest = llvm::json::parse((*text)->getBuffer());
  if (!manifest) {
    llvm::consumeError(manifest.takeError());
    return std::nullopt;
  }
  const llvm::json::Array *launches =
      manifest->getAsObject() ? manifest->getAsObject()->getArray("launches")
                              : nullptr;
  for (const llvm::json::Value &launch :
       launches ? *launches : llvm::json::Array())
    if (const llvm::json::Object *o = launch.getAsObject())
      if (o->get("config") && o->get("registers"))
        return *o;
  return std::nullopt;
}

} // namespace

int runCollectPtx() {
  std::string ptxas = ptxasPath.empty() ? findPtxas() : ptxasPath.getValue();
  if (ptxas.empty())
    return fail("no ptxas on PATH or in /usr/local/cuda/bin (give --ptxas)");
  auto version = getPtxasVersion(ptxas);
  if (!version)
    return fail(llvm::toString(version.takeError()));

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  mlir::quilt::registerAllDialects(registry);

  std::vector<PtxJob> grid = makeGrid();
  if (maxKernels && maxKernels < grid.size()) {
    std::vector<PtxJob> spread;
    for (size_t i = 0; i < maxKernels; ++i)
      spread.push_back(grid[i * grid.size() / maxKernels]);
    grid = std::move(spread);
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(outPath, ec);
  if (ec)
    return fail("cannot write " + outPath + ": " + ec.message());
  // Written in grid order once all are done, so a rerun gives the same file.
  std::vector<std::optional<llvm::json::Object>> launches(grid.size());
  llvm::DefaultThreadPool pool(jobs ? llvm::hardware_concurrency(jobs)
                                    : llvm::hardware_concurrency());
  for (size_t i = 0; i < grid.size(); ++i)
    pool.async([&, i] {
      llvm::SmallString<128> dir;
      if (llvm::sys::fs::createUniqueDirectory("quilt-ptx", dir))
        return;
      launches[i] = compile(registry, grid[i], dir, ptxas);
      llvm::sys::fs::remove_directories(dir);
    });
  pool.wait();
  unsigned written = 0, invalid = 0;
  for (auto [job, launch] : llvm::zip(grid, launches)) {
    if (!launch) {
      ++invalid;
      continue;
    }
    llvm::json::Object line{{"chip", job.chip}, {"ptxas", *version}};
    for (StringRef key : {"config", "registers", "stack_bytes",
                          "spill_store_bytes", "spill_load_bytes"})
      line[key] = *launch->get(key);
    out << llvm::json::Value(std::move(line)) << "\n";
    ++written;
  }
  llvm::outs() << "quilt-tune collect-ptx: " << written << " kernels ("
               << invalid << " tilings of the grid invalid for their kernel) "
               << "with ptxas " << *version << " -> " << outPath << "\n";
  return written ? 0 : fail("no kernel compiled");
}

} // namespace quilt::tune
