//===- QuiltOps.cpp - Quilt operations -------------------------*- C++ -*-===//
//
// This file implements the quilt ops: verifiers, the custom syntax of
// quilt.fused, and the element functions of the element-wise ops.
//
//===----------------------------------------------------------------------===//

#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::quilt;

#include "quilt/Dialect/Quilt/QuiltInterfaces.cpp.inc"

/// Prints a shape as 16x?x32.
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

/// True when two dims may be equal (equal, or either dynamic).
static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

/// Checks that `dense` is the K x N tensor of `packed`.
static LogicalResult verifyPackedShape(Operation *op, RankedTensorType dense,
                                       PackedType packed) {
  if (!dense.hasStaticShape() || dense.getDimSize(0) != packed.getRows() ||
      dense.getDimSize(1) != packed.getCols())
    return op->emitOpError("dense shape ")
           << formatShape(dense.getShape())
           << " does not match the packed weight's " << packed.getRows() << "x"
           << packed.getCols();
  return success();
}

LogicalResult PackOp::verify() {
  return verifyPackedShape(*this, getInput().getType(), getResult().getType());
}

LogicalResult PackFactorsOp::verify() {
  PackedType packed = getResult().getType();
  StructureAttr structure = packed.getStructure();
  if (structure.getKind() != StructureKind::LowRank)
    return emitOpError("result must have a lowrank<r> structure, got ")
           << packed;
  int64_t rank = structure.getSize();
  RankedTensorType left = getLeft().getType(), right = getRight().getType();
  if (!left.hasStaticShape() || !right.hasStaticShape() ||
      left.getDimSize(0) != packed.getRows() || left.getDimSize(1) != rank ||
      right.getDimSize(0) != rank || right.getDimSize(1) != packed.getCols())
    return emitOpError("factors ")
           << formatShape(left.getShape()) << " and "
           << formatShape(right.getShape()) << " do not match the "
           << packed.getRows() << "x" << packed.getCols() << " rank-" << rank
           << " weight (expected " << packed.getRows() << "x" << rank << " and "
           << rank << "x" << packed.getCols() << ")";
  return success();
}

LogicalResult PackedConstantOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getBytes().getType());
  if (!type || type.getRank() != 1 || !type.getElementType().isInteger(8))
    return emitOpError("bytes must be a 1-d tensor of i8, got ")
           << getBytes().getType();
  if (getLayout() != "cpu")
    return emitOpError("unknown layout '")
           << getLayout() << "'; the known one is \"cpu\"";
  return success();
}

OpFoldResult PackedConstantOp::fold(FoldAdaptor) { return getBytesAttr(); }

LogicalResult UnpackOp::verify() {
  return verifyPackedShape(*this, getResult().getType(), getInput().getType());
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

int64_t LinearOp::getReductionSize() {
  if (auto packed = dyn_cast<PackedType>(getWeight().getType()))
    return packed.getRows();
  return cast<RankedTensorType>(getWeight().getType()).getDimSize(0);
}

int64_t LinearOp::getOutputSize() {
  if (auto packed = dyn_cast<PackedType>(getWeight().getType()))
    return packed.getCols();
  return cast<RankedTensorType>(getWeight().getType()).getDimSize(1);
}

LogicalResult LinearOp::verify() {
  if (auto dense = dyn_cast<RankedTensorType>(getWeight().getType());
      dense && !dense.hasStaticShape())
    return emitOpError("a dense weight needs a static shape, got ")
           << formatShape(dense.getShape());
  auto input = getInput().getType();
  auto result = getResult().getType();
  int64_t k = getReductionSize(), n = getOutputSize();
  if (input.getRank() != 2 || result.getRank() != 2)
    return emitOpError("input and result must be 2-d (M x K, M x N), got ")
           << formatShape(input.getShape()) << " and "
           << formatShape(result.getShape());
  if (input.getDimSize(1) != k)
    return emitOpError("input K = ")
           << formatShape(input.getShape().drop_front())
           << " does not match the weight's K = " << k;
  if (!dimsCompatible(input.getDimSize(0), result.getDimSize(0)) ||
      result.getDimSize(1) != n)
    return emitOpError("result shape ")
           << formatShape(result.getShape()) << " should be "
           << formatShape({input.getDimSize(0), n});
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the input's "
           << input.getElementType();
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n)
      return emitOpError("bias shape ")
             << formatShape(biasType.getShape()) << " should be " << n;
  }
  if (PrecisionAttr act = getActAttr()) {
    if (act.getGranularity() == Granularity::Group &&
        k % act.getGroupSize() != 0)
      return emitOpError("activation scale group ")
             << act.getGroupSize() << " must divide K = " << k;
    if (act.getElementType().isSignlessInteger(4) && k % 2 != 0)
      return emitOpError("int4 activations need an even K, got K = ") << k;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType(), rhs = getRhs().getType();
  auto result = getResult().getType();
  int64_t rank = lhs.getRank();
  if (rank < 2 || rhs.getRank() != rank || result.getRank() != rank)
    return emitOpError("operands and result need the same rank >= 2, got ")
           << lhs.getRank() << ", " << rhs.getRank() << " and "
           << result.getRank();
  for (int64_t d = 0, e = rank - 2; d < e; ++d)
    if (!dimsCompatible(lhs.getDimSize(d), rhs.getDimSize(d)) ||
        !dimsCompatible(lhs.getDimSize(d), result.getDimSize(d)))
      return emitOpError("batch dim ")
             << d << " differs: " << formatShape(lhs.getShape()) << ", "
             << formatShape(rhs.getShape()) << " -> "
             << formatShape(result.getShape());
  int64_t m = lhs.getDimSize(rank - 2), k = lhs.getDimSize(rank - 1);
  int64_t rhsK = rhs.getDimSize(getTransposeB() ? rank - 1 : rank - 2);
  int64_t n = rhs.getDimSize(getTransposeB() ? rank - 2 : rank - 1);
  if (!dimsCompatible(k, rhsK))
    return emitOpError("contraction sizes differ: lhs K = ")
           << k << ", rhs K = " << rhsK;
  if (!dimsCompatible(m, result.getDimSize(rank - 2)) ||
      !dimsCompatible(n, result.getDimSize(rank - 1)))
    return emitOpError("result shape ")
           << formatShape(result.getShape()) << " does not match M = " << m
           << ", N = " << n;
  return success();
}

