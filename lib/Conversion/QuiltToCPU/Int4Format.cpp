//===- Int4Format.cpp - int4 weights with group scales on CPU ---*- C++ -*-===//
//
// The `int4` compressed format family: dense `precision<i4, group<G> |
// channel | tensor [, zero_point]>` weights stored as nibbles (Int4Layout),
// packed and decoded exactly as the reference quantizes, and multiplied by
// the kernels of Int4Kernels.cpp: f32 activations (bf16 ones rounded by the
// caller), or int8 activations on vpdpbusd (W4A8).
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "Int4Kernels.h"
#include "KernelUtils.h"
#include "NativeLinear.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

static int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

std::optional<Int4Layout> Int4Layout::get(PackedType type) {
  PrecisionAttr precision = type.getPrecision();
  if (!precision.isInteger() || precision.getBitWidth() != 4 ||
      !type.getSparsity().isDense() || !type.getStructure().isDense())
    return std::nullopt;
  Int4Layout l;
  l.rows = type.getRows();
  l.cols = type.getCols();
  l.octets = (l.rows + kOctetRows - 1) / kOctetRows;
  l.units = (l.cols + kUnitCols - 1) / kUnitCols;
  switch (precision.getGranularity()) {
  case Granularity::Group:
    // A group must be whole code words.
    if (precision.getGroupSize() % kOctetRows != 0)
      return std::nullopt;
    l.groupOctets = precision.getGroupSize() / kOctetRows;
    break;
  case Granularity::Channel:
  case Granularity::Tensor:
    l.groupOctets = l.octets;
    break;
  case Granularity::None:
    return std::nullopt;
  }
  l.groups = l.octets / l.groupOctets;
  l.zeroPoint = precision.getZeroPoint();
  l.perTensor = precision.getGranularity() == Granularity::Tensor;
  l.scalesOffset = l.units * l.octets * kUnitCols * 4;
  l.zerosOffset = l.scalesOffset + alignTo64(l.groups * l.getPaddedCols() * 4);
  l.totalBytes = l.zerosOffset +
                 (l.zeroPoint ? alignTo64(l.groups * l.getPaddedCols()) : 0);
  return l;
}

namespace {

struct Views {
  Value codes;  // [units][octets][16][4] bytes
  Value scales; // [groups][cols] f32
  Value zeros;  // [groups][cols] u8, or null
};

Views viewBytes(OpBuilder &b, Location loc, Value bytes, const Int4Layout &l) {
  Views v;
  v.codes =
      viewAs(b, loc, bytes, 0,
             MemRefType::get({l.units, l.octets, Int4Layout::kUnitCols, 4},
                             b.getI8Type()));
  v.scales =
      viewAs(b, loc, bytes, l.scalesOffset,
             MemRefType::get({l.groups, l.getPaddedCols()}, b.getF32Type()));
  if (l.zeroPoint)
    v.zeros =
        viewAs(b, loc, bytes, l.zerosOffset,
               MemRefType::get({l.groups, l.getPaddedCols()}, b.getI8Type()));
  return v;
}

/// Scalar helpers for the packing loops, which run once per weight.
struct Scalar {
  OpBuilder &b;
  Location loc;
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value idx(int64_t v) { return indexConst(b, loc, v); }
  Value max(Value x, Value y) {
    return arith::MaximumFOp::create(b, loc, x, y);
  }
  Value min(Value x, Value y) {
    return arith::MinimumFOp::create(b, loc, x, y);
  }
  Value isZero(Value x) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, f32(0));
  }
  Value ult(Value x, int64_t y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, idx(y));
  }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
};

