//===- Int4MmaKernel.cpp - Tensor-core GEMM for int4 weights ----*- C++ -*-===//
//
// Weight-only int4 with group scales for few activation rows, the decode
// case that is bound by weight bytes (Marlin's problem). The product is
// computed transposed, y^T = W^T x^T, so the weight is the mma A operand
// and 16 output columns fill the 16 mma rows even when M = 1.
//
// Packed layout (written by the pack kernels below): for every 16-column
// tile j and 64-deep K block, 32 lanes x 16 bytes; lane L's word kk holds
// the 8 int4 values (+8, unsigned) of its mma A fragment for K step kk,
// ordered so that `(word >> 4r) & 0x000f000f` is fragment register r as
// two f16 mantissas. A warp reads each 512-byte block with one coalesced
// 16-byte load per lane and dequantizes in registers: or 0x6400 (1024 +
// q), subtract 1032, multiply by the f16 group scale. Scales follow as f32
// [K / group][N rounded up to 16].
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <map>

using namespace mlir;
using namespace mlir::quilt::nvptx;

int64_t Int4Layout::getScalesOffset() const { return paddedN() * k / 2; }
int64_t Int4Layout::getTotalBytes() const {
  return getScalesOffset() + (k / group) * paddedN() * 4;
}

namespace {

Value f32Const(PtxBuilder &ptx, float value) {
  return arith::ConstantFloatOp::create(ptx.b, ptx.b.getF32Type(),
                                        APFloat(value));
}

} // namespace