//===----------------------------------------------------------------------===//
// Element functions
//===----------------------------------------------------------------------===//

/// A constant of `type` (an f32 scalar or vector type) with every element
/// `value`.
static Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  Type elementType = getElementTypeOrSelf(type);
  TypedAttr scalar = b.getFloatAttr(elementType, value);
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, vector,
                                     DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, scalar);
}

Value AddOp::buildElementFunction(OpBuilder &b, Location loc,
                                  ValueRange operands) {
  return arith::AddFOp::create(b, loc, operands[0], operands[1]);
}

Value MulOp::buildElementFunction(OpBuilder &b, Location loc,
                                  ValueRange operands) {
  return arith::MulFOp::create(b, loc, operands[0], operands[1]);
}

Value ReluOp::buildElementFunction(OpBuilder &b, Location loc,
                                   ValueRange operands) {
  Value x = operands[0];
  return arith::MaximumFOp::create(b, loc, x,
                                   constantLike(b, loc, x.getType(), 0.0));
}

Value SiluOp::buildElementFunction(OpBuilder &b, Location loc,
                                   ValueRange operands) {
  // x / (1 + exp(-x)).
  Value x = operands[0];
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  Value denom =
      arith::AddFOp::create(b, loc, e, constantLike(b, loc, x.getType(), 1.0));
  return arith::DivFOp::create(b, loc, x, denom);
}

LogicalResult QuantizeOp::verify() {
  PrecisionAttr precision = getPrecision();
  Type kind = precision.getElementType();
  if (kind.isBF16() || kind.isF16()) {
    if (getScale())
      return emitOpError("takes no scale for ") << kind;
    return success();
  }
  if (!kind.isInteger(8) || precision.getGranularity() != Granularity::Tensor ||
      precision.getZeroPoint())
    return emitOpError("rounds to bf16, f16 or i8 with one tensor scale "
                       "(element-wise only), not ")
           << precision;
  if (!getScale() || !getScale()->isFiniteNonZero() || getScale()->isNegative())
    return emitOpError("needs a positive, finite scale for i8");
  return success();
}

Value QuantizeOp::buildElementFunction(OpBuilder &b, Location loc,
                                       ValueRange operands) {
  Value x = operands[0];
  Type t = x.getType();
  Type kind = getPrecision().getElementType();
  if (kind.isBF16() || kind.isF16()) {
    Type narrow = kind;
    if (auto vec = dyn_cast<VectorType>(t))
      narrow = VectorType::get(vec.getShape(), kind);
    return arith::ExtFOp::create(
        b, loc, t, arith::TruncFOp::create(b, loc, narrow, x).getResult());
  }
  auto cst = [&](double v) { return constantLike(b, loc, t, v); };
  float scale = getScale()->convertToFloat();
  // x * (1 / s), as the int8 activation quantizers do.
  Value q = math::RoundEvenOp::create(
      b, loc, arith::MulFOp::create(b, loc, x, cst(1.0f / scale)));
  q = arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, q, cst(-127)), cst(127));
  return arith::MulFOp::create(b, loc, q, cst(scale));
}

