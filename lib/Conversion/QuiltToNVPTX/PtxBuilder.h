//===- PtxBuilder.h - Building NVVM kernels op by op ------------*- C++ -*-===//
//
// The vocabulary the NVPTX kernel generators are written in: 32-bit index
// arithmetic, special registers, global and shared pointers, cp.async,
// ldmatrix and mma.sync, one call each, at the level of the NVVM dialect
// (what Triton's TritonGPU-to-LLVM lowering emits), so every address and
// every instruction of a kernel is chosen by the generator.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTONVPTX_PTXBUILDER_H
#define QUILT_LIB_CONVERSION_QUILTTONVPTX_PTXBUILDER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::quilt::nvptx {

/// Element kinds of the tensor-core operands. S8 fragments hold four
/// int8 values per 32-bit register where F16 ones hold two halves, in the
/// same byte layout: m16n8k32 s8 reads what ldmatrix gives m16n8k16 f16.
enum class MmaElement { F16, BF16, S8 };

class PtxBuilder {
public:
  explicit PtxBuilder(ImplicitLocOpBuilder &b);

  ImplicitLocOpBuilder &b;
  Type i1, i32, i64, f32, globalPtr, sharedPtr;

  // i32 arithmetic (all index math of the kernels is 32-bit, as in PTX).
  Value c32(int64_t value);
  Value add(Value lhs, Value rhs);
  Value add(Value lhs, int64_t rhs) { return add(lhs, c32(rhs)); }
  Value mul(Value lhs, Value rhs);
  Value mul(Value lhs, int64_t rhs) { return mul(lhs, c32(rhs)); }
  Value div(Value lhs, int64_t rhs);
  Value rem(Value lhs, int64_t rhs);
  Value xorI(Value lhs, Value rhs);
  Value andI(Value lhs, int64_t rhs);
  Value shr(Value lhs, int64_t rhs);
  Value shl(Value lhs, int64_t rhs);
  Value orI(Value lhs, Value rhs);
  Value minU(Value lhs, Value rhs);
  Value ult(Value lhs, Value rhs);
  Value ult(Value lhs, int64_t rhs) { return ult(lhs, c32(rhs)); }
  Value select(Value cond, Value lhs, Value rhs);
  Value andB(Value lhs, Value rhs);

  // Special registers.
  Value threadId();
  Value blockId(gpu::Dimension dim);

  /// The global address of a kernel's memref argument.
  Value globalBase(Value memref);
  /// The shared-memory window of the kernel's module (dynamic shared memory).
  Value sharedBase(gpu::GPUModuleOp module);
  /// `ptr + bytes` for an i32 or i64 byte offset.
  Value offset(Value ptr, Value bytes);
  /// The i64 byte offset of element `index` (i32) of `width` bytes: tensors
  /// may pass 2^31 bytes.
  Value byteOffset(Value index, int64_t width);

  // Memory.
  Value load(Type type, Value ptr, unsigned alignment);
  /// A load of memory no thread of the kernel writes (ld.global.nc: the
  /// read-only path).
  Value loadInvariant(Type type, Value ptr, unsigned alignment);
  void store(Value value, Value ptr, unsigned alignment);
  /// cp.async of 16 bytes, of which `srcBytes` (i32: 0 or 16) are read and
  /// the rest zero-filled: the out-of-bounds chunks of a tile.
  void copyAsync16(Value sharedDst, Value globalSrc, Value srcBytes);
  void commitGroup();
  void waitGroup(int64_t pending);
  void barrier();

  // Tensor cores.
  /// ldmatrix .x4 (or .x4.trans): four 8x8 16-bit matrices, one i32 each.
  SmallVector<Value, 4> loadMatrixX4(Value sharedPtr, bool transpose);
  /// mma.sync m16n8k16 with f32 accumulators: a = 4 x i32, b = 2 x i32,
  /// c = 4 x f32; returns d = 4 x f32.
  SmallVector<Value, 4> mma16816(MmaElement element, ValueRange a, ValueRange b,
                                 ValueRange c);

  /// mma.sync m16n8k32 s8 x s8 with i32 accumulators (wrapping: |sums| of
  /// int8 products stay far below 2^31 for any K the kernels see): a = 4 x
  /// i32, b = 2 x i32, c = 4 x i32; returns d = 4 x i32.
  SmallVector<Value, 4> mmaInt8_16832(ValueRange a, ValueRange b, ValueRange c);

  /// mma.sp.sync m16n8k32 with 2:4 sparse A (4 x i32 of kept values, the
  /// 2-bit indices in `metadata`, sparsity selector 0), b = 4 x i32, f32
  /// accumulators.
  SmallVector<Value, 4> mmaSparse16832(MmaElement element, ValueRange a,
                                       ValueRange b, ValueRange c,
                                       Value metadata);

