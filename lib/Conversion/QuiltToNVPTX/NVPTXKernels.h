//===- NVPTXKernels.h - The generators of the NVPTX kernels -----*- C++ -*-===//
//
// Private interface between convert-quilt-to-nvptx and its kernel
// generators: what a kernel computes (problem, weight layout, fused
// epilogue), how it is tiled, and one builder per kernel family. Every
// kernel takes one memref argument per buffer (passed as a bare pointer);
// the generator returns the gpu.func and the launch geometry.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTONVPTX_NVPTXKERNELS_H
#define QUILT_LIB_CONVERSION_QUILTTONVPTX_NVPTXKERNELS_H

#include "PtxBuilder.h"

#include "quilt/CostModel/RegisterModel.h"
#include "quilt/CostModel/TimingModel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::quilt {
class LinearOp;
} // namespace mlir::quilt

namespace mlir::quilt::nvptx {

/// Element-wise functions fused into a kernel's epilogue.
enum class Activation { None, Relu, Silu, Gelu, GeluTanh };

/// What happens to the accumulators before they are stored:
/// y = activation(acc + bias[col]) + residual[row, col], rounded to `output`.
/// With `dequantize`, acc is the i32 sum of int8 products and becomes
/// acc * rowScale[row] * colScale[col] first.
struct Epilogue {
  Type biasType; // null: no bias argument
  Activation activation = Activation::None;
  bool residual = false; // an M x N argument of the output type
  bool dequantize = false;
  Type outputType;
};

/// y[M, N] = x[M, K] * W[K, N] with x and the stored weight in `element`
/// (S8: both quantized, see Int8Kernels.cpp).
struct GemmProblem {
  int64_t m, n, k;
  MmaElement element;
};

/// One CTA computes a blockM x blockN tile with warpsM x warpsN warps,
/// staging blockK-deep slices of both operands through `stages` shared
/// memory buffers filled by cp.async. Operands are 16-bit, or int8 with
/// elementBytes = 1.
struct MmaTiling {
  int64_t blockM = 128, blockN = 128, blockK = 32;
  int64_t warpsM = 2, warpsN = 2;
  int64_t stages = 4;
  int64_t elementBytes = 2;
  /// wgmma only: batches of wgmma left in flight at the end of a K slice
  /// (0 or 1; with 1 the refill targets the stage read two slices back).
  int64_t wgmmaInFlight = 0;
  /// wgmma only: the stages are filled by TMA (one thread issues a box per
  /// operand and an mbarrier per stage counts its bytes) instead of every
  /// thread's cp.async chunks.
  bool tma = false;
  /// With tma: each stage also has an "empty" mbarrier that every
  /// warpgroup arrives on once its wgmma have read the stage, and the
  /// refill waits on it, instead of a CTA barrier per K slice.
  bool mbarrierRelease = false;
  /// With mbarrierRelease: one more warpgroup, after the consumers, whose
  /// first thread issues every TMA load; the consumers only wait for data,
  /// multiply and release.
  bool producerWarpgroup = false;
  /// With producerWarpgroup: at most this many CTAs, each looping over the
  /// output tiles blockIdx.x, + gridDim.x, ... (0: one CTA per tile).
  int64_t persistentCtas = 0;
  /// With mbarrierRelease: CTAs per cluster along M (1, 2 or 4). The CTAs
  /// of a cluster compute vertically adjacent tiles of the same columns:
  /// each loads 1 / clusterM of the W^T slice and multicasts it to all,
  /// and a stage is refilled once every CTA's warpgroups released it.
  int64_t clusterM = 1;
  /// With producerWarpgroup: the producer warpgroup gives back registers
  /// to the consumers (setmaxnreg), as CUTLASS's warp-specialized kernels.
  bool rebalanceRegisters = true;

  /// Registers of a producer thread after setmaxnreg (CUTLASS's 40: its
  /// loop is a few addresses and a phase).
  static constexpr int64_t kProducerRegisters = 40;
  /// With producerWarpgroup and rebalanceRegisters: the registers a
  /// consumer thread gets from setmaxnreg, what the producer's give-back
  /// leaves of the SM's 64K; 0 where that is no more than the launch gives
  /// every thread, or where the stages leave room for a second CTA on the
  /// SM.
  int64_t getConsumerRegisters() const;

