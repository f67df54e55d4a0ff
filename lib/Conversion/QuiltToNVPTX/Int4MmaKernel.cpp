//===- Int4MmaKernel.cpp - Tensor-core GEMM for int4 weights ----*- C++ -*-===//
//
// Weight-only int4 with group scales for few activation rows, the decode
// case that is bound by weight bytes (Marlin's problem). The product is
// computed transposed, y^T = W^T x^T, so the weight is the mma A operand
// and 16 output columns fill the 16 mma rows even when M = 1.
//
// Every warp streams its tiles' 512-byte K blocks (layout in
// Int4PackKernels.cpp) with one coalesced 16-byte load per lane and tile,
// and issues the loads of a block (weights, group scales, x) `ahead`
// blocks before its use, so no load waits on an earlier use. Warps side
// by side in N read the same x through L1: at 16 rows x is 4 bytes per
// weight byte of a 16-column tile, so narrow CTAs would load x from L2
// several times over the weights' own traffic. With groups
// of whole blocks, q * x is summed per group in f32 and scaled once.
// (A cp.async ring through shared memory measured slower on an H100: the
// extra shared-memory round trip costs more than the deeper queue wins.
// `int4-load=bulk` tries the ring again with cp.async.bulk, one copy per
// tile and stage issued by one lane, so the queue costs no instructions
// per lane: WeightRing below.)
// Nibbles become f16 in registers: or 0x6400 (1024 + q), subtract 1032,
// multiply by the scale.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <optional>

using namespace mlir;
using namespace mlir::quilt::nvptx;

namespace {

/// The loads of one K block of a warp: per tile a vector<4xi32> of
/// nibbles, per 8-row half two vector<4xi32> of x, and per tile the i32
/// scale pair where the block starts a group.
struct Int4Block {
  SmallVector<Value> weights, x, scales;
};

/// Bulk (see Int4Tiling): one warp's weights through its ring of shared
/// memory. Lane 0 copies stage u (getStageBlocks() blocks of every tile)
/// into slot u % ring, whose mbarrier completes phase u / ring when the
/// bytes land; the whole schedule is static.
class WeightRing {
public:
  /// `tileStarts`: global pointers to the warp's first block of each tile;
  /// `shared`: the CTA's rings, then their barriers.
  WeightRing(PtxBuilder &ptx, const Int4Tiling &tiling,
             const Int4Layout &layout, Value shared, Value warp, Value lane,
             ArrayRef<Value> tileStarts)
      : ptx(ptx), tileStarts(tileStarts), lane(lane),
        kTiles(tiling.tilesPerWarp), blocks(tiling.getBlocksPerWarp(layout)),
        stageBlocks(tiling.getStageBlocks(layout)),
        stages(tiling.getStages(layout)), ring(tiling.getRingStages(layout)) {
    int64_t ringBytes = tiling.getRingBytes(layout);
    slots = ptx.offset(shared, ptx.byteOffset(warp, ringBytes));
    Value barriers =
        ptx.offset(shared, arith::ConstantIntOp::create(
                               ptx.b, ptx.i64, tiling.getWarps() * ringBytes));
    bars = ptx.offset(barriers, ptx.byteOffset(warp, ring * 8));
    leader = ptx.ult(lane, 1);
  }

  /// Initializes the barriers and issues the stages the ring holds.
  void start() {
    ptx.ifThen(leader, [&] {
      for (int64_t s = 0; s < ring; ++s)
        ptx.initBarrier(barrier(s), 1);
      ptx.fenceBarrierInit();
      for (int64_t s = 0; s < ring; ++s)
        issue(s);
    });
    // No lane waits on a barrier before lane 0 has initialized it.
    ptx.syncWarp();
  }