/// Statistics and scale parameters exactly as quilt_ref_fake_quant_int
/// computes them: scale = absmax / 7, or scale = (hi - lo) / 15 and
/// zp = clamp(roundeven(-lo / scale), 0, 15).
void emitScales(OpBuilder &b, Location loc, Value w, const Int4Layout &l,
                const Views &v) {
  Scalar s{b, loc};
  Value c0 = s.idx(0);
  int64_t groupRows = l.groupOctets * Int4Layout::kOctetRows;
  // hi (|w| for symmetric) in the scales section, -lo in a scratch buffer.
  Value hi = v.scales, negLo;
  linalg::FillOp::create(b, loc, ValueRange{s.f32(0)}, ValueRange{hi});
  if (l.zeroPoint) {
    negLo =
        memref::AllocOp::create(b, loc, cast<MemRefType>(v.scales.getType()),
                                ValueRange{}, b.getI64IntegerAttr(64));
    linalg::FillOp::create(b, loc, ValueRange{s.f32(0)}, ValueRange{negLo});
    linalg::FillOp::create(
        b, loc,
        ValueRange{arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0))},
        ValueRange{v.zeros});
  }
  auto update = [&](Value stat, Value g, Value n, Value x) {
    Value old = memref::LoadOp::create(b, loc, stat, ValueRange{g, n});
    memref::StoreOp::create(b, loc, s.max(old, x), stat, ValueRange{g, n});
  };
  forLoop(b, loc, c0, s.idx(l.rows), 1, [&](OpBuilder &, Location, Value k) {
    Value g = s.div(k, groupRows);
    forLoop(b, loc, c0, s.idx(l.cols), 1, [&](OpBuilder &, Location, Value n) {
      Value x = memref::LoadOp::create(b, loc, w, ValueRange{k, n});
      if (l.zeroPoint) {
        update(hi, g, n, x);
        update(negLo, g, n, arith::NegFOp::create(b, loc, x));
      } else {
        update(hi, g, n, math::AbsFOp::create(b, loc, x));
      }
    });
  });
  if (l.perTensor) {
    // One statistic for the whole tensor, replicated per column.
    for (Value stat : {hi, negLo}) {
      if (!stat)
        continue;
      auto loop = scf::ForOp::create(
          b, loc, c0, s.idx(l.cols), s.idx(1), ValueRange{s.f32(0)},
          [&](OpBuilder &, Location, Value n, ValueRange acc) {
            Value x = memref::LoadOp::create(b, loc, stat, ValueRange{c0, n});
            scf::YieldOp::create(b, loc, s.max(acc[0], x));
          });
      forLoop(b, loc, c0, s.idx(l.cols), 1,
              [&](OpBuilder &, Location, Value n) {
                memref::StoreOp::create(b, loc, loop.getResult(0), stat,
                                        ValueRange{c0, n});
              });
    }
  }
  forLoop(b, loc, c0, s.idx(l.groups), 1, [&](OpBuilder &, Location, Value g) {
    forLoop(b, loc, c0, s.idx(l.cols), 1, [&](OpBuilder &, Location, Value n) {
      Value h = memref::LoadOp::create(b, loc, hi, ValueRange{g, n});
      if (!l.zeroPoint) {
        Value scale = arith::DivFOp::create(b, loc, h, s.f32(7));
        memref::StoreOp::create(b, loc, scale, v.scales, ValueRange{g, n});
        return;
      }
      Value nl = memref::LoadOp::create(b, loc, negLo, ValueRange{g, n});
      Value range = arith::AddFOp::create(b, loc, h, nl);
      Value scale = arith::DivFOp::create(b, loc, range, s.f32(15));
      Value zp = math::RoundEvenOp::create(
          b, loc, arith::DivFOp::create(b, loc, nl, scale));
      zp = s.min(s.max(zp, s.f32(0)), s.f32(15));
      zp = arith::SelectOp::create(b, loc, s.isZero(scale), s.f32(0), zp);
      Value code = arith::FPToUIOp::create(b, loc, b.getI8Type(), zp);
      memref::StoreOp::create(b, loc, scale, v.scales, ValueRange{g, n});
      memref::StoreOp::create(b, loc, code, v.zeros, ValueRange{g, n});
    });
  });
}

class Int4Format final : public CompressedFormat {
public:
  StringRef getName() const override { return "int4"; }

  bool supports(PackedType type) const override {
    return Int4Layout::get(type).has_value();
  }

