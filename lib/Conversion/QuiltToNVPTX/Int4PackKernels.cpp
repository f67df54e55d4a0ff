//===- Int4PackKernels.cpp - int4 weight packing on the GPU -----*- C++ -*-===//
//
// The setup kernels of int4 weights with group scales: the scales (max |w|
// / 7 per group and column, as the reference), then the quantized nibbles
// in the order the GEMM (Int4MmaKernel.cpp) reads them.
//
// Nibble layout: for every 16-column tile j and 64-deep K block, 32 lanes
// x 16 bytes; lane L = 4g + t's word kk holds the 8 int4 values (+8,
// unsigned) of its mma A fragment for K step kk, ordered so that
// `(word >> 4r) & 0x000f000f` is fragment register r as two f16 mantissas.
// K is permuted inside a block, the same way for x and W (a dot product
// does not care about the order of its terms): mma step kk's k index
// 2t + 8j + e of lane t is K row 32 (kk / 2) + 8t + 4 (kk % 2) + 2j + e.
// Lane t's x operands for the block are then two 16-byte loads, of rows
// 8t.. and 32 + 8t..: each load of a warp reads 64 consecutive bytes of
// each of its tokens, whole 32-byte sectors. (Rows 16t..16t+15 per lane,
// the earlier order, made every load touch twice the sectors it used.)
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

static Value f32Const(PtxBuilder &ptx, float value) {
  return arith::ConstantFloatOp::create(ptx.b, ptx.b.getF32Type(),
                                        APFloat(value));
}

static Value i64Const(PtxBuilder &ptx, int64_t value) {
  return arith::ConstantIntOp::create(ptx.b, ptx.i64, value);
}

KernelLaunch mlir::quilt::nvptx::buildInt4ScalesKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const Int4Layout &layout, ArrayRef<Type> argumentTypes) {
  constexpr int64_t kThreads = 256;
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per (group, column): scale = max |w| / 7, as the reference.
  int64_t count = (layout.k / layout.group) * layout.paddedN();
  Value index = ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kThreads),
                        ptx.threadId());
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  Value scratch = ptx.globalBase(func.getArgument(2));
  ptx.ifThen(ptx.ult(index, count), [&] {
    Value group = ptx.div(index, layout.paddedN());
    Value col = ptx.rem(index, layout.paddedN());
    Value colOk = ptx.ult(col, layout.n);
    Value safeCol = ptx.select(colOk, col, ptx.c32(0));
    SmallVector<Value> result = ptx.forLoop(
        ptx.c32(0), ptx.c32(layout.group), 1, {f32Const(ptx, 0.0f)},
        [&](Value i, ValueRange carried) -> SmallVector<Value> {
          Value row = ptx.add(ptx.mul(group, layout.group), i);
          Value w = ptx.load(
              ptx.f32,
              ptx.offset(
                  dense,
                  ptx.byteOffset(ptx.add(ptx.mul(row, layout.n), safeCol), 4)),
              4);
          Value magnitude =
              arith::MaximumFOp::create(b, w, arith::NegFOp::create(b, w));
          return {arith::MaximumFOp::create(b, carried[0], magnitude)};
        });
    Value scale = arith::DivFOp::create(b, result[0], f32Const(ptx, 7.0f));
    scale = ptx.select(colOk, scale, f32Const(ptx, 0.0f));
    ptx.store(scale, ptx.offset(scratch, ptx.byteOffset(index, 4)), 4);
    // The GEMM's copy: f16, tile-major, (g, g + 8) pairs.
    Value inTile = ptx.rem(col, 16);
    Value slot =
        ptx.add(ptx.mul(ptx.add(ptx.mul(group, layout.paddedN() / 16),
                                ptx.div(col, 16)),
                        16),
                ptx.add(ptx.mul(ptx.rem(inTile, 8), 2), ptx.div(inTile, 8)));
    ptx.store(ptx.fromF32(scale, b.getF16Type()),
              ptx.offset(packed, arith::AddIOp::create(
                                     b, ptx.byteOffset(slot, 2),
                                     i64Const(ptx, layout.getScalesOffset()))),
              2);
  });
  gpu::ReturnOp::create(b);
  return {
      func, {int64_t(llvm::divideCeil(count, kThreads)), 1, 1}, kThreads, 0};
}