  /// This lane's 16 bytes of block `i` of every tile; the first block of a
  /// stage waits for it.
  SmallVector<Value> load(int64_t i) {
    int64_t stage = i / stageBlocks;
    if (i % stageBlocks == 0)
      ptx.waitBarrier(barrier(stage), ptx.c32((stage / ring) % 2));
    Type quad = VectorType::get({4}, ptx.i32);
    SmallVector<Value> words;
    for (int64_t ti = 0; ti < kTiles; ++ti) {
      int64_t bytes = ((stage % ring) * kTiles + ti) * stageBlocks * 512 +
                      (i % stageBlocks) * 512;
      Value at = ptx.offset(slots, ptx.add(ptx.mul(lane, 16), ptx.c32(bytes)));
      words.push_back(ptx.load(quad, at, 16));
    }
    return words;
  }

  /// After the last use of block `i`: when it ends a stage, the stage's
  /// slot takes the stage `ring` later.
  void release(int64_t i) {
    int64_t stage = i / stageBlocks;
    bool ends = (i + 1) % stageBlocks == 0 || i + 1 == blocks;
    if (!ends || stage + ring >= stages)
      return;
    // Every lane's reads of the slot come before lane 0's refill.
    ptx.syncWarp();
    ptx.ifThen(leader, [&] { issue(stage + ring); });
  }

private:
  Value barrier(int64_t stage) {
    return ptx.offset(
        bars, arith::ConstantIntOp::create(ptx.b, ptx.i64, (stage % ring) * 8));
  }

  void issue(int64_t stage) {
    int64_t first = stage * stageBlocks;
    int64_t count = std::min(stageBlocks, blocks - first);
    ptx.arriveExpectBytes(barrier(stage), kTiles * count * 512);
    for (int64_t ti = 0; ti < kTiles; ++ti) {
      int64_t bytes = ((stage % ring) * kTiles + ti) * stageBlocks * 512;
      ptx.copyBulk(
          ptx.offset(slots,
                     arith::ConstantIntOp::create(ptx.b, ptx.i64, bytes)),
          ptx.offset(tileStarts[ti],
                     arith::ConstantIntOp::create(ptx.b, ptx.i64, first * 512)),
          count * 512, barrier(stage));
    }
  }

  PtxBuilder &ptx;
  SmallVector<Value> tileStarts;
  Value lane, leader, slots, bars;
  int64_t kTiles, blocks, stageBlocks, stages, ring;
};

Value halfSplat(PtxBuilder &ptx, double value) {
  return arith::ConstantOp::create(
      ptx.b, DenseElementsAttr::get(
                 VectorType::get({2}, ptx.b.getF16Type()),
                 APFloat(APFloat::IEEEhalf(), std::to_string(value))));
}

} // namespace

/// The shared memory a CTA may have on sm_80 and sm_90 (227 KiB).
constexpr int64_t kMaxSharedBytes = 227 * 1024;
/// Bulk: K blocks per stage, 2 KiB of nibbles per tile; a warp's first
/// stage arrives after one copy of that size, not of its whole range.
constexpr int64_t kBulkStageBlocks = 4;

static int64_t getReduceBytes(const Int4Tiling &t, int64_t m) {
  int64_t halves = m > 8 ? 2 : 1;
  return t.splitK > 1 ? t.getWarps() * t.tilesPerWarp * halves * 4 * 32 * 4 : 0;
}

int64_t Int4Tiling::getStageBlocks(const Int4Layout &layout) const {
  return std::min(kBulkStageBlocks, getBlocksPerWarp(layout));
}

int64_t Int4Tiling::getStages(const Int4Layout &layout) const {
  return llvm::divideCeil(getBlocksPerWarp(layout), getStageBlocks(layout));
}

int64_t Int4Tiling::getRingStages(const Int4Layout &layout) const {
  if (!bulk)
    return 0;
  if (ringStages)
    return std::min(ringStages, getStages(layout));
  // As deep as the shared memory left by the K split's sums allows (m = 16
  // sizes the sums for either row count).
  int64_t perStage =
      getWarps() * (tilesPerWarp * getStageBlocks(layout) * 512 + 8);
  int64_t fit = (kMaxSharedBytes - getReduceBytes(*this, 16)) / perStage;
  return std::max<int64_t>(1, std::min(fit, getStages(layout)));
}

