//===- Epilogue.cpp - Fused epilogues of the NVPTX kernels ------*- C++ -*-===//
//
// Bias, activation and residual applied to accumulators in registers, then
// rounded and stored: the element-wise ops after a linear cost no pass over
// memory of their own.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

static Value f32Const(PtxBuilder &ptx, double value) {
  return arith::ConstantFloatOp::create(ptx.b, ptx.b.getF32Type(),
                                        APFloat(float(value)));
}

/// e^x as 2^(x log2 e) with one ex2.approx (relative error 2^-22): math.exp
/// and llvm.exp2 would become libdevice calls, and kernels link no library.
static Value exp(PtxBuilder &ptx, Value x) {
  Value scaled = arith::MulFOp::create(ptx.b, x, f32Const(ptx, M_LOG2E));
  auto op = LLVM::InlineAsmOp::create(
      ptx.b, ptx.f32, ValueRange{scaled}, "ex2.approx.ftz.f32 $0, $1;", "=f,f",
      /*has_side_effects=*/false, /*is_align_stack=*/false,
      LLVM::TailCallKind::None, /*asm_dialect=*/LLVM::AsmDialectAttr(),
      /*operand_attrs=*/ArrayAttr());
  return op.getResult(0);
}

/// |x| and sign(x) * magnitude by bit operations (llvm.fabs / copysign are
/// illegal under gpu-to-nvvm, which maps them to libdevice).
static Value signBits(PtxBuilder &ptx, Value x) {
  Value bits = arith::BitcastOp::create(ptx.b, ptx.i32, x);
  return arith::AndIOp::create(ptx.b, bits, ptx.c32(0x80000000LL));
}
static Value absolute(PtxBuilder &ptx, Value x) {
  Value bits = arith::BitcastOp::create(ptx.b, ptx.i32, x);
  return arith::BitcastOp::create(
      ptx.b, ptx.f32, arith::AndIOp::create(ptx.b, bits, ptx.c32(0x7fffffff)));
}

/// 1 / (1 + e^-x).
static Value sigmoid(PtxBuilder &ptx, Value x) {
  Value negated = arith::NegFOp::create(ptx.b, x);
  Value denominator =
      arith::AddFOp::create(ptx.b, f32Const(ptx, 1.0), exp(ptx, negated));
  return arith::DivFOp::create(ptx.b, f32Const(ptx, 1.0), denominator);
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below the f32
/// accumulation error of any K the kernels see).
static Value erf(PtxBuilder &ptx, Value x) {
  ImplicitLocOpBuilder &b = ptx.b;
  Value ax = absolute(ptx, x);
  Value t = arith::DivFOp::create(
      b, f32Const(ptx, 1.0),
      arith::AddFOp::create(
          b, f32Const(ptx, 1.0),
          arith::MulFOp::create(b, f32Const(ptx, 0.3275911), ax)));
  const double coefficients[] = {1.061405429, -1.453152027, 1.421413741,
                                 -0.284496736, 0.254829592};
  Value poly = f32Const(ptx, coefficients[0]);
  for (double c : ArrayRef<double>(coefficients).drop_front())
    poly = arith::AddFOp::create(b, arith::MulFOp::create(b, poly, t),
                                 f32Const(ptx, c));
  poly = arith::MulFOp::create(b, poly, t);
  Value gauss =
      exp(ptx, arith::NegFOp::create(b, arith::MulFOp::create(b, ax, ax)));
  Value magnitude = arith::SubFOp::create(
      b, f32Const(ptx, 1.0), arith::MulFOp::create(b, poly, gauss));
  Value magnitudeBits = arith::BitcastOp::create(b, ptx.i32, magnitude);
  return arith::BitcastOp::create(
      b, ptx.f32, arith::OrIOp::create(b, magnitudeBits, signBits(ptx, x)));
}

Value mlir::quilt::nvptx::applyActivation(PtxBuilder &ptx,
                                          Activation activation, Value x) {
  ImplicitLocOpBuilder &b = ptx.b;
  switch (activation) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return arith::MaximumFOp::create(b, x, f32Const(ptx, 0.0));
  case Activation::Silu:
    return arith::MulFOp::create(b, x, sigmoid(ptx, x));
  case Activation::Gelu: {
    Value scaled = arith::MulFOp::create(b, x, f32Const(ptx, M_SQRT1_2));
    Value phi = arith::AddFOp::create(b, f32Const(ptx, 1.0), erf(ptx, scaled));
    return arith::MulFOp::create(
        b, arith::MulFOp::create(b, f32Const(ptx, 0.5), x), phi);
  }
  case Activation::GeluTanh: {
    // 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x^3).
    Value cube = arith::MulFOp::create(b, arith::MulFOp::create(b, x, x), x);
    Value inner = arith::AddFOp::create(
        b, x, arith::MulFOp::create(b, f32Const(ptx, 0.044715), cube));
    Value twoU = arith::MulFOp::create(
        b, f32Const(ptx, 2.0 * 0.7978845608028654), inner);
    return arith::MulFOp::create(b, x, sigmoid(ptx, twoU));
  }
  }
  llvm_unreachable("unknown activation");
}