KernelLaunch mlir::quilt::nvptx::buildInt4PackKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const Int4Layout &layout, ArrayRef<Type> argumentTypes) {
  constexpr int64_t kThreads = 256;
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per 32-bit word: ((tile * kBlocks + kBlock) * 32 + lane) * 4
  // + kStep.
  int64_t kBlocks = layout.k / 64;
  int64_t words = (layout.paddedN() / 16) * kBlocks * 32 * 4;
  Value index = ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kThreads),
                        ptx.threadId());
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  Value scratch = ptx.globalBase(func.getArgument(2));
  ptx.ifThen(ptx.ult(index, words), [&] {
    Value kStep = ptx.rem(index, 4);
    Value lane = ptx.rem(ptx.div(index, 4), 32);
    Value kBlock = ptx.rem(ptx.div(index, 128), kBlocks);
    Value tile = ptx.div(index, 128 * kBlocks);
    Value g = ptx.div(lane, 4), t = ptx.rem(lane, 4);
    Value word = ptx.c32(0);
    // Nibble p: fragment register r = p % 4 (rows g / g + 8 alternate, then
    // the k + 8 half, j), element e = p / 4 (k + 1).
    for (int64_t p = 0; p < 8; ++p) {
      int64_t r = p % 4, e = p / 4;
      Value col = ptx.add(ptx.add(ptx.mul(tile, 16), g), (r % 2) * 8);
      Value row =
          ptx.add(ptx.add(ptx.mul(kBlock, 64), ptx.mul(ptx.div(kStep, 2), 32)),
                  ptx.add(ptx.add(ptx.mul(t, 8), ptx.mul(ptx.rem(kStep, 2), 4)),
                          (r / 2) * 2 + e));
      Value colOk = ptx.ult(col, layout.n);
      Value safeCol = ptx.select(colOk, col, ptx.c32(0));
      Value w = ptx.load(
          ptx.f32,
          ptx.offset(dense, ptx.byteOffset(
                                ptx.add(ptx.mul(row, layout.n), safeCol), 4)),
          4);
      Value scaleIndex =
          ptx.add(ptx.mul(ptx.div(row, layout.group), layout.paddedN()), col);
      Value scale = ptx.load(
          ptx.f32, ptx.offset(scratch, ptx.byteOffset(scaleIndex, 4)), 4);
      // q = clamp(round-half-even(w / scale), -8, 7); a zero scale is a
      // zero group.
      Value rounded = ptx.roundEven(arith::DivFOp::create(b, w, scale));
      Value clamped = arith::MinimumFOp::create(
          b, arith::MaximumFOp::create(b, rounded, f32Const(ptx, -8.0f)),
          f32Const(ptx, 7.0f));
      Value zero = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, scale,
                                         f32Const(ptx, 0.0f));
      Value q = arith::FPToSIOp::create(b, ptx.i32, clamped);
      q = ptx.select(
          ptx.andB(colOk,
                   arith::XOrIOp::create(
                       b, zero, arith::ConstantIntOp::create(b, ptx.i1, 1))),
          q, ptx.c32(0));
      Value nibble = ptx.andI(ptx.add(q, 8), 15);
      word = ptx.orI(word, ptx.shl(nibble, 4 * (r + 4 * e)));
    }
    ptx.store(word, ptx.offset(packed, ptx.byteOffset(index, 4)), 4);
  });
  gpu::ReturnOp::create(b);
  return {
      func, {int64_t(llvm::divideCeil(words, kThreads)), 1, 1}, kThreads, 0};
}