  /// K slices loaded ahead of the one multiplied: all other stages but the
  /// one a wgmma batch left in flight still reads.
  int64_t getSlicesAhead() const { return stages - 1 - wgmmaInFlight; }

  int64_t getThreads() const {
    return 32 * warpsM * warpsN + (producerWarpgroup ? 128 : 0);
  }
  /// Bytes of one row of a staged slice.
  int64_t getRowBytes() const { return blockK * elementBytes; }
  int64_t getStageBytes() const { return (blockM + blockN) * getRowBytes(); }
  /// mbarriers per stage: with TMA a "full" one, with mbarrierRelease an
  /// "empty" one too.
  int64_t getBarriersPerStage() const {
    return tma ? 1 + int64_t(mbarrierRelease) : 0;
  }
  /// The stages, then 8 bytes per mbarrier.
  int64_t getSharedBytes() const {
    return stages * getStageBytes() + stages * 8 * getBarriersPerStage();
  }
  /// Empty if the tiling fits the kernels' rules, else why not.
  std::string verify() const;
};

/// Launch geometry of a generated kernel.
struct KernelLaunch {
  gpu::GPUFuncOp func;
  std::array<int64_t, 3> grid = {1, 1, 1};
  int64_t threads = 0;
  int64_t sharedBytes = 0;
  /// CTAs per cluster (all 1: no cluster launch).
  std::array<int64_t, 3> cluster = {1, 1, 1};
};

//===----------------------------------------------------------------------===//
// Staging K-contiguous tiles in shared memory (TileCopy.cpp)
//===----------------------------------------------------------------------===//

/// A K-contiguous operand of `k` elements per row, staged in slices of
/// `rowBytes` per row.
struct TileShape {
  int64_t k, elementBytes, rowBytes;
};

/// The per-thread parts of a tile's cp.async copies that do not change
/// along K: where each of the thread's chunks lands in shared memory and
/// where its row starts in global memory.
struct TileCopy {
  SmallVector<Value> sharedOffset; // i32, within the tile
  SmallVector<Value> rowStart;     // !llvm.ptr<1>
  SmallVector<Value> rowValid;     // i1
  SmallVector<Value> chunkColumn;  // i32, the chunk's first K index
};

/// The XOR applied to the 16-byte chunk index of row `row` of a staged
/// slice (row % 8 for 128-byte rows: wgmma's 128-byte swizzle).
Value swizzleChunk(PtxBuilder &ptx, Value row, int64_t rowBytes);

/// How `threads` threads (thread `tid`) split the 16-byte chunks of `rows`
/// rows from `firstRow` of the operand at `base`; rows from `limit` on are
/// zero-filled.
TileCopy planTileCopy(PtxBuilder &ptx, const TileShape &shape, Value tid,
                      int64_t threads, Value base, Value firstRow, int64_t rows,
                      int64_t limit);

/// Issues the thread's cp.async copies of the slice from K index `k0` into
/// the tile at `tileShared` (columns from K on are zero-filled).
void issueTileCopy(PtxBuilder &ptx, const TileShape &shape,
                   const TileCopy &copy, Value tileShared, Value k0);

/// The first output row and column (i32) of output tile `tile` (default:
/// this CTA's, blockIdx.x): tiles in Triton's grouped order, 8 row tiles
/// per column sweep. With clusters, tile t is row tile t % clusterM of
/// cluster tile t / clusterM (clusterM row tiles of the same columns),
/// which the grouped order places.
std::pair<Value, Value> getTileOrigin(PtxBuilder &ptx, const GemmProblem &p,
                                      const MmaTiling &t, Value tile = {});

/// Output tiles of a GEMM (row tiles rounded up to whole clusters).
int64_t getOutputTiles(const GemmProblem &p, const MmaTiling &t);

/// CTAs of a GEMM's launch: one per output tile, or t.persistentCtas at
/// most (whole clusters).
int64_t getGridCtas(const GemmProblem &p, const MmaTiling &t);

/// The launch of a GEMM kernel `func` with one CTA per output tile, or
/// t.persistentCtas CTAs at most (whole clusters).
KernelLaunch getTileLaunch(gpu::GPUFuncOp func, const GemmProblem &p,
                           const MmaTiling &t);

/// A GEMM kernel `name` with one CTA per output tile, whose body `build`
/// generates from its arguments.
KernelLaunch
buildTileKernel(OpBuilder &b, Location loc, gpu::GPUModuleOp module,
                StringRef name, ArrayRef<Type> argumentTypes,
                const GemmProblem &p, const MmaTiling &t,
                function_ref<void(PtxBuilder &, ValueRange)> build);

/// The ring of shared-memory stages of a dense GEMM's CTA: stage s holds
/// the blockM x blockK slice of x, then the blockN x blockK slice of W^T,
/// both filled by cp.async (TileCopy).
class StageRing {
public:
  /// Plans this thread's copies of x rows from m0 and W^T rows from n0.
  StageRing(PtxBuilder &ptx, const GemmProblem &p, const MmaTiling &t,
            Value tid, Value shared, Value x, Value w, Value m0, Value n0);