Value GeluOp::buildElementFunction(OpBuilder &b, Location loc,
                                   ValueRange operands) {
  Value x = operands[0];
  Type t = x.getType();
  auto cst = [&](double v) { return constantLike(b, loc, t, v); };
  Value inner;
  if (getTanh()) {
    // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
    Value x3 =
        arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, cst(0.044715), x3));
    inner = math::TanhOp::create(
        b, loc, arith::MulFOp::create(b, loc, cst(0.7978845608028654), poly));
  } else {
    // erf(x / sqrt(2))
    inner = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, cst(0.7071067811865476)));
  }
  Value onePlus = arith::AddFOp::create(b, loc, cst(1.0), inner);
  Value half = arith::MulFOp::create(b, loc, cst(0.5), x);
  return arith::MulFOp::create(b, loc, half, onePlus);
}

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

int64_t SoftmaxOp::getNormalizedAxis() {
  int64_t axis = getAxisAttr().getInt();
  return axis < 0 ? axis + getInput().getType().getRank() : axis;
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getInput().getType().getRank();
  int64_t axis = getAxisAttr().getInt();
  if (rank < 1 || axis < -rank || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// RMSNormOp / LayerNormOp
//===----------------------------------------------------------------------===//

/// Checks the shapes shared by the normalizations: a result typed like the
/// input, and 1-d parameters as long as the input's last dim.
static LogicalResult verifyNormalization(Operation *op, Value input,
                                         ValueRange params, Value result,
                                         float epsilon) {
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  if (result.getType() != inputType)
    return op->emitOpError("result type ")
           << result.getType() << " differs from the input's " << inputType;
  int64_t d = inputType.getShape().back();
  for (Value param : params) {
    auto type = cast<RankedTensorType>(param.getType());
    if (type.getRank() != 1 || !dimsCompatible(type.getDimSize(0), d))
      return op->emitOpError("parameter shape ")
             << formatShape(type.getShape())
             << " should match the normalized dim " << formatShape({d});
  }
  if (!(epsilon >= 0.0f))
    return op->emitOpError("epsilon must be non-negative, got ") << epsilon;
  return success();
}

LogicalResult RMSNormOp::verify() {
  return verifyNormalization(*this, getInput(), {getWeight()}, getResult(),
                             getEpsilon().convertToFloat());
}

LogicalResult LayerNormOp::verify() {
  return verifyNormalization(*this, getInput(), {getWeight(), getBias()},
                             getResult(), getEpsilon().convertToFloat());
}

//===----------------------------------------------------------------------===//
// FusedOp
//===----------------------------------------------------------------------===//

YieldOp FusedOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}

ParseResult FusedOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::Argument> regionArgs;
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  FunctionType signature;
  if (parser.parseAssignmentList(regionArgs, operands))
    return failure();
  SMLoc typesLoc = parser.getCurrentLocation();
  if (parser.parseColonType(signature))
    return failure();
  if (signature.getNumInputs() != operands.size())
    return parser.emitError(typesLoc, "expected ")
           << operands.size() << " input types, got "
           << signature.getNumInputs();
  for (auto [arg, type] : llvm::zip(regionArgs, signature.getInputs()))
    arg.type = type;
  if (parser.resolveOperands(operands, signature.getInputs(), typesLoc,
                             result.operands))
    return failure();
  result.addTypes(signature.getResults());
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, regionArgs) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  return success();
}

void FusedOp::print(OpAsmPrinter &p) {
  p << " (";
  llvm::interleaveComma(
      llvm::zip(getBody().getArguments(), getInputs()), p,
      [&](auto pair) { p << std::get<0>(pair) << " = " << std::get<1>(pair); });
  p << ") : ";
  p.printFunctionalType(getInputs().getTypes(), getResultTypes());
  p << " ";
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false);
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs());
}

LogicalResult FusedOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("region has ")
           << body.getNumArguments() << " arguments for " << getInputs().size()
           << " inputs";
  for (auto [i, arg, input] : llvm::enumerate(body.getArguments(), getInputs()))
    if (arg.getType() != input.getType())
      return emitOpError("region argument #")
             << i << " has type " << arg.getType() << ", its input "
             << input.getType();
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("region must end with quilt.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().size() << " value(s) of types ("
           << yield.getValues().getTypes() << ") for results ("
           << getResultTypes() << ")";
  return success();
}

#define GET_OP_CLASSES
#include "quilt/Dialect/Quilt/QuiltOps.cpp.inc"