int64_t Int4Tiling::getRingBytes(const Int4Layout &layout) const {
  return getRingStages(layout) * tilesPerWarp * getStageBlocks(layout) * 512;
}

/// Bulk: the rings of all warps, then their barriers; the K split's sums
/// follow.
static int64_t getRingAreaBytes(const Int4Tiling &t, const Int4Layout &layout) {
  return t.getWarps() * (t.getRingBytes(layout) + t.getRingStages(layout) * 8);
}

int64_t Int4Tiling::getSharedBytes(const Int4Layout &layout, int64_t m) const {
  return getRingAreaBytes(*this, layout) + getReduceBytes(*this, m);
}

int64_t Int4Tiling::getSplitUnit(const Int4Layout &layout) {
  return layout.group % 64 == 0 ? layout.group / 64 : 1;
}

int64_t Int4Tiling::getBlocksPerWarp(const Int4Layout &layout) const {
  int64_t unit = getSplitUnit(layout);
  return llvm::divideCeil(layout.k / 64 / unit, splitK) * unit;
}

std::string Int4Tiling::verify(const Int4Layout &layout, int64_t m) const {
  int64_t kBlocks = layout.k / 64;
  if (tilesPerWarp < 1 || tilesPerWarp > 8)
    return "a warp takes 1 to 8 tiles of 16 columns";
  // Scales are loaded at group starts, which must then be the same for
  // every warp: a warp's K range is whole groups of whole blocks (groups
  // that are no multiple of 64 are loaded every block). The packed type
  // makes K whole groups.
  int64_t units = kBlocks / getSplitUnit(layout);
  if (splitK < 1 || splitK > 16 ||
      (splitK - 1) * int64_t(llvm::divideCeil(units, splitK)) >= units)
    return "the K split takes 1 to 16 warps, each with at least one of the " +
           std::to_string(units) + " K blocks (or groups of whole blocks)";
  if (warpsN < 1 || getWarps() > 32)
    return "a CTA has at most 32 warps (warpsN x splitK)";
  if (ahead < 1 || ahead > 16)
    return "1 to 16 K blocks may be in flight";
  // A ring of one stage that does not hold the whole range would refill
  // the stage the warp reads next.
  if (bulk && getRingStages(layout) < std::min<int64_t>(2, getStages(layout)))
    return "the bulk rings of 2 stages of " +
           std::to_string(getStageBlocks(layout)) + " blocks x " +
           std::to_string(tilesPerWarp) + " tiles per warp exceed the " +
           "shared memory";
  if (getSharedBytes(layout, m) > kMaxSharedBytes)
    return "the CTA needs " + std::to_string(getSharedBytes(layout, m)) +
           " bytes of shared memory, over " + std::to_string(kMaxSharedBytes);
  return "";
}