//===----------------------------------------------------------------------===//
// Packing (setup)
//===----------------------------------------------------------------------===//

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
  ptx.ifThen(ptx.ult(index, count), [&] {
    Value group = ptx.div(index, layout.paddedN());
    Value col = ptx.rem(index, layout.paddedN());
    Value absMax = f32Const(ptx, 0.0f);
    Value colOk = ptx.ult(col, layout.n);
    Value safeCol = ptx.select(colOk, col, ptx.c32(0));
    SmallVector<Value> result = ptx.forLoop(
        ptx.c32(0), ptx.c32(layout.group), 1, {absMax},
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
    ptx.store(
        scale,
        ptx.offset(packed, ptx.add(ptx.byteOffset(index, 4),
                                   arith::ConstantIntOp::create(
                                       b, ptx.i64, layout.getScalesOffset()))),
        4);
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
  ptx.ifThen(ptx.ult(index, words), [&] {
    Value kStep = ptx.rem(index, 4);
    Value lane = ptx.rem(ptx.div(index, 4), 32);
    Value kBlock = ptx.rem(ptx.div(index, 128), kBlocks);
    Value tile = ptx.div(index, 128 * kBlocks);
    Value g = ptx.div(lane, 4), t = ptx.rem(lane, 4);
    Value word = ptx.c32(0);
    // Nibble p: fragment register r = p % 4 (rows g / g + 8 alternate, then
    // K + 8), half p / 4 (K + 1).
    for (int64_t p = 0; p < 8; ++p) {
      int64_t r = p % 4, half = p / 4;
      Value col = ptx.add(ptx.add(ptx.mul(tile, 16), g), (r % 2) * 8);
      Value row = ptx.add(ptx.add(ptx.mul(kBlock, 64), ptx.mul(kStep, 16)),
                          ptx.add(ptx.mul(t, 2), (r / 2) * 8 + half));
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
          ptx.f32,
          ptx.offset(packed, arith::AddIOp::create(
                                 b, ptx.byteOffset(scaleIndex, 4),
                                 arith::ConstantIntOp::create(
                                     b, ptx.i64, layout.getScalesOffset()))),
          4);
      // q = clamp(round-half-even(w / scale), -8, 7); a zero scale is a
      // zero group.
      Value ratio = arith::DivFOp::create(b, w, scale);
      // cvt.rni: round to nearest even (llvm.roundeven would become a
      // libdevice call under gpu-to-nvvm).
      Value rounded =
          LLVM::InlineAsmOp::create(b, ptx.f32, ValueRange{ratio},
                                    "cvt.rni.f32.f32 $0, $1;", "=f,f", false,
                                    false, LLVM::TailCallKind::None,
                                    LLVM::AsmDialectAttr(), ArrayAttr())
              .getResult(0);
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
      word = ptx.orI(word, ptx.shl(nibble, 4 * (r + 4 * half)));
    }
    ptx.store(word, ptx.offset(packed, ptx.byteOffset(index, 4)), 4);
  });
  gpu::ReturnOp::create(b);
  return {
      func, {int64_t(llvm::divideCeil(words, kThreads)), 1, 1}, kThreads, 0};
}

//===----------------------------------------------------------------------===//
// The GEMM
//===----------------------------------------------------------------------===//

KernelLaunch mlir::quilt::nvptx::buildInt4MmaKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    int64_t m, const Int4Layout &layout, const Epilogue &epilogue,
    ArrayRef<Type> argumentTypes) {
  // Each warp owns kTiles 16-column tiles over 1 / splitK of K; a CTA's
  // splitK warps share the tiles and add their partial sums in shared
  // memory. kAhead K blocks of weights are in flight per warp.
  constexpr int64_t kTiles = 4, kAhead = 4;
  int64_t kBlocks = layout.k / 64;
  int64_t splitK = 1;
  for (int64_t s : {4, 2})
    if (kBlocks % s == 0 && (kBlocks / s * 64) % layout.group == 0) {
      splitK = s;
      break;
    }
  int64_t perWarp = kBlocks / splitK;
  int64_t halves = m > 8 ? 2 : 1;
  int64_t nTiles = layout.paddedN() / 16;
  int64_t threads = 32 * splitK;

  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, threads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  Type f16 = b.getF16Type();
  Type halfPair = VectorType::get({2}, f16);

  Value tid = ptx.threadId();
  Value lane = ptx.rem(tid, 32), warp = ptx.div(tid, 32);
  Value g = ptx.div(lane, 4), t = ptx.rem(lane, 4);
  Value m0 = ptx.mul(ptx.blockId(gpu::Dimension::y), 16);
  Value firstTile = ptx.mul(ptx.blockId(gpu::Dimension::x), kTiles);
  Value x = ptx.globalBase(func.getArgument(0));
  Value w = ptx.globalBase(func.getArgument(1));
  EpilogueOperands out;
  unsigned next = 2;
  if (epilogue.biasType)
    out.bias = ptx.globalBase(func.getArgument(next++));
  if (epilogue.residual)
    out.residual = ptx.globalBase(func.getArgument(next++));
  out.output = ptx.globalBase(func.getArgument(next));

  Value firstBlock = ptx.mul(warp, perWarp);
  SmallVector<Value> tiles;
  for (int64_t ti = 0; ti < kTiles; ++ti) {
    Value tile = ptx.add(firstTile, ti);
    // Tiles past the end load the last tile; their columns are >= N and
    // are never stored.
    tiles.push_back(ptx.minU(tile, ptx.c32(nTiles - 1)));
  }
  auto loadWeights = [&](int64_t i) {
    SmallVector<Value> words;
    for (Value tile : tiles) {
      Value block = ptx.add(ptx.mul(tile, kBlocks), ptx.add(firstBlock, i));
      Value offset = ptx.add(ptx.mul(block, 32), lane);
      words.push_back(ptx.load(VectorType::get({4}, ptx.i32),
                               ptx.offset(w, ptx.byteOffset(offset, 16)), 16));
    }
    return words;
  };
  SmallVector<SmallVector<Value>> inFlight;
  for (int64_t i = 0; i < std::min(kAhead, perWarp); ++i)
    inFlight.push_back(loadWeights(i));

  Value zero = f32Const(ptx, 0.0f);
  SmallVector<Value> acc(kTiles * halves * 4, zero);
  Value bias1032 = arith::ConstantOp::create(
      b, DenseElementsAttr::get(cast<ShapedType>(halfPair),
                                APFloat(APFloat::IEEEhalf(), "1032")));
  // (tile, group) -> scales of columns g and g + 8, as f16 pairs.
  std::map<std::pair<int64_t, int64_t>, std::array<Value, 2>> scales;
  Value kFirst = ptx.mul(firstBlock, 64);
  for (int64_t i = 0; i < perWarp; ++i) {
    if (i + kAhead < perWarp)
      inFlight.push_back(loadWeights(i + kAhead));
    SmallVector<Value> words = inFlight[i];
    for (int64_t kk = 0; kk < 4; ++kk) {
      int64_t kLocal = i * 64 + kk * 16;
      Value k0 = ptx.add(kFirst, kLocal);
      // x^T fragments: tokens h * 8 + g, K pairs 2t and 2t + 8.
      SmallVector<std::array<Value, 2>> bFrags;
      for (int64_t h = 0; h < halves; ++h) {
        Value token = ptx.add(m0, h * 8);
        token = ptx.add(token, g);
        Value ok = ptx.ult(token, m);
        Value safe = ptx.select(ok, token, ptx.c32(0));
        std::array<Value, 2> frag;
        for (int64_t j = 0; j < 2; ++j) {
          Value element = ptx.add(ptx.add(ptx.mul(safe, layout.k), k0),
                                  ptx.add(ptx.mul(t, 2), j * 8));
          Value word =
              ptx.load(ptx.i32, ptx.offset(x, ptx.byteOffset(element, 2)), 4);
          frag[j] = ptx.select(ok, word, ptx.c32(0));
        }
        bFrags.push_back(frag);
      }
      for (int64_t ti = 0; ti < kTiles; ++ti) {
        int64_t group = kLocal / layout.group;
        auto &scale = scales[{ti, group}];
        if (!scale[0]) {
          Value kGroup = ptx.div(k0, layout.group);
          for (int64_t r = 0; r < 2; ++r) {
            Value col = ptx.add(ptx.add(ptx.mul(tiles[ti], 16), g), r * 8);
            Value index = ptx.add(ptx.mul(kGroup, layout.paddedN()), col);
            Value value = ptx.load(
                ptx.f32,
                ptx.offset(w, arith::AddIOp::create(
                                  b, ptx.byteOffset(index, 4),
                                  arith::ConstantIntOp::create(
                                      b, ptx.i64, layout.getScalesOffset()))),
                4);
            Value half = ptx.fromF32(value, f16);
            scale[r] = ptx.unpackPair(ptx.packPair(half, half), f16);
          }
        }
        Value word = LLVM::ExtractElementOp::create(b, words[ti], ptx.c32(kk));
        SmallVector<Value> a;
        for (int64_t r = 0; r < 4; ++r) {
          Value bits = ptx.orI(ptx.andI(ptx.shr(word, 4 * r), 0x000f000f),
                               ptx.c32(0x64006400));
          Value pair = LLVM::BitcastOp::create(b, halfPair, bits);
          pair = arith::SubFOp::create(b, pair, bias1032);
          pair = arith::MulFOp::create(b, pair, scale[r % 2]);
          a.push_back(LLVM::BitcastOp::create(b, ptx.i32, pair));
        }
        for (int64_t h = 0; h < halves; ++h) {
          int64_t base = (ti * halves + h) * 4;
          SmallVector<Value, 4> d =
              ptx.mma16816(MmaElement::F16, a, bFrags[h],
                           ArrayRef<Value>(acc).slice(base, 4));
          std::copy(d.begin(), d.end(), acc.begin() + base);
        }
      }
    }
  }

  // Partial sums of the splitK warps meet in shared memory; warp 0 adds
  // them and runs the epilogue.
  if (splitK > 1) {
    Value shared = ptx.sharedBase(module);
    auto slot = [&](Value warpIndex, int64_t i) {
      return ptx.offset(shared,
                        ptx.mul(ptx.add(ptx.mul(warpIndex, acc.size() * 32),
                                        ptx.add(ptx.c32(i * 32), lane)),
                                4));
    };
    for (int64_t i = 0; i < int64_t(acc.size()); ++i)
      ptx.store(acc[i], slot(warp, i), 4);
    ptx.barrier();
    for (int64_t i = 0; i < int64_t(acc.size()); ++i)
      for (int64_t s = 1; s < splitK; ++s)
        acc[i] = arith::AddFOp::create(
            b, acc[i], ptx.load(ptx.f32, slot(ptx.c32(s), i), 4));
  }
  ptx.ifThen(ptx.ult(warp, 1), [&] {
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
  int64_t sharedBytes = splitK > 1 ? splitK * int64_t(acc.size()) * 32 * 4 : 0;
  return {func,
          {int64_t(llvm::divideCeil(nTiles, kTiles)),
           int64_t(llvm::divideCeil(m, 16)), 1},
          threads,
          sharedBytes};
}