  // Warpgroup MMA (sm_90a).
  /// The wgmma descriptor of a K-major tile at shared pointer `tile`, in
  /// the 128-byte swizzle mode (128-byte rows, 16-byte chunk c of row r at
  /// c ^ (r % 8), 8-row groups 1024 bytes apart, the pattern starting on
  /// a 1024-byte boundary; a K step inside the rows moves `tile` only).
  Value wgmmaDescriptor(Value tile);
  /// wgmma.mma_async m64nNk16 on K-major A and B descriptors with f32
  /// accumulators (S8: m64nNk32 with wrapping i32 sums), N = 2 *
  /// acc.size(); returns the new accumulators.
  SmallVector<Value> wgmma(MmaElement element, Value descA, Value descB,
                           ValueRange acc);
  void wgmmaFence();
  void wgmmaCommitGroup();
  void wgmmaWaitGroup(int64_t pending);
  /// setmaxnreg: this warpgroup's threads now hold `registers` each, more
  /// (`increase`: waits until the SM has them) or fewer than before; every
  /// thread of the warpgroup executes it.
  void setMaxRegisters(int64_t registers, bool increase);
  /// Makes this thread's generic-proxy writes to shared memory (cp.async)
  /// visible to the async proxy that wgmma reads through.
  void fenceProxyAsyncShared();

  // Tensor memory access (sm_90).
  /// The generic address of a global pointer (TMA takes its tensor map so).
  Value toGeneric(Value globalPtr);
  /// Makes the tensor map at generic address `map`, written by the host
  /// before the launch, visible to the tensormap proxy TMA reads it with.
  void acquireTensorMap(Value map);
  /// mbarrier.init of the 8-byte barrier at shared pointer `bar`.
  void initBarrier(Value bar, int64_t arrivals);
  /// One arrival on `bar` that also expects `bytes` more of asynchronous
  /// copies (mbarrier.arrive.expect_tx).
  void arriveExpectBytes(Value bar, int64_t bytes);
  /// One arrival on `bar` (mbarrier.arrive, release semantics).
  void arrive(Value bar);
  /// Blocks until the phase of `bar` with parity `parity` (i32) completes.
  void waitBarrier(Value bar, Value parity);
  /// cp.async.bulk.tensor of the box of the 2-d tensor map `map` at
  /// {inner, outer} (i32 element coordinates; outside the tensor reads
  /// zeros) to `sharedDst`, completing its bytes on `bar`. With a
  /// `multicastMask` (i16), the box lands at the same offset in every CTA
  /// of the cluster whose rank's bit is set, completing on each one's
  /// barrier at `bar`'s offset.
  void loadTensorBox(Value sharedDst, Value map, Value inner, Value outer,
                     Value bar, Value multicastMask = {});
  /// cp.async.bulk of `bytes` (a multiple of 16; both pointers 16-byte
  /// aligned) contiguous bytes from global `globalSrc` to `sharedDst`,
  /// completing them on `bar`.
  void copyBulk(Value sharedDst, Value globalSrc, int64_t bytes, Value bar);

  // Thread-block clusters (sm_90).
  /// %cluster_ctarank: this CTA's rank in its cluster.
  Value clusterRank();
  /// The shared::cluster address of `sharedPtr`'s bytes in the CTA of
  /// cluster rank `rank` (mapa).
  Value mapToCluster(Value sharedPtr, Value rank);
  /// One arrival on the mbarrier at shared::cluster address `bar`, which
  /// may be another CTA's (release at cluster scope).
  void arriveInCluster(Value bar);
  /// Makes this thread's mbarrier.init visible to the cluster
  /// (fence.mbarrier_init).
  void fenceBarrierInit();
  /// barrier.cluster arrive and wait: every thread of the cluster.
  void clusterBarrier();

  /// bar.warp.sync of all 32 lanes: orders their memory accesses.
  void syncWarp();
  /// The value of lane `lane ^ mask` of the warp (shfl.sync.bfly); every
  /// lane must execute it.
  Value shuffleXor(Value value, int64_t mask);

  /// `value` (i32), hidden from LLVM's optimizer: what is computed from it
  /// stays where the generator put it instead of being hoisted out of a
  /// loop where LLVM can prove it invariant.
  Value opaque(Value value);

  // Conversions.
  Value cf32(float value);
  /// Round to nearest, ties to even (cvt.rni: llvm.roundeven would become a
  /// libdevice call under gpu-to-nvvm).
  Value roundEven(Value value);
  Value toF32(Value value);
  Value fromF32(Value value, Type type);
  /// Two 16-bit floats packed in an i32 as the vector<2 x type> it holds.
  Value unpackPair(Value word, Type halfType);
  Value packPair(Value lo, Value hi);

  // Structured control flow at the builder's insertion point.
  /// scf.for over i32 `lb` to `ub` step `step` carrying `init`; `body`
  /// returns the values to yield.
  SmallVector<Value>
  forLoop(Value lb, Value ub, int64_t step, ValueRange init,
          function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// scf.if without results.
  void ifThen(Value condition, function_ref<void()> body);
};

/// An empty kernel `name(argumentTypes)` at the end of `module`, launched
/// with `threads` threads per CTA.
gpu::GPUFuncOp createKernel(OpBuilder &b, Location loc, gpu::GPUModuleOp module,
                            StringRef name, ArrayRef<Type> argumentTypes,
                            int64_t threads);

} // namespace mlir::quilt::nvptx

#endif // QUILT_LIB_CONVERSION_QUILTTONVPTX_PTXBUILDER_H