EpilogueOperands mlir::quilt::nvptx::getEpilogueOperands(
    PtxBuilder &ptx, const Epilogue &epilogue, ValueRange args) {
  EpilogueOperands out;
  unsigned next = 2;
  if (epilogue.biasType)
    out.bias = ptx.globalBase(args[next++]);
  if (epilogue.residual)
    out.residual = ptx.globalBase(args[next++]);
  out.output = ptx.globalBase(args[next]);
  return out;
}

EpilogueOperands mlir::quilt::nvptx::getGemmEpilogueOperands(
    PtxBuilder &ptx, const Epilogue &epilogue, const GemmProblem &p,
    ValueRange args) {
  EpilogueOperands out = getEpilogueOperands(ptx, epilogue, args);
  if (epilogue.dequantize) {
    auto bytes = [&](int64_t n) {
      return arith::ConstantIntOp::create(ptx.b, ptx.i64, n).getResult();
    };
    out.rowScales = ptx.offset(ptx.globalBase(args[0]), bytes(p.m * p.k));
    out.colScales = ptx.offset(ptx.globalBase(args[1]), bytes(p.n * p.k));
  }
  return out;
}

static int64_t byteWidth(Type type) { return type.getIntOrFloatBitWidth() / 8; }

/// &base[index] for an i32 element index.
static Value elementPtr(PtxBuilder &ptx, Value base, Value index,
                        Type elementType) {
  return ptx.offset(base, ptx.byteOffset(index, byteWidth(elementType)));
}

/// base[index], base[index + 1], ... (`count` elements, one vector load
/// when more than one: `index` must then be a multiple of `count`).
static SmallVector<Value> loadElements(PtxBuilder &ptx, Value base, Value index,
                                       Type elementType, int64_t count) {
  Value ptr = elementPtr(ptx, base, index, elementType);
  int64_t bytes = byteWidth(elementType);
  if (count == 1)
    return {ptx.load(elementType, ptr, bytes)};
  Value vector =
      ptx.load(VectorType::get({count}, elementType), ptr, count * bytes);
  SmallVector<Value> elements;
  for (int64_t i = 0; i < count; ++i)
    elements.push_back(
        LLVM::ExtractElementOp::create(ptx.b, vector, ptx.c32(i)));
  return elements;
}