  int64_t getTileABytes() const { return t.blockM * t.getRowBytes(); }
  int64_t getKTiles() const { return llvm::divideCeil(p.k, t.blockK); }
  /// The base of stage `index` (i32, below stages).
  Value getStage(Value index);
  /// Issues the copies of K slice `kTile` into stage `stage`.
  void issue(Value kTile, Value stage);
  /// The first `slices` slices in flight, one commit group each.
  void issuePrologue(int64_t slices);
  /// Waits until this thread's copies of the oldest of `ahead` slices in
  /// flight have landed and fences them for the async proxy (wgmma); a CTA
  /// barrier must follow before others' chunks are read.
  void waitForSlice(int64_t ahead);
  /// Issues K slice `kTile` (if any) into its stage, then a commit group.
  void refill(Value kTile);

private:
  PtxBuilder &ptx;
  const GemmProblem &p;
  const MmaTiling &t;
  TileShape shape;
  Value shared;
  TileCopy copyA, copyB;
};

/// The same ring filled by TMA (TensorMapRing.cpp): thread 0 loads each
/// stage as two boxes, of x rows from m0 and of W^T rows from n0, through
/// the tensor maps `mapX` and `mapW` (generic pointers to global memory);
/// the stage's "full" mbarrier after the stages counts their bytes, and
/// every thread waits on it. Boxes past the tensor's edge read zeros. With
/// MmaTiling::mbarrierRelease, a stage is refilled once every warpgroup has
/// arrived on its "empty" mbarrier (release), not after a CTA barrier. In a
/// cluster (MmaTiling::clusterM > 1) the W^T box is multicast: each CTA
/// loads its share into every CTA's stage, and the warpgroups release a
/// stage in every CTA of the cluster.
class TensorMapRing {
public:
  /// `leader`: whether this thread issues the loads.
  TensorMapRing(PtxBuilder &ptx, const GemmProblem &p, const MmaTiling &t,
                Value tid, Value leader, Value shared, Value mapX, Value mapW,
                Value m0, Value n0);

  int64_t getTileABytes() const { return t.blockM * t.getRowBytes(); }
  int64_t getKTiles() const { return llvm::divideCeil(p.k, t.blockK); }
  Value getStage(Value index);
  /// Initializes the barriers and puts the first `slices` slices in flight,
  /// after a CTA (cluster) barrier: the only setup before the K loop.
  void issuePrologue(int64_t slices);
  /// Every thread, last: in a cluster, waits until no other CTA will
  /// write this one's stages or arrive on its barriers any more.
  void leaveCluster();
  /// Waits until K slice `kTile` has landed in its stage.
  void waitForSlice(Value kTile);
  /// Issues K slice `kTile` (if any) into its stage; with mbarrierRelease
  /// first waits until the stage's previous slice is released.
  void refill(Value kTile);
  /// mbarrierRelease: this warpgroup is done reading K slice `kTile`.
  void release(Value kTile);
  /// Persistent CTAs: slices number on across this CTA's output tiles
  /// firstTile, + tileStride, ... (slice s is K slice s % kTiles of the
  /// (s / kTiles)-th), `slices` in all; m0 and n0 are then unused.
  void loopOverTiles(Value firstTile, int64_t tileStride, Value slices);

private:
  /// The "full" (0) or "empty" (1) mbarrier of a stage.
  Value getBarrier(Value stage, int64_t kind = 0);
  void issue(Value kTile, Value stage);

