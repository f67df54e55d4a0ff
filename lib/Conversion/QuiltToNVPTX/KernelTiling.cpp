//===- KernelTiling.cpp - The tiling of each linear's GPU kernel ----------===//
//
// What the options force, the rest from the per-shape tables of the kernel
// generators; the learned register model then vets the choice. A warp grid
// left to `auto` that the model predicts to spill is replaced by the one
// with fewest warps that it predicts to fit (Triton leaves num_warps to the
// user); a wgmma tile left to `auto`, whose warps follow it, narrows until
// it is predicted to fit; a tiling forced whole that is predicted to spill
// is a warning. With a timing model of the kernel's family and nothing
// forced, the search of TilingSearch.cpp replaces the tables.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "quilt/Dialect/Quilt/QuiltOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::nvptx;
using cost::NVPTXKernelFamily;

cost::NVPTXKernelConfig mlir::quilt::nvptx::describeKernel(
    const KernelTiling &tiling, unsigned sm, const GemmProblem &problem,
    const Int4Layout &layout, const Epilogue &epilogue) {
  cost::NVPTXKernelConfig c;
  c.family = tiling.family;
  c.sm = sm;
  std::tie(c.m, c.n, c.k) = std::tuple(problem.m, problem.n, problem.k);
  if (tiling.family == NVPTXKernelFamily::Int4) {
    const Int4Tiling &t = tiling.int4;
    c.operandBits = 4;
    c.rows = problem.m;
    c.tilesPerWarp = t.tilesPerWarp;
    c.warpsN = t.warpsN;
    c.splitK = t.splitK;
    c.ahead = t.ahead;
    c.blocksPerWarp = t.getBlocksPerWarp(layout);
    // Bulk: the weights' ring, filled by copies like TMA's.
    c.tma = t.bulk;
    c.stages = t.getRingStages(layout);
    // buildInt4MmaKernel's grid: column tiles of the CTAs, 16 rows each.
    c.ctas =
        llvm::divideCeil(layout.paddedN() / 16, t.tilesPerWarp * t.warpsN) *
        llvm::divideCeil(problem.m, 16);
    c.sharedBytes = t.getSharedBytes(layout, problem.m);
  } else {
    const MmaTiling &t = tiling.mma;
    std::tie(c.blockM, c.blockN, c.blockK) =
        std::tuple(t.blockM, t.blockN, t.blockK);
    std::tie(c.warpsM, c.warpsN, c.stages) =
        std::tuple(t.warpsM, t.warpsN, t.stages);
    c.operandBits = 8 * t.elementBytes;
    if (tiling.family == NVPTXKernelFamily::Wgmma)
      c.ahead = t.getSlicesAhead();
    c.tma = t.tma;
    c.mbarrierRelease = t.mbarrierRelease;
    c.producerWarpgroup = t.producerWarpgroup;
    c.persistentCtas = t.persistentCtas;
    c.clusterM = t.clusterM;
    c.consumerRegisters = t.getConsumerRegisters();
    c.ctas = getGridCtas(problem, t);
    c.sharedBytes = tiling.family == NVPTXKernelFamily::Sparse24
                        ? getSparseSharedBytes(t)
                        : t.getSharedBytes();
  }
  c.bias = bool(epilogue.biasType);
  c.residual = epilogue.residual;
  c.activation = int64_t(epilogue.activation);
  c.outputBits = epilogue.outputType.getIntOrFloatBitWidth();
  return c;
}

/// Why a 2:4 tiling does not fit mma.sp's 64-deep tiles, or "".
static std::string verifySparse(const MmaTiling &t) {
  if (t.blockK != 64 || (t.blockM / t.warpsM) % 8 || (t.blockN / t.warpsN) % 16)
    return "2:4 tiles are MxNx64 with warp tiles of a multiple of 8 rows and "
           "16 columns";
  return "";
}