/// The epilogue of the elements of output row `row` and columns `col`,
/// `col + 1`, ... (one per accumulator: f32, or i32 with `dequantize`), to
/// the f32 values that are rounded and stored. Two elements start at an
/// even column and read their column operands (scales, bias, residual) as
/// pairs: a warp's request then uses twice the bytes of its sectors.
static SmallVector<Value> finishElements(PtxBuilder &ptx,
                                         const Epilogue &epilogue,
                                         const EpilogueOperands &operands,
                                         int64_t n, Value row, Value col,
                                         ArrayRef<Value> accs) {
  int64_t count = accs.size();
  SmallVector<Value> values(accs);
  if (epilogue.dequantize) {
    Value rowScale =
        ptx.load(ptx.f32, elementPtr(ptx, operands.rowScales, row, ptx.f32), 4);
    SmallVector<Value> colScales =
        loadElements(ptx, operands.colScales, col, ptx.f32, count);
    for (int64_t i = 0; i < count; ++i)
      values[i] = arith::MulFOp::create(
          ptx.b,
          arith::MulFOp::create(
              ptx.b, arith::SIToFPOp::create(ptx.b, ptx.f32, values[i]),
              rowScale),
          colScales[i]);
  }
  if (epilogue.biasType) {
    SmallVector<Value> bias =
        loadElements(ptx, operands.bias, col, epilogue.biasType, count);
    for (int64_t i = 0; i < count; ++i)
      values[i] = arith::AddFOp::create(ptx.b, values[i], ptx.toF32(bias[i]));
  }
  for (Value &value : values)
    value = applyActivation(ptx, epilogue.activation, value);
  if (epilogue.residual) {
    SmallVector<Value> residual =
        loadElements(ptx, operands.residual, ptx.add(ptx.mul(row, n), col),
                     epilogue.outputType, count);
    for (int64_t i = 0; i < count; ++i)
      values[i] =
          arith::AddFOp::create(ptx.b, values[i], ptx.toF32(residual[i]));
  }
  return values;
}

/// Applies the epilogue to the accumulators (v0, v1) of output row `row`
/// and columns `col`, `col + 1` and stores them where in bounds.
static void storeAccumulatorPair(PtxBuilder &ptx, const Epilogue &epilogue,
                                 const EpilogueOperands &operands, int64_t m,
                                 int64_t n, Value row, Value col, Value v0,
                                 Value v1) {
  Type out = epilogue.outputType;
  Value rowOk = ptx.ult(row, m);
  Value col1 = ptx.add(col, 1);
  if (n % 2 == 0) {
    // col is even, so col < n covers col + 1: 2-element loads and store.
    ptx.ifThen(ptx.andB(rowOk, ptx.ult(col, n)), [&] {
      SmallVector<Value> ys =
          finishElements(ptx, epilogue, operands, n, row, col, {v0, v1});
      Type pairType = VectorType::get({2}, out);
      Value pair = LLVM::PoisonOp::create(ptx.b, pairType);
      for (int64_t i = 0; i < 2; ++i)
        pair = LLVM::InsertElementOp::create(
            ptx.b, pair, ptx.fromF32(ys[i], out), ptx.c32(i));
      Value index = ptx.add(ptx.mul(row, n), col);
      ptx.store(pair, elementPtr(ptx, operands.output, index, out),
                2 * byteWidth(out));
    });
    return;
  }
  for (auto [c, v] : {std::pair(col, v0), std::pair(col1, v1)})
    storeAccumulator(ptx, epilogue, operands, m, n, row, c, v);
}

void mlir::quilt::nvptx::storeAccumulatorFragment(
    PtxBuilder &ptx, const Epilogue &epilogue, const EpilogueOperands &operands,
    int64_t m, int64_t n, Value row, Value col, ArrayRef<Value> fragment) {
  storeAccumulatorPair(ptx, epilogue, operands, m, n, row, col, fragment[0],
                       fragment[1]);
  storeAccumulatorPair(ptx, epilogue, operands, m, n, ptx.add(row, 8), col,
                       fragment[2], fragment[3]);
}

void mlir::quilt::nvptx::storeAccumulator(PtxBuilder &ptx,
                                          const Epilogue &epilogue,
                                          const EpilogueOperands &operands,
                                          int64_t m, int64_t n, Value row,
                                          Value col, Value value) {
  ptx.ifThen(ptx.andB(ptx.ult(row, m), ptx.ult(col, n)), [&] {
    Type out = epilogue.outputType;
    Value y = ptx.fromF32(
        finishElements(ptx, epilogue, operands, n, row, col, {value})[0], out);
    Value index = ptx.add(ptx.mul(row, n), col);
    ptx.store(y, elementPtr(ptx, operands.output, index, out), byteWidth(out));
  });
}