  bool handlesAct(PackedType type, PrecisionAttr act,
                  const CPUTarget &target) const override {
    return act.getElementType().isSignlessInteger(8) && !act.getZeroPoint() &&
           (act.getGranularity() == Granularity::Channel ||
            act.getGranularity() == Granularity::Tensor) &&
           target.hasVNNI;
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override {
    Int4Layout l = *Int4Layout::get(type);
    Scalar s{b, loc};
    Value w = toBuffer(b, loc, weight);
    Value bytes = allocBytes(b, loc, b.getIndexAttr(l.totalBytes));
    Views v = viewBytes(b, loc, bytes, l);
    emitScales(b, loc, w, l, v);

    int64_t groupRows = l.groupOctets * Int4Layout::kOctetRows;
    // The code of w[k, n]: q + 8, or q with the zero point added; the code
    // of 0 in the padding.
    auto code = [&](Value k, Value n) -> Value {
      Value valid =
          arith::AndIOp::create(b, loc, s.ult(k, l.rows), s.ult(n, l.cols));
      Value kc = arith::MinUIOp::create(b, loc, k, s.idx(l.rows - 1));
      Value nc = arith::MinUIOp::create(b, loc, n, s.idx(l.cols - 1));
      Value x = memref::LoadOp::create(b, loc, w, ValueRange{kc, nc});
      Value g = s.div(kc, groupRows);
      Value scale = memref::LoadOp::create(b, loc, v.scales, ValueRange{g, nc});
      Value q = math::RoundEvenOp::create(
          b, loc, arith::DivFOp::create(b, loc, x, scale));
      Value offset;
      if (l.zeroPoint) {
        Value zp = memref::LoadOp::create(b, loc, v.zeros, ValueRange{g, nc});
        q = arith::AddFOp::create(
            b, loc, q, arith::UIToFPOp::create(b, loc, b.getF32Type(), zp));
        q = s.min(s.max(q, s.f32(0)), s.f32(15));
        offset = s.i32(0);
      } else {
        q = s.min(s.max(q, s.f32(-8)), s.f32(7));
        offset = s.i32(8);
      }
      q = arith::SelectOp::create(b, loc, s.isZero(scale), s.f32(0), q);
      Value c = arith::AddIOp::create(
          b, loc, arith::FPToSIOp::create(b, loc, b.getI32Type(), q), offset);
      return arith::SelectOp::create(b, loc, valid, c,
                                     s.i32(l.zeroPoint ? 0 : 8));
    };
    Value c0 = s.idx(0);
    forLoop(b, loc, c0, s.idx(l.units), 1, [&](OpBuilder &, Location, Value u) {
      forLoop(
          b, loc, c0, s.idx(l.octets), 1, [&](OpBuilder &, Location, Value o) {
            forLoop(
                b, loc, c0, s.idx(4), 1,
                [&](OpBuilder &, Location, Value byte) {
                  forLoop(
                      b, loc, c0, s.idx(Int4Layout::kUnitCols), 1,
                      [&](OpBuilder &, Location, Value lane) {
                        Value n = arith::AddIOp::create(
                            b, loc,
                            arith::MulIOp::create(b, loc, u,
                                                  s.idx(Int4Layout::kUnitCols)),
                            lane);
                        Value k = arith::AddIOp::create(
                            b, loc, arith::MulIOp::create(b, loc, o, s.idx(8)),
                            byte);
                        Value low = code(k, n);
                        Value high =
                            code(arith::AddIOp::create(b, loc, k, s.idx(4)), n);
                        Value packed = arith::OrIOp::create(
                            b, loc, low,
                            arith::ShLIOp::create(b, loc, high, s.i32(4)));
                        memref::StoreOp::create(
                            b, loc,
                            arith::TruncIOp::create(b, loc, b.getI8Type(),
                                                    packed),
                            v.codes, ValueRange{u, o, lane, byte});
                      });
                });
          });
    });
    auto dynamic = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
    return toTensor(b, loc, memref::CastOp::create(b, loc, dynamic, bytes));
  }

  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override {
    Int4Layout l = *Int4Layout::get(type);
    Scalar s{b, loc};
    Views v = viewBytes(b, loc, toBuffer(b, loc, bytes), l);
    auto denseType = MemRefType::get({l.rows, l.cols}, b.getF32Type());
    Value w = memref::AllocOp::create(b, loc, denseType, ValueRange{},
                                      b.getI64IntegerAttr(64));
    int64_t groupRows = l.groupOctets * Int4Layout::kOctetRows;
    Value c0 = s.idx(0);
    forLoop(b, loc, c0, s.idx(l.rows), 1, [&](OpBuilder &, Location, Value k) {
      Value o = s.div(k, 8), j = s.rem(k, 8);
      Value byteIdx = s.rem(j, 4);
      Value shift = arith::IndexCastOp::create(
          b, loc, b.getI32Type(),
          arith::MulIOp::create(b, loc, s.div(j, 4), s.idx(4)));
      Value g = s.div(k, groupRows);
      forLoop(
          b, loc, c0, s.idx(l.cols), 1, [&](OpBuilder &, Location, Value n) {
            Value byte = memref::LoadOp::create(
                b, loc, v.codes,
                ValueRange{s.div(n, 16), o, s.rem(n, 16), byteIdx});
            Value c = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
            c = arith::AndIOp::create(
                b, loc, arith::ShRUIOp::create(b, loc, c, shift), s.i32(15));
            Value q;
            if (l.zeroPoint) {
              Value zp =
                  memref::LoadOp::create(b, loc, v.zeros, ValueRange{g, n});
              q = arith::SubFOp::create(
                  b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), c),
                  arith::UIToFPOp::create(b, loc, b.getF32Type(), zp));
            } else {
              q = arith::SIToFPOp::create(
                  b, loc, b.getF32Type(),
                  arith::SubIOp::create(b, loc, c, s.i32(8)));
            }
            Value scale =
                memref::LoadOp::create(b, loc, v.scales, ValueRange{g, n});
            Value x = arith::MulFOp::create(b, loc, q, scale);
            x = arith::SelectOp::create(b, loc, s.isZero(scale), s.f32(0), x);
            memref::StoreOp::create(b, loc, x, w, ValueRange{k, n});
          });
    });
    return toTensor(b, loc, w);
  }

  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override {
    Int4Layout l = *Int4Layout::get(linear.weight);
    Value xBuffer = toBuffer(b, loc, x);
    Value biasBuffer = bias ? toBuffer(b, loc, bias) : Value();
    if (!linear.target.hasAVX512 && linear.act) {
      // W4A8 needs AVX-512 VNNI: elsewhere the weight is decoded and
      // multiplied by the f32 GEMM.
      Value dense = toBuffer(b, loc, buildUnpack(b, loc, linear.weight, bytes));
      CPUWeightLayout f32 =
          CPUWeightLayout::make(CPUWeightEncoding::F32, l.rows, l.cols);
      Value panels = allocBytes(b, loc, b.getIndexAttr(f32.totalBytes));
      emitWeightPacking(b, loc, dense, panels, 0, f32);
      GemmConfig config{GemmKind::F32, f32, linear.staticM, linear.threads,
                        getMaxTileRows(linear.target)};
      return toTensor(b, loc,
                      emitNativeLinear(b, loc, config, KernelChoice(), xBuffer,
                                       panels, 0, biasBuffer));
    }
    Int4Linear kernel;
    kernel.layout = l;
    kernel.dotI8 = bool(linear.act);
    kernel.perTensorAct =
        linear.act && linear.act.getGranularity() == Granularity::Tensor;
    kernel.wideRegisters = linear.target.hasAVX512;
    kernel.staticM = linear.staticM;
    kernel.threads = linear.threads;
    return toTensor(b, loc,
                    emitInt4Linear(b, loc, kernel, xBuffer,
                                   toBuffer(b, loc, bytes), biasBuffer));
  }
};

} // namespace

const CompressedFormat &cpu::getInt4Format() {
  static const Int4Format format;
  return format;
}