  PtxBuilder &ptx;
  const GemmProblem &p;
  const MmaTiling &t;
  Value tid, shared, mapX, mapW, m0, n0, leader;
  /// This CTA's rank in its cluster (clusterM > 1).
  Value rank;
  Value firstTile, slices;
  int64_t tileStride = 0;
};

/// A tensor-core GEMM over a dense weight stored transposed, W^T[N][K] in
/// the same element as x (K contiguous, the layout cuBLAS calls TN).
/// Arguments: x, packed W, [bias], [residual], y. Needs 16-byte rows (K %
/// 8 == 0, int8: K % 16 == 0). int8 operands carry their f32 scales after
/// the values (Int8Layout), which the epilogue applies.
KernelLaunch buildDenseMmaKernel(OpBuilder &b, Location loc,
                                 gpu::GPUModuleOp module, StringRef name,
                                 const GemmProblem &problem,
                                 const Epilogue &epilogue,
                                 const MmaTiling &tiling,
                                 ArrayRef<Type> argumentTypes);

/// The tiling `auto` picks for a dense GEMM of this shape (16-bit or
/// int8).
MmaTiling chooseDenseTiling(const GemmProblem &problem);

/// The same 16-bit GEMM on sm_90a's warpgroup tensor cores (WgmmaKernel.cpp):
/// wgmma.mma_async m64nNk16 reading both operands from shared memory
/// through descriptors, one warpgroup per 64 rows of the CTA tile (warps
/// 4 * blockM / 64 x 1), N = blockN, 64-deep slices staged by cp.async (or
/// TMA, MmaTiling::tma) in the 128-byte swizzle. With TMA the arguments end
/// with the tensor maps of x and W^T (kTensorMapBytes each, see
/// getWgmmaTensorMaps).
KernelLaunch buildWgmmaKernel(OpBuilder &b, Location loc,
                              gpu::GPUModuleOp module, StringRef name,
                              const GemmProblem &problem,
                              const Epilogue &epilogue, const MmaTiling &tiling,
                              ArrayRef<Type> argumentTypes);

/// A CUDA tensor map (CUtensorMap), built by the host from a buffer's
/// address before the launch.
constexpr int64_t kTensorMapBytes = 128;

/// What the host encodes into one of a TMA kernel's tensor-map arguments:
/// a 2-d row-major view of kernel argument `source` (dims and box innermost
/// first, in elements) with the given swizzle in bytes.
struct TensorMapSpec {
  int64_t argument, source;
  Type element;
  std::array<int64_t, 2> dims, box;
  int64_t swizzle;
};

/// The tensor maps of the TMA wgmma kernel whose first argument is x and
/// second W^T, `arguments` in all (the maps are the last two).
SmallVector<TensorMapSpec, 2> getWgmmaTensorMaps(const GemmProblem &problem,
                                                 const MmaTiling &tiling,
                                                 Type element,
                                                 int64_t arguments);

/// The tiling `auto` picks for the wgmma kernel, and why a tiling does not
/// fit it (or "").
MmaTiling chooseWgmmaTiling(const GemmProblem &problem);
std::string verifyWgmmaTiling(const MmaTiling &t);

/// Packs a dense f32 K x N weight (argument 0) into W^T[N][K] of
/// `elementType` (argument 1, bytes), rounding to nearest even.
KernelLaunch buildTransposePackKernel(OpBuilder &b, Location loc,
                                      gpu::GPUModuleOp module, StringRef name,
                                      int64_t k, int64_t n, Type elementType,
                                      ArrayRef<Type> argumentTypes);

//===----------------------------------------------------------------------===//
// int4 weights with group scales (Int4MmaKernel.cpp)
//===----------------------------------------------------------------------===//

/// The packed int4 weight: fragment-ordered nibbles (see Int4PackKernels.cpp),
/// then f16 group scales [K / group][paddedN / 16][16], the 16 columns of a
/// tile ordered (g, g + 8) for g = 0..7 so that one 32-bit load gives an
/// mma lane both of its scales. The pack kernels keep the f32 scales the
/// reference quantizes with in a setup-only scratch buffer.
struct Int4Layout {
  int64_t k, n, group;
  int64_t paddedN() const { return (n + 15) / 16 * 16; }
  int64_t getScalesOffset() const { return paddedN() * k / 2; }
  int64_t getTotalBytes() const {
    return getScalesOffset() + (k / group) * paddedN() * 2;
  }
  /// f32 [K / group][paddedN].
  int64_t getScratchBytes() const { return (k / group) * paddedN() * 4; }
};

/// How the int4 GEMM splits the work: every warp owns `tilesPerWarp`
/// 16-column tiles over 1 / splitK of K; a CTA's warpsN x splitK warps
/// take warpsN x tilesPerWarp tiles, and the splitK warps of a tile add
/// their partial sums in shared memory. The warpsN warps of a K range load
/// the same x, which all but the first find in L1: x comes from L2 once
/// per CTA, so wider CTAs read less of it. The loads of the 64-deep K
/// blocks (weights, scales, x) are issued `ahead` blocks early.
///
/// `bulk` (sm_90): the weights instead stream through a ring of shared
/// memory per warp, `ringStages` stages of getStageBlocks() blocks per
/// tile, each filled by one cp.async.bulk copy per tile that completes on
/// the stage's mbarrier; the copies of a warp's whole range are in flight
/// as long as the ring holds it. `ahead` then covers x and the scales.
struct Int4Tiling {
  int64_t tilesPerWarp = 2, warpsN = 1, splitK = 8, ahead = 4;
  bool bulk = false;
  /// 0: as many as hold the warp's range, within the SM's shared memory.
  int64_t ringStages = 0;
  int64_t getWarps() const { return warpsN * splitK; }
  /// Bulk: the K blocks of one stage, and the stages a warp streams.
  int64_t getStageBlocks(const Int4Layout &layout) const;
  int64_t getStages(const Int4Layout &layout) const;
  /// Bulk: the stages the ring of each warp holds.
  int64_t getRingStages(const Int4Layout &layout) const;
  /// Bulk: the bytes of each warp's ring.
  int64_t getRingBytes(const Int4Layout &layout) const;
  /// Blocks a warp's K range is made of: a group of whole blocks, or one.
  static int64_t getSplitUnit(const Int4Layout &layout);
  /// The K blocks each warp streams (the last may skip some).
  int64_t getBlocksPerWarp(const Int4Layout &layout) const;
  /// Dynamic shared memory of a CTA for `m` rows of x: the rings and
  /// their mbarriers, then the K split's partial sums.
  int64_t getSharedBytes(const Int4Layout &layout, int64_t m) const;
  /// Empty if the tiling fits the layout, else why not.
  std::string verify(const Int4Layout &layout, int64_t m) const;
};

/// The tiling `auto` picks for an int4 GEMM of `m` rows on a chip with
/// `multiprocessors` SMs.
Int4Tiling chooseInt4Tiling(int64_t m, const Int4Layout &layout,
                            int64_t multiprocessors);

/// Setup: the group scales of a dense f32 K x N weight (argument 0) into
/// the packed buffer (argument 1, f16) and the scratch (argument 2, f32).
KernelLaunch buildInt4ScalesKernel(OpBuilder &b, Location loc,
                                   gpu::GPUModuleOp module, StringRef name,
                                   const Int4Layout &layout,
                                   ArrayRef<Type> argumentTypes);
/// Setup: the quantized nibbles (after the scales kernel, same arguments).
KernelLaunch buildInt4PackKernel(OpBuilder &b, Location loc,
                                 gpu::GPUModuleOp module, StringRef name,
                                 const Int4Layout &layout,
                                 ArrayRef<Type> argumentTypes);
/// y[M, N] = x[M, K] (f16) * dequant(W) with the epilogue. Arguments: x,
/// packed W, [bias], [residual], y. Needs K % 64 == 0.
KernelLaunch buildInt4MmaKernel(OpBuilder &b, Location loc,
                                gpu::GPUModuleOp module, StringRef name,
                                int64_t m, const Int4Layout &layout,
                                const Int4Tiling &tiling,
                                const Epilogue &epilogue,
                                ArrayRef<Type> argumentTypes);

//===----------------------------------------------------------------------===//
// int8 weights and activations (Int8Kernels.cpp)
//===----------------------------------------------------------------------===//

/// A quantized int8 matrix as the int8 GEMM reads it: `rows` rows of `k`
/// int8 values (K contiguous), then one f32 scale per row. The weight is
/// stored transposed (rows = N, one scale per output channel); x keeps its
/// rows (one scale per row, the activation's channel granularity).
struct Int8Layout {
  int64_t rows, k;
  int64_t getScalesOffset() const { return rows * k; }
  int64_t getTotalBytes() const { return rows * k + rows * 4; }
};

/// Setup: the per-column scales (max |w| / 127, as the reference) of a
/// dense f32 K x N weight (argument 0) into the packed weight (argument 1,
/// laid out as Int8Layout{N, K}).
KernelLaunch buildInt8ScalesKernel(OpBuilder &b, Location loc,
                                   gpu::GPUModuleOp module, StringRef name,
                                   const Int8Layout &layout,
                                   ArrayRef<Type> argumentTypes);
/// Setup: the quantized weight W^T[N][K] (after the scales kernel, same
/// arguments).
KernelLaunch buildInt8PackKernel(OpBuilder &b, Location loc,
                                 gpu::GPUModuleOp module, StringRef name,
                                 const Int8Layout &layout,
                                 ArrayRef<Type> argumentTypes);
/// Every call: x[M][K] (argument 0, f32, f16 or bf16) quantized per row to
/// argument 1, laid out as Int8Layout{M, K}; one warp per row.
KernelLaunch buildQuantizeRowsKernel(OpBuilder &b, Location loc,
                                     gpu::GPUModuleOp module, StringRef name,
                                     const Int8Layout &layout, Type xElement,
                                     ArrayRef<Type> argumentTypes);

//===----------------------------------------------------------------------===//
// 2:4 sparse 16-bit weights (SparseMmaKernel.cpp)
//===----------------------------------------------------------------------===//

/// The packed 2:4 weight: the kept values W_c[N][K / 2] (each group of 4
/// K rows keeps 2, in K order), then the mma.sp metadata
/// [N / 16][K / 32][16] x i32 (see SparseMmaKernel.cpp).
struct SparseLayout {
  int64_t k, n;
  int64_t getMetadataOffset() const { return n * k; }
  int64_t getTotalBytes() const { return n * k + n * k / 8; }
};

/// Setup: prunes a dense f32 K x N weight (argument 0) to 2:4 along K like
/// the reference (the 2 largest |w| of 4, ties to the lower row) into the
/// packed buffer (argument 1).
KernelLaunch buildSparsePackKernel(OpBuilder &b, Location loc,
                                   gpu::GPUModuleOp module, StringRef name,
                                   const SparseLayout &layout, Type elementType,
                                   ArrayRef<Type> argumentTypes);

/// Dynamic shared memory of the 2:4 kernel: its stages hold the kept
/// weight values, x and the metadata.
int64_t getSparseSharedBytes(const MmaTiling &t);

/// y[M, N] = x[M, K] * W with W 2:4 sparse, through mma.sp on
/// y^T = W^T x^T: the tiling's M side covers weight columns, its N side
/// rows of x. Arguments: x, packed W, [bias], [residual], y. Needs
/// K % 64 == 0 and N % 16 == 0.
KernelLaunch buildSparseMmaKernel(OpBuilder &b, Location loc,
                                  gpu::GPUModuleOp module, StringRef name,
                                  const GemmProblem &problem,
                                  const Epilogue &epilogue,
                                  const MmaTiling &tiling,
                                  ArrayRef<Type> argumentTypes);

//===----------------------------------------------------------------------===//
// Choosing a kernel's tiling (KernelTiling.cpp)
//===----------------------------------------------------------------------===//

/// The tiling of one linear's kernel: `mma` for dense and 2:4 weights,
/// `int4` for int4 ones, the register model's estimate when one is loaded
/// and the timing model's when it chose the tiling.
struct KernelTiling {
  cost::NVPTXKernelFamily family = cost::NVPTXKernelFamily::Dense;
  MmaTiling mma;
  Int4Tiling int4;
  std::optional<cost::RegisterEstimate> registers;
  std::optional<double> predictedMicroseconds;
};

/// What the pass options fix (unset: `auto`) and the register model, if
/// any.
struct TilingRequest {
  std::optional<std::array<int64_t, 3>> tiles, warps;
  unsigned stages = 0; // 0: auto
  unsigned wgmmaInFlight = 0;
  bool tma = false, mbarrierRelease = false, producerWarpgroup = false;
  unsigned persistentCtas = 0;
  unsigned cluster = 1;
  bool rebalanceRegisters = true;
  bool int4Bulk = false;
  unsigned sm = 80;
  const cost::RegisterModel *registers = nullptr;
  const cost::TimingModel *timing = nullptr;
};

/// The tiling of `linear`'s kernel; errors name the rule a forced tiling
/// breaks.
FailureOr<KernelTiling>
chooseKernelTiling(LinearOp linear, const GemmProblem &problem,
                   const Int4Layout &layout, cost::NVPTXKernelFamily family,
                   const Epilogue &epilogue, const TilingRequest &request);

/// Warp grids of at most 8 warps for an mma.sync tile, fewest warps first,
/// then squarest warp tile.
SmallVector<std::pair<int64_t, int64_t>>
getWarpGridCandidates(const MmaTiling &t);

/// Gives a wgmma tiling the kernel form the request asks for (batches in
/// flight, TMA, release, producer, persistent CTAs, cluster, setmaxnreg).
void applyWgmmaForm(MmaTiling &t, const TilingRequest &request);

/// Whether the mma.sync kernels (mma.sp's with `sparse24`) accept `t`.
bool isValidMmaTiling(const MmaTiling &t, bool sparse24);

/// With a timing model: the tiling it predicts fastest among the
/// candidate tiles and depths of `family` (TilingSearch.cpp) that the
/// kernels accept and the register model predicts not to spill, in the
/// kernel form the request asks for; none if no candidate qualifies.
std::optional<KernelTiling> chooseTimedTiling(const GemmProblem &problem,
                                              const Int4Layout &layout,
                                              cost::NVPTXKernelFamily family,
                                              const Epilogue &epilogue,
                                              const TilingRequest &request);

/// What the register and timing models see of a kernel with this tiling.
cost::NVPTXKernelConfig describeKernel(const KernelTiling &tiling, unsigned sm,
                                       const GemmProblem &problem,
                                       const Int4Layout &layout,
                                       const Epilogue &epilogue);

//===----------------------------------------------------------------------===//
// Epilogues (Epilogue.cpp)
//===----------------------------------------------------------------------===//

/// Pointers to the epilogue's operands inside a kernel.
struct EpilogueOperands {
  Value bias, residual, output; // !llvm.ptr<1>; bias/residual may be null
  Value rowScales, colScales;   // f32 arrays, with Epilogue::dequantize
};

/// The bias, residual and output pointers of a GEMM kernel whose arguments
/// are x, W, [bias], [residual], y.
EpilogueOperands getEpilogueOperands(PtxBuilder &ptx, const Epilogue &epilogue,
                                     ValueRange args);

/// The same with, for `dequantize`, the f32 scales that follow the int8
/// values of x and W (Int8Layout).
EpilogueOperands getGemmEpilogueOperands(PtxBuilder &ptx,
                                         const Epilogue &epilogue,
                                         const GemmProblem &p, ValueRange args);

/// Applies the epilogue to a thread's 4 accumulators of an m16n8 tile
/// (mma.sync's and wgmma's layout: `fragment[0..1]` at output row `row`,
/// `fragment[2..3]` at `row + 8`, columns `col` and `col + 1`; i32) and
/// stores them where in bounds.
void storeAccumulatorFragment(PtxBuilder &ptx, const Epilogue &epilogue,
                              const EpilogueOperands &operands, int64_t m,
                              int64_t n, Value row, Value col,
                              ArrayRef<Value> fragment);

/// The same for one accumulator of output (row, col).
void storeAccumulator(PtxBuilder &ptx, const Epilogue &epilogue,
                      const EpilogueOperands &operands, int64_t m, int64_t n,
                      Value row, Value col, Value value);

/// The activation of an f32 value (no libdevice: exp2 and polynomials).
Value applyActivation(PtxBuilder &ptx, Activation activation, Value value);

} // namespace mlir::quilt::nvptx

#endif // QUILT_LIB_CONVERSION_QUILTTONVPTX_NVPTXKERNELS_H
