//===- Int8Kernels.cpp - int8 quantization kernels on the GPU ---*- C++ -*-===//
//
// The kernels around the int8 GEMM (W8A8: `quilt.linear %x, %w act <i8,
// channel>` over a `precision<i8, channel>` weight): the weight's
// per-column scales and values once at setup, and x's per-row scales and
// values before every product. Both quantize as the reference does,
// symmetric with round-half-even: scale = max |v| / 127, q = clamp(
// roundeven(v / scale), -128, 127), q = 0 where the scale is 0. The GEMM
// itself is the dense kernel (DenseMmaKernel.cpp) on int8 operands, whose
// epilogue multiplies the exact i32 sums by both scales.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

static constexpr int64_t kThreads = 256;

static Value absolute(PtxBuilder &ptx, Value v) {
  return arith::MaximumFOp::create(ptx.b, v, arith::NegFOp::create(ptx.b, v));
}

/// max |v| / 127 in f32, the reference's order of operations.
static Value scaleOf(PtxBuilder &ptx, Value absMax) {
  return arith::DivFOp::create(ptx.b, absMax, ptx.cf32(127.0f));
}

/// The int8 code of `v` (as i32) under `scale`.
static Value quantize(PtxBuilder &ptx, Value v, Value scale) {
  ImplicitLocOpBuilder &b = ptx.b;
  Value rounded = ptx.roundEven(arith::DivFOp::create(b, v, scale));
  Value clamped = arith::MinimumFOp::create(
      b, arith::MaximumFOp::create(b, rounded, ptx.cf32(-128.0f)),
      ptx.cf32(127.0f));
  Value zeroScale = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, scale,
                                          ptx.cf32(0.0f));
  return ptx.select(zeroScale, ptx.c32(0),
                    arith::FPToSIOp::create(b, ptx.i32, clamped));
}

/// Four int8 codes (i32 each) as one little-endian word.
static Value packBytes(PtxBuilder &ptx, ArrayRef<Value> codes) {
  Value word = ptx.c32(0);
  for (auto [i, q] : llvm::enumerate(codes))
    word = ptx.orI(word, ptx.shl(ptx.andI(q, 255), 8 * i));
  return word;
}

/// The global thread index of a 1-d launch of kThreads-thread CTAs.
static Value globalThread(PtxBuilder &ptx) {
  return ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kThreads),
                 ptx.threadId());
}

static Value scalesBase(PtxBuilder &ptx, Value packed,
                        const Int8Layout &layout) {
  return ptx.offset(packed, arith::ConstantIntOp::create(
                                ptx.b, ptx.i64, layout.getScalesOffset()));
}

static Value loadDense(PtxBuilder &ptx, Value dense, Value row, Value col,
                       int64_t n) {
  return ptx.load(
      ptx.f32,
      ptx.offset(dense, ptx.byteOffset(ptx.add(ptx.mul(row, n), col), 4)), 4);
}

KernelLaunch mlir::quilt::nvptx::buildInt8ScalesKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const Int8Layout &layout, ArrayRef<Type> argumentTypes) {
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per column of the K x N weight (a row of the layout).
  int64_t n = layout.rows, k = layout.k;
  Value col = globalThread(ptx);
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  ptx.ifThen(ptx.ult(col, n), [&] {
    SmallVector<Value> absMax = ptx.forLoop(
        ptx.c32(0), ptx.c32(k), 1, {ptx.cf32(0.0f)},
        [&](Value row, ValueRange carried) -> SmallVector<Value> {
          Value w = loadDense(ptx, dense, row, col, n);
          return {arith::MaximumFOp::create(b, carried[0], absolute(ptx, w))};
        });
    ptx.store(
        scaleOf(ptx, absMax[0]),
        ptx.offset(scalesBase(ptx, packed, layout), ptx.byteOffset(col, 4)), 4);
  });
  gpu::ReturnOp::create(b);
  return {func, {int64_t(llvm::divideCeil(n, kThreads)), 1, 1}, kThreads, 0};
}

KernelLaunch mlir::quilt::nvptx::buildInt8PackKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const Int8Layout &layout, ArrayRef<Type> argumentTypes) {
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per 32-bit word of W^T[N][K]: four consecutive K rows of
  // one column.
  int64_t n = layout.rows, k = layout.k, words = n * k / 4;
  Value index = globalThread(ptx);
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  ptx.ifThen(ptx.ult(index, words), [&] {
    Value col = ptx.div(index, k / 4);
    Value row = ptx.mul(ptx.rem(index, k / 4), 4);
    Value scale = ptx.load(
        ptx.f32,
        ptx.offset(scalesBase(ptx, packed, layout), ptx.byteOffset(col, 4)), 4);
    SmallVector<Value, 4> codes;
    for (int64_t i = 0; i < 4; ++i)
      codes.push_back(
          quantize(ptx, loadDense(ptx, dense, ptx.add(row, i), col, n), scale));
    ptx.store(packBytes(ptx, codes),
              ptx.offset(packed, ptx.byteOffset(index, 4)), 4);
  });
  gpu::ReturnOp::create(b);
  return {
      func, {int64_t(llvm::divideCeil(words, kThreads)), 1, 1}, kThreads, 0};
}