// The first warp grid that fits and does not spill keeps the most reuse
// per warp.
SmallVector<std::pair<int64_t, int64_t>>
mlir::quilt::nvptx::getWarpGridCandidates(const MmaTiling &t) {
  SmallVector<std::pair<int64_t, int64_t>> grids;
  for (int64_t wm : {1, 2, 4, 8})
    for (int64_t wn : {1, 2, 4, 8})
      if (wm * wn <= 8)
        grids.push_back({wm, wn});
  auto skew = [&](std::pair<int64_t, int64_t> g) {
    double ratio = double(t.blockM * g.second) / double(t.blockN * g.first);
    return std::abs(std::log2(ratio));
  };
  // Ties (2x4 and 4x2 on a square tile) keep the lower warpsM first.
  llvm::sort(grids, [&](auto a, auto b) {
    return std::tuple(a.first * a.second, skew(a), a.first) <
           std::tuple(b.first * b.second, skew(b), b.first);
  });
  return grids;
}

void mlir::quilt::nvptx::applyWgmmaForm(MmaTiling &t,
                                        const TilingRequest &request) {
  t.wgmmaInFlight = request.wgmmaInFlight;
  t.tma = request.tma;
  t.mbarrierRelease = request.mbarrierRelease;
  t.producerWarpgroup = request.producerWarpgroup;
  t.persistentCtas = request.persistentCtas;
  t.clusterM = request.cluster;
  t.rebalanceRegisters = request.rebalanceRegisters;
}

bool mlir::quilt::nvptx::isValidMmaTiling(const MmaTiling &t, bool sparse24) {
  return t.verify().empty() && (!sparse24 || verifySparse(t).empty());
}

/// Gives `t` the valid warp grid whose warp count is nearest its own (fewer
/// on a tie); leaves it unchanged if none is valid.
static void fitWarpGrid(MmaTiling &t, bool sparse24) {
  int64_t want = t.warpsM * t.warpsN;
  std::optional<MmaTiling> best;
  for (auto [wm, wn] : getWarpGridCandidates(t)) {
    MmaTiling candidate = t;
    std::tie(candidate.warpsM, candidate.warpsN) = std::pair(wm, wn);
    auto distance = [&](const MmaTiling &c) {
      return std::abs(std::log2(double(c.warpsM * c.warpsN) / double(want)));
    };
    if (isValidMmaTiling(candidate, sparse24) &&
        (!best || distance(candidate) < distance(*best)))
      best = candidate;
  }
  if (best)
    t = *best;
}