Int4Tiling mlir::quilt::nvptx::chooseInt4Tiling(int64_t m,
                                                const Int4Layout &layout,
                                                int64_t multiprocessors) {
  // Up to 8 rows, measured on an H100 at K = 4096, N = 11008
  // (bench/gpu/README.md): two tiles per warp, 8 warps splitting K; it was
  // latency-bound, its occupancy limited by the grid (344 CTAs). Fewer
  // CTAs than two per SM (N = 4096: 128) get up to 16 warps along K, and
  // so does K beyond 128 blocks, whose unrolled warps would otherwise
  // grow long (K = 14336: 171 registers at 8 warps).
  Int4Tiling tiling;
  tiling.ahead = 4;
  int64_t ctas = llvm::divideCeil(layout.paddedN() / 16, tiling.tilesPerWarp);
  int64_t maxSplit = layout.k / 64 > 128 || ctas < 2 * multiprocessors ? 16 : 8;
  if (m > 8) {
    // Two 8-row halves: x is 4 bytes per weight byte of a tile, read once
    // per CTA. One CTA per SM, as wide as covers N in one wave, reads it
    // the fewest times (at K = 4096, N = 11008: 115 CTAs of 6 warps
    // side by side x 4 along K; x from L2 drops from 88 MB to 15 MB
    // against the weights' 23 MB). Not yet timed on a GPU; the tiling
    // measured before it, 1 x 16 warps of one tile, is variant `i4-k16`.
    // One tile per warp (two of 16 rows need over 128 registers) and at
    // most 8 side by side, which leaves 4 warps along K within 32.
    tiling.tilesPerWarp = 1;
    tiling.warpsN = std::min<int64_t>(
        8, llvm::divideCeil(layout.paddedN() / 16, multiprocessors));
    maxSplit = 16;
  }
  for (int64_t s : {16, 8, 4, 2, 1}) {
    if (s > maxSplit)
      continue;
    tiling.splitK = s;
    if (tiling.verify(layout, m).empty())
      break;
  }
  return tiling;
}

