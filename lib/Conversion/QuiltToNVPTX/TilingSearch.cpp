//===- TilingSearch.cpp - Tilings ranked by the GPU timing model ----------===//
//
// With a timing model, `auto` is a search rather than a table: every tile
// and pipeline depth of the kernel family that the generators accept
// (the space bench/gpu/make_grid.py times for the model) is described to
// the register model, which drops those predicted to spill and gives the
// rest their registers, and to the timing model, whose fastest prediction
// wins. Only knob values the model has timings of are asked about: trees
// extrapolate flat, and a tie with an untimed tile is no evidence for it. The
// kernel form (wgmma's TMA, release and producer options, int4's load path)
// stays the request's: the search picks within it.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::nvptx;
using cost::NVPTXKernelFamily;

namespace {

/// Tile heights worth trying for `m` rows: none taller than the problem
/// rounded to `unit`, except the smallest.
SmallVector<int64_t> getTileHeights(int64_t m, ArrayRef<int64_t> heights,
                                    int64_t unit) {
  SmallVector<int64_t> out;
  int64_t limit = std::max(llvm::alignTo(m, unit), uint64_t(heights.front()));
  for (int64_t h : heights)
    if (h <= limit)
      out.push_back(h);
  return out;
}

/// int4: tiles per warp x warps side by side x K split x blocks of loads
/// ahead (bulk: of x and the scales; the ring as deep as fits).
SmallVector<KernelTiling> getInt4Candidates(const GemmProblem &p,
                                            const Int4Layout &layout,
                                            const TilingRequest &request) {
  SmallVector<KernelTiling> out;
  for (int64_t tiles : {1, 2, 4})
    for (int64_t side : {1, 3, 4, 6})
      for (int64_t split : {1, 2, 4, 8, 16})
        for (int64_t ahead : {2, 4, 8}) {
          KernelTiling k;
          k.family = NVPTXKernelFamily::Int4;
          Int4Tiling &t = k.int4;
          std::tie(t.tilesPerWarp, t.warpsN, t.splitK, t.ahead) =
              std::tuple(tiles, side, split, ahead);
          t.bulk = request.int4Bulk;
          t.ringStages = 0;
          if (t.getWarps() <= 32 && t.verify(layout, p.m).empty())
            out.push_back(k);
        }
  return out;
}

/// wgmma: 64-deep slices, one warpgroup per 64 rows, the request's form.
SmallVector<KernelTiling> getWgmmaCandidates(const GemmProblem &p,
                                             const TilingRequest &request) {
  SmallVector<KernelTiling> out;
  for (int64_t bm : getTileHeights(p.m, {64, 128, 256}, 64))
    for (int64_t bn : {64, 128, 256})
      for (int64_t stages : {2, 3, 4, 5}) {
        KernelTiling k;
        k.family = NVPTXKernelFamily::Wgmma;
        MmaTiling &t = k.mma;
        t = chooseWgmmaTiling(p);
        std::tie(t.blockM, t.blockN, t.blockK, t.stages) =
            std::tuple(bm, bn, int64_t(64), stages);
        std::tie(t.warpsM, t.warpsN) = std::pair(4 * bm / 64, int64_t(1));
        applyWgmmaForm(t, request);
        if (verifyWgmmaTiling(t).empty() && t.verify().empty())
          out.push_back(k);
      }
  return out;
}

/// mma.sync (dense, int8) and mma.sp (2:4): tiles and depths, each with
/// the fewest warps that the kernel accepts and that are predicted to fit.
SmallVector<KernelTiling> getMmaSyncCandidates(const GemmProblem &p,
                                               const Int4Layout &layout,
                                               NVPTXKernelFamily family,
                                               const Epilogue &epilogue,
                                               const TilingRequest &request) {
  bool sparse24 = family == NVPTXKernelFamily::Sparse24;
  bool int8 = family == NVPTXKernelFamily::Int8;
  SmallVector<int64_t> depths = sparse24 ? SmallVector<int64_t>{64}
                                : int8   ? SmallVector<int64_t>{64, 128}
                                         : SmallVector<int64_t>{32, 64};
  SmallVector<int64_t> widths = sparse24 ? SmallVector<int64_t>{128, 256}
                                         : SmallVector<int64_t>{64, 128, 256};
  SmallVector<int64_t> stages = sparse24 || int8
                                    ? SmallVector<int64_t>{3, 4}
                                    : SmallVector<int64_t>{3, 4, 5};
  SmallVector<KernelTiling> out;
  for (int64_t bm : getTileHeights(p.m, {16, 32, 64, 128, 256}, 16))
    for (int64_t bn : widths)
      for (int64_t bk : depths)
        for (int64_t s : stages) {
          // At most 8 warps: 256x256 would hold 256 sums per thread.
          if (bm * bn > 256 * 128)
            continue;
          KernelTiling k;
          k.family = family;
          k.mma = chooseDenseTiling(p);
          std::tie(k.mma.blockM, k.mma.blockN, k.mma.blockK, k.mma.stages) =
              std::tuple(bm, bn, bk, s);
          for (auto [wm, wn] : getWarpGridCandidates(k.mma)) {
            KernelTiling c = k;
            std::tie(c.mma.warpsM, c.mma.warpsN) = std::pair(wm, wn);
            if (!isValidMmaTiling(c.mma, sparse24))
              continue;
            if (request.registers) {
              c.registers = request.registers->estimate(
                  describeKernel(c, request.sm, p, layout, epilogue));
              if (c.registers->spills)
                continue;
            }
            out.push_back(c);
            break;
          }
        }
  return out;
}

} // namespace

std::optional<KernelTiling> mlir::quilt::nvptx::chooseTimedTiling(
    const GemmProblem &problem, const Int4Layout &layout,
    NVPTXKernelFamily family, const Epilogue &epilogue,
    const TilingRequest &request) {
  SmallVector<KernelTiling> candidates =
      family == NVPTXKernelFamily::Int4
          ? getInt4Candidates(problem, layout, request)
      : family == NVPTXKernelFamily::Wgmma
          ? getWgmmaCandidates(problem, request)
          : getMmaSyncCandidates(problem, layout, family, epilogue, request);
  std::optional<KernelTiling> best;
  for (KernelTiling &candidate : candidates) {
    cost::NVPTXTimingQuery query;
    query.config =
        describeKernel(candidate, request.sm, problem, layout, epilogue);
    // No prediction outside the tilings the model has timings of.
    if (!request.timing->covers(query.config))
      continue;
    // W8A8 times its quantizer of x with the GEMM.
    query.extraLaunches = query.config.operandBits == 8;
    // mma.sync candidates come with the estimate that chose their warps.
    if (request.registers && !candidate.registers)
      candidate.registers = request.registers->estimate(query.config);
    if (candidate.registers) {
      if (candidate.registers->spills)
        continue;
      query.registers = candidate.registers->registers;
    }
    candidate.predictedMicroseconds =
        request.timing->predictMicroseconds(query);
    if (!best ||
        *candidate.predictedMicroseconds < *best->predictedMicroseconds)
      best = candidate;
  }
  return best;
}