FailureOr<KernelTiling> mlir::quilt::nvptx::chooseKernelTiling(
    LinearOp linear, const GemmProblem &problem, const Int4Layout &layout,
    NVPTXKernelFamily family, const Epilogue &epilogue,
    const TilingRequest &request) {
  KernelTiling k;
  k.family = family;
  bool int4 = family == NVPTXKernelFamily::Int4;
  bool sparse24 = family == NVPTXKernelFamily::Sparse24;
  bool wgmma = family == NVPTXKernelFamily::Wgmma;
  const auto &tiles = request.tiles;
  const auto &warps = request.warps;
  if (request.timing && request.timing->knows(family) && !tiles && !warps &&
      !request.stages)
    if (std::optional<KernelTiling> timed =
            chooseTimedTiling(problem, layout, family, epilogue, request))
      return *timed;
  std::string why;
  if (int4) {
    // int4 reads the options as: tiles 16xNx64 (N columns per CTA), warps
    // WxS (W warps side by side in N, S splitting K), stages (K blocks
    // whose loads are in flight).
    Int4Tiling &t = k.int4;
    t = chooseInt4Tiling(problem.m, layout,
                         cost::getTypicalGpuPeaks(request.sm).multiprocessors);
    if (warps)
      std::tie(t.warpsN, t.splitK) = std::pair((*warps)[0], (*warps)[1]);
    if (tiles)
      t.tilesPerWarp = (*tiles)[1] / 16 / t.warpsN;
    t.bulk = request.int4Bulk;
    if (request.stages)
      (t.bulk ? t.ringStages : t.ahead) = request.stages;
    why = t.verify(layout, problem.m);
    if (why.empty() && tiles &&
        ((*tiles)[0] != 16 || (*tiles)[2] != 64 ||
         (*tiles)[1] % (16 * t.warpsN)))
      why = "int4 tiles are 16xNx64 with N a multiple of 16 x the warps "
            "side by side";
    if (!why.empty())
      return linear.emitError()
             << "NVPTX backend: int4 tiling of " << t.tilesPerWarp
             << " tiles x " << t.warpsN << "x" << t.splitK << " warps, "
             << t.ahead << " blocks ahead: " << why;
  } else {
    MmaTiling &t = k.mma;
    t = wgmma ? chooseWgmmaTiling(problem) : chooseDenseTiling(problem);
    if (tiles)
      std::tie(t.blockM, t.blockN, t.blockK) =
          std::tuple((*tiles)[0], (*tiles)[1], (*tiles)[2]);
    if (warps)
      std::tie(t.warpsM, t.warpsN) = std::pair((*warps)[0], (*warps)[1]);
    // mma.sp takes 32 K per instruction: 2:4 tiles are 64 deep.
    if (sparse24 && !tiles)
      t.blockK = 64;
    if (request.stages)
      t.stages = request.stages;
    if (wgmma)
      applyWgmmaForm(t, request);
    // A forced tile may not suit the default warp grid (16 int8 rows do not
    // split over 4 warps' cp.async chunks): then the grid closest to it in
    // warps that does.
    if (tiles && !warps && !wgmma && !isValidMmaTiling(t, sparse24))
      fitWarpGrid(t, sparse24);
    if (sparse24 && !(why = verifySparse(t)).empty())
      return linear.emitError() << "NVPTX backend: " << why;
    // A wgmma CTA has one warpgroup per 64 rows: warps follow the tile.
    if (wgmma && !warps)
      std::tie(t.warpsM, t.warpsN) =
          std::pair(4 * std::max<int64_t>(1, t.blockM / 64), int64_t(1));
    if (wgmma && !(why = verifyWgmmaTiling(t)).empty())
      return linear.emitError()
             << "NVPTX backend: wgmma tiling " << t.blockM << "x" << t.blockN
             << "x" << t.blockK << " with " << t.warpsM << "x" << t.warpsN
             << " warps: " << why;
    if (!(why = t.verify()).empty())
      return linear.emitError()
             << "NVPTX backend: tiling " << t.blockM << "x" << t.blockN << "x"
             << t.blockK << " with " << t.warpsM << "x" << t.warpsN
             << " warps: " << why;
  }
  if (!request.registers)
    return k;

  auto estimate = [&](const KernelTiling &candidate) {
    return request.registers->estimate(
        describeKernel(candidate, request.sm, problem, layout, epilogue));
  };
  k.registers = estimate(k);
  if (!k.registers->spills)
    return k;
  // A wgmma CTA's warps follow its tile: what can change is the tile.
  if (wgmma ? bool(tiles) : bool(warps)) {
    linear.emitWarning() << "NVPTX backend: the register model predicts "
                         << llvm::formatv("{0:F0}", k.registers->demand)
                         << " registers per thread for this tiling, over the "
                         << k.registers->cap
                         << " a thread can have: it will spill ("
                         << (wgmma ? "tiles=auto narrows the tile until it fits"
                                   : "warps=auto picks a warp grid that fits")
                         << ")";
    return k;
  }
  // The warp grid (wgmma: the tile's width) was ours to pick: the fewest
  // warps (the widest tile) predicted to fit.
  SmallVector<KernelTiling> candidates;
  if (int4) {
    for (int64_t s : {1, 2, 4, 8, 16}) {
      candidates.push_back(k);
      candidates.back().int4.splitK = s;
    }
  } else if (wgmma) {
    for (int64_t n : {192, 128, 96, 64, 32}) {
      if (n >= k.mma.blockN)
        continue;
      candidates.push_back(k);
      candidates.back().mma.blockN = n;
    }
  } else {
    for (auto [wm, wn] : getWarpGridCandidates(k.mma)) {
      candidates.push_back(k);
      std::tie(candidates.back().mma.warpsM, candidates.back().mma.warpsN) =
          std::pair(wm, wn);
    }
  }
  for (KernelTiling &candidate : candidates) {
    bool valid = int4    ? candidate.int4.verify(layout, problem.m).empty()
                 : wgmma ? verifyWgmmaTiling(candidate.mma).empty()
                         : isValidMmaTiling(candidate.mma, sparse24);
    if (!valid)
      continue;
    candidate.registers = estimate(candidate);
    if (!candidate.registers->spills)
      return candidate;
  }
  return k;
}