KernelLaunch mlir::quilt::nvptx::buildInt4MmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    int64_t m, const Int4Layout &layout, const Int4Tiling &tiling,
    const Epilogue &epilogue, ArrayRef<Type> argumentTypes) {
  int64_t kTiles = tiling.tilesPerWarp, splitK = tiling.splitK;
  int64_t kBlocks = layout.k / 64;
  // Warps take ceil(groups / splitK) groups each. When that overshoots K
  // (K = 11008 is 86 groups of 128), the last warp's window moves back to
  // end at K and skips the blocks its neighbour has: every load stays a
  // constant offset from the warp's base.
  int64_t perWarp = tiling.getBlocksPerWarp(layout);
  bool uneven = perWarp * splitK != kBlocks;
  int64_t ahead = std::min(tiling.ahead, perWarp);
  int64_t halves = m > 8 ? 2 : 1;
  int64_t nTiles = layout.paddedN() / 16;
  int64_t warpsN = tiling.warpsN;
  int64_t threads = 32 * tiling.getWarps();
  bool scalesEveryBlock = layout.group % 64 != 0;

  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, threads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  Type f16 = b.getF16Type();
  Type halfPair = VectorType::get({2}, f16);
  Type quad = VectorType::get({4}, ptx.i32);

  Value tid = ptx.threadId();
  Value lane = ptx.rem(tid, 32), warp = ptx.div(tid, 32);
  // Warp (kSlice, column): consecutive warps share a K range and its x.
  Value column = ptx.rem(warp, warpsN), kSlice = ptx.div(warp, warpsN);
  Value g = ptx.div(lane, 4), t = ptx.rem(lane, 4);
  Value m0 = ptx.mul(ptx.blockId(gpu::Dimension::y), 16);
  Value firstTile = ptx.mul(
      ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), warpsN), column), kTiles);
  Value x = ptx.globalBase(func.getArgument(0));
  Value w = ptx.globalBase(func.getArgument(1));
  EpilogueOperands out =
      getEpilogueOperands(ptx, epilogue, func.getArguments());

  // Per-lane base pointers; block i adds a constant.
  Value firstBlock = ptx.mul(kSlice, perWarp), skipped;
  if (uneven) {
    Value start = ptx.minU(firstBlock, ptx.c32(kBlocks - perWarp));
    skipped = arith::SubIOp::create(b, firstBlock, start);
    firstBlock = start;
  }
  SmallVector<Value> tileStart, weightBase, scaleBase;
  Value scales = ptx.offset(
      w, arith::ConstantIntOp::create(b, ptx.i64, layout.getScalesOffset()));
  for (int64_t ti = 0; ti < kTiles; ++ti) {
    // Tiles past the end read the last tile; their columns are >= N and
    // are never stored.
    Value tile = ptx.minU(ptx.add(firstTile, ti), ptx.c32(nTiles - 1));
    Value chunk = ptx.mul(ptx.add(ptx.mul(tile, kBlocks), firstBlock), 32);
    tileStart.push_back(ptx.offset(w, ptx.byteOffset(chunk, 16)));
    weightBase.push_back(
        ptx.offset(tileStart.back(), ptx.byteOffset(lane, 16)));
    scaleBase.push_back(ptx.offset(
        scales, ptx.byteOffset(ptx.add(ptx.mul(tile, 16), ptx.mul(g, 2)), 2)));
  }
  // x^T fragments: token h * 8 + g, K rows 8t.. and 32 + 8t.. of each
  // block (the K order of Int4PackKernels.cpp). Rows past M read row 0 and
  // are zeroed.
  SmallVector<Value> xBase, tokenOk;
  for (int64_t h = 0; h < halves; ++h) {
    Value token = ptx.add(ptx.add(m0, h * 8), g);
    Value ok = ptx.ult(token, m);
    tokenOk.push_back(ok);
    Value safe = ptx.select(ok, token, ptx.c32(0));
    Value element =
        ptx.add(ptx.add(ptx.mul(safe, layout.k), ptx.mul(firstBlock, 64)),
                ptx.mul(t, 8));
    xBase.push_back(ptx.offset(x, ptx.byteOffset(element, 2)));
  }
  auto constOffset = [&](Value base, int64_t bytes) {
    return ptx.offset(base, arith::ConstantIntOp::create(b, ptx.i64, bytes));
  };
  auto needsScales = [&](int64_t i) {
    return scalesEveryBlock || (i * 64) % layout.group == 0;
  };
  auto loadBlock = [&](int64_t i) {
    Int4Block block;
    for (int64_t ti = 0; ti < kTiles && !tiling.bulk; ++ti)
      block.weights.push_back(
          // Volatile: ptxas keeps these in program order, issued `ahead`
          // blocks early (measured 20% faster at M = 4 than ld.global.nc,
          // which ptxas sinks towards the uses).
          LLVM::LoadOp::create(b, quad, constOffset(weightBase[ti], i * 512),
                               16, /*isVolatile=*/true));
    for (int64_t h = 0; h < halves; ++h)
      for (int64_t j = 0; j < 2; ++j)
        block.x.push_back(ptx.loadInvariant(
            quad, constOffset(xBase[h], i * 128 + j * 64), 16));
    // Groups of whole blocks: one scale pair per tile. Smaller groups (a
    // multiple of 16): one per tile and 32-row half of the block, whose 8
    // rows per lane lie in one group.
    if (needsScales(i))
      for (int64_t half = 0; half < (scalesEveryBlock ? 2 : 1); ++half) {
        Value kRow = ptx.add(ptx.mul(ptx.add(firstBlock, i), 64),
                             ptx.add(ptx.mul(t, 8), half * 32));
        Value rowOffset =
            ptx.byteOffset(ptx.mul(ptx.div(kRow, layout.group), nTiles), 32);
        for (int64_t ti = 0; ti < kTiles; ++ti)
          block.scales.push_back(ptx.loadInvariant(
              ptx.i32, ptx.offset(scaleBase[ti], rowOffset), 4));
      }
    return block;
  };

  // Bulk: the weights come from the ring one block ahead of their use.
  Value shared = tiling.bulk || splitK > 1 ? ptx.sharedBase(module) : Value();
  std::optional<WeightRing> ring;
  SmallVector<Value> nextWeights;
  if (tiling.bulk) {
    ring.emplace(ptx, tiling, layout, shared, warp, lane, tileStart);
    ring->start();
    nextWeights = ring->load(0);
  }
  SmallVector<Int4Block> inFlight;
  for (int64_t i = 0; i < ahead; ++i)
    inFlight.push_back(loadBlock(i));

  Value zero = arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(0.0f));
  SmallVector<Value> acc(kTiles * halves * 4, zero);
  Value bias1032 = arith::ConstantOp::create(
      b, DenseElementsAttr::get(cast<ShapedType>(halfPair),
                                APFloat(APFloat::IEEEhalf(), "1032")));
  Value zeroQuad = arith::ConstantOp::create(
      b, DenseElementsAttr::get(cast<ShapedType>(quad), APInt(32, 0)));
  // Per block half and tile (index half * kTiles + tile): the current
  // group's scales of columns g and g + 8, each as an f16 pair (s, s).
  SmallVector<std::array<Value, 2>> scale(2 * kTiles);
  // With groups of whole blocks, the group's products q * x add up in f32
  // partial sums (`part`, mma from zero) that are scaled once per group,
  // instead of scaling every dequantized register.
  bool scaleAfter = !scalesEveryBlock;
  SmallVector<Value> part(acc.size(), zero);
  SmallVector<std::array<Value, 2>> scale32(kTiles);
  auto flushGroup = [&] {
    for (int64_t ti = 0; ti < kTiles; ++ti)
      for (int64_t h = 0; h < halves; ++h)
        for (int64_t c = 0; c < 4; ++c) {
          int64_t at = (ti * halves + h) * 4 + c;
          acc[at] =
              LLVM::FMAOp::create(b, part[at], scale32[ti][c / 2], acc[at]);
          part[at] = zero;
        }
  };
  Value sixteenth = halfSplat(ptx, 1.0 / 16);
  Value minus72 = halfSplat(ptx, -72);
  for (int64_t i = 0; i < perWarp; ++i) {
    if (i + ahead < perWarp)
      inFlight.push_back(loadBlock(i + ahead));
    Int4Block &block = inFlight[i];
    if (ring) {
      block.weights = nextWeights;
      if (i + 1 < perWarp)
        nextWeights = ring->load(i + 1);
    }
    if (scaleAfter && i > 0 && !block.scales.empty())
      flushGroup();
    for (int64_t si = 0; si < int64_t(block.scales.size()); ++si) {
      Value pair = block.scales[si];
      Value lo = ptx.andI(pair, 0xffff), hi = ptx.shr(pair, 16);
      if (scaleAfter) {
        for (auto [r, bits] : llvm::enumerate(std::array<Value, 2>{lo, hi}))
          scale32[si][r] = ptx.toF32(LLVM::BitcastOp::create(
              b, f16, LLVM::TruncOp::create(b, b.getI16Type(), bits)));
      } else {
        scale[si] = {
            LLVM::BitcastOp::create(b, halfPair, ptx.orI(lo, ptx.shl(lo, 16))),
            LLVM::BitcastOp::create(b, halfPair, ptx.orI(hi, ptx.shl(hi, 16)))};
      }
    }
    // Zero x where the token is past M or the block is another warp's.
    Value skip = uneven ? ptx.ult(ptx.c32(i), skipped) : Value();
    SmallVector<Value> xWords;
    for (int64_t h = 0; h < halves; ++h)
      for (int64_t j = 0; j < 2; ++j) {
        Value word = ptx.select(tokenOk[h], block.x[h * 2 + j], zeroQuad);
        xWords.push_back(skip ? ptx.select(skip, zeroQuad, word) : word);
      }
    for (int64_t kk = 0; kk < 4; ++kk) {
      SmallVector<std::array<Value, 2>> bFrags;
      for (int64_t h = 0; h < halves; ++h) {
        Value words = xWords[h * 2 + kk / 2];
        bFrags.push_back(
            {LLVM::ExtractElementOp::create(b, words, ptx.c32((kk % 2) * 2)),
             LLVM::ExtractElementOp::create(b, words,
                                            ptx.c32((kk % 2) * 2 + 1))});
      }
      for (int64_t ti = 0; ti < kTiles; ++ti) {
        Value word =
            LLVM::ExtractElementOp::create(b, block.weights[ti], ptx.c32(kk));
        // Registers 0 and 2 sit in nibbles 0 and 8 of the halves (1024 + n
        // after the or), 1 and 3 in nibbles 4 and 12 (1024 + 16 n): n - 8
        // is a subtraction or an fma by 1/16, exact in f16 either way.
        SmallVector<Value> a;
        for (int64_t r = 0; r < 4; ++r) {
          Value shifted = r >= 2 ? ptx.shr(word, 8) : word;
          Value bits =
              ptx.orI(ptx.andI(shifted, r % 2 ? 0x00f000f0 : 0x000f000f),
                      ptx.c32(0x64006400));
          Value pair = LLVM::BitcastOp::create(b, halfPair, bits);
          pair =
              r % 2
                  ? LLVM::FMAOp::create(b, pair, sixteenth, minus72).getResult()
                  : arith::SubFOp::create(b, pair, bias1032).getResult();
          if (!scaleAfter)
            pair = arith::MulFOp::create(b, pair,
                                         scale[(kk / 2) * kTiles + ti][r % 2]);
          a.push_back(LLVM::BitcastOp::create(b, ptx.i32, pair));
        }
        SmallVector<Value> &sums = scaleAfter ? part : acc;
        for (int64_t h = 0; h < halves; ++h) {
          int64_t base = (ti * halves + h) * 4;
          SmallVector<Value, 4> d =
              ptx.mma16816(MmaElement::F16, a, bFrags[h],
                           ArrayRef<Value>(sums).slice(base, 4));
          std::copy(d.begin(), d.end(), sums.begin() + base);
        }
      }
    }
    if (ring)
      ring->release(i);
  }
  if (scaleAfter)
    flushGroup();

  // Partial sums of a column's splitK warps meet in shared memory; its
  // first warp adds them and runs the epilogue.
  if (splitK > 1) {
    // After the rings and their barriers, which other warps may still use.
    Value sums =
        ptx.offset(shared, arith::ConstantIntOp::create(
                               b, ptx.i64, getRingAreaBytes(tiling, layout)));
    auto slot = [&](Value warpIndex, int64_t i) {
      return ptx.offset(sums,
                        ptx.mul(ptx.add(ptx.mul(warpIndex, acc.size() * 32),
                                        ptx.add(ptx.c32(i * 32), lane)),
                                4));
    };
    ptx.ifThen(ptx.ult(ptx.c32(warpsN - 1), warp), [&] {
      for (int64_t i = 0; i < int64_t(acc.size()); ++i)
        ptx.store(acc[i], slot(warp, i), 4);
    });
    ptx.barrier();
    for (int64_t i = 0; i < int64_t(acc.size()); ++i)
      for (int64_t s = 1; s < splitK; ++s)
        acc[i] = arith::AddFOp::create(
            b, acc[i],
            ptx.load(ptx.f32, slot(ptx.add(column, s * warpsN), i), 4));
  }
  ptx.ifThen(ptx.ult(warp, warpsN), [&] {
    for (int64_t ti = 0; ti < kTiles; ++ti) {
      Value col0 = ptx.add(ptx.mul(ptx.add(firstTile, ti), 16), g);
      for (int64_t h = 0; h < halves; ++h) {
        Value token = ptx.add(ptx.add(m0, h * 8), ptx.mul(t, 2));
        int64_t base = (ti * halves + h) * 4;
        for (int64_t c = 0; c < 4; ++c)
          storeAccumulator(ptx, epilogue, out, m, layout.n,
                           ptx.add(token, c % 2), ptx.add(col0, (c / 2) * 8),
                           acc[base + c]);
      }
    }
  });
  gpu::ReturnOp::create(b);
  int64_t sharedBytes = tiling.getSharedBytes(layout, m);
  return {func,
          {int64_t(llvm::divideCeil(nTiles, kTiles * warpsN)),
           int64_t(llvm::divideCeil(m, 16)), 1},
          threads,
          sharedBytes};
}