KernelLaunch mlir::quilt::nvptx::buildQuantizeRowsKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const Int8Layout &layout, Type xElement, ArrayRef<Type> argumentTypes) {
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One warp per row; lane L handles the 4 values from 4 (32 i + L) on in
  // iteration i, so loads and the word stores are coalesced. K % 4 == 0.
  constexpr int64_t kWarps = kThreads / 32;
  int64_t m = layout.rows, k = layout.k;
  int64_t width = xElement.getIntOrFloatBitWidth() / 8;
  Value lane = ptx.rem(ptx.threadId(), 32);
  Value row = ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kWarps),
                      ptx.div(ptx.threadId(), 32));
  Value x = ptx.globalBase(func.getArgument(0));
  Value quantized = ptx.globalBase(func.getArgument(1));
  int64_t iterations = llvm::divideCeil(k, 128);
  Type vectorType = VectorType::get({4}, xElement);

  // Calls `body` with the first index and the four values of this lane's
  // chunk in iteration i, if the chunk is inside the row.
  auto forChunk = [&](Value i, function_ref<void(Value, Value)> body) {
    Value first = ptx.mul(ptx.add(ptx.mul(i, 32), lane), 4);
    ptx.ifThen(ptx.ult(first, k), [&] {
      Value index = ptx.add(ptx.mul(row, k), first);
      body(first,
           ptx.load(vectorType, ptx.offset(x, ptx.byteOffset(index, width)),
                    4 * width));
    });
  };
  auto element = [&](Value vector, int64_t i) {
    return ptx.toF32(LLVM::ExtractElementOp::create(b, vector, ptx.c32(i)));
  };

  // The row index is the same for the whole warp, so every lane reaches
  // the shuffles.
  ptx.ifThen(ptx.ult(row, m), [&] {
    SmallVector<Value> absMax = ptx.forLoop(
        ptx.c32(0), ptx.c32(iterations), 1, {ptx.cf32(0.0f)},
        [&](Value i, ValueRange carried) -> SmallVector<Value> {
          // Lanes past K read the row's first chunk and mask its maximum
          // (an scf.if without results could not yield it).
          Value first = ptx.mul(ptx.add(ptx.mul(i, 32), lane), 4);
          Value valid = ptx.ult(first, k);
          Value safe = ptx.select(valid, first, ptx.c32(0));
          Value vector = ptx.load(
              vectorType,
              ptx.offset(x,
                         ptx.byteOffset(ptx.add(ptx.mul(row, k), safe), width)),
              4 * width);
          Value chunkMax = ptx.cf32(0.0f);
          for (int64_t e = 0; e < 4; ++e)
            chunkMax = arith::MaximumFOp::create(
                b, chunkMax, absolute(ptx, element(vector, e)));
          chunkMax = ptx.select(valid, chunkMax, ptx.cf32(0.0f));
          return {arith::MaximumFOp::create(b, carried[0], chunkMax)};
        });
    Value rowMax = absMax[0];
    for (int64_t mask = 16; mask >= 1; mask /= 2)
      rowMax =
          arith::MaximumFOp::create(b, rowMax, ptx.shuffleXor(rowMax, mask));
    Value scale = scaleOf(ptx, rowMax);
    ptx.forLoop(ptx.c32(0), ptx.c32(iterations), 1, {},
                [&](Value i, ValueRange) -> SmallVector<Value> {
                  forChunk(i, [&](Value first, Value vector) {
                    SmallVector<Value, 4> codes;
                    for (int64_t e = 0; e < 4; ++e)
                      codes.push_back(quantize(ptx, element(vector, e), scale));
                    Value index = ptx.add(ptx.mul(row, k), first);
                    ptx.store(packBytes(ptx, codes),
                              ptx.offset(quantized, ptx.byteOffset(index, 1)),
                              4);
                  });
                  return {};
                });
    ptx.ifThen(ptx.ult(lane, 1), [&] {
      ptx.store(scale,
                ptx.offset(scalesBase(ptx, quantized, layout),
                           ptx.byteOffset(row, 4)),
                4);
    });
  });
  gpu::ReturnOp::create(b);
  return {func, {int64_t(llvm::divideCeil(m, kWarps)), 1, 1}, kThreads, 0};
}
