//===- PatternUtils.cpp - Shared helpers of the reference lowering --------===//
//
// This file implements the helpers declared in PatternUtils.h.
//
//===----------------------------------------------------------------------===//

#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::reference;

Value reference::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                              Value init, ArrayRef<AffineMap> maps,
                              ArrayRef<utils::IteratorType> iterators,
                              BodyBuilder body) {
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return generic.getResult(0);
}

Value reference::emptyLike(OpBuilder &b, Location loc, Value like,
                           ArrayRef<int64_t> dims, Type elementType) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : dims) {
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, like, d).getResult());
    else
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  }
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value reference::emptyLike(OpBuilder &b, Location loc, Value like,
                           Type elementType) {
  auto rank = cast<RankedTensorType>(like.getType()).getRank();
  return emptyLike(b, loc, like, llvm::to_vector(llvm::seq<int64_t>(0, rank)),
                   elementType);
}

Value reference::fill(OpBuilder &b, Location loc, Value init, double value) {
  Type elementType = getElementTypeOrSelf(init.getType());
  Value scalar =
      arith::ConstantOp::create(b, loc, b.getFloatAttr(elementType, value));
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{init})
      .getResult(0);
}

Value reference::convertScalar(OpBuilder &b, Location loc, Value value,
                               Type to) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned width = to.getIntOrFloatBitWidth();
  if (value.getType() == to)
    return value;
  if (from < width)
    return arith::ExtFOp::create(b, loc, to, value);
  return arith::TruncFOp::create(b, loc, to, value);
}

Value reference::convertElements(OpBuilder &b, Location loc, Value tensor,
                                 Type elementType) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getElementType() == elementType)
    return tensor;
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, tensor, emptyLike(b, loc, tensor, elementType),
                      {id, id}, iterators,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        return convertScalar(nb, nl, args[0], elementType);
                      });
}

Value reference::transpose2D(OpBuilder &b, Location loc, Value matrix) {
  Type elementType = getElementTypeOrSelf(matrix.getType());
  Value init = emptyLike(b, loc, matrix, {1, 0}, elementType);
  MLIRContext *ctx = b.getContext();
  AffineExpr i, j;
  bindDims(ctx, i, j);
  auto in = AffineMap::get(2, 0, {j, i}, ctx);
  auto out = AffineMap::get(2, 0, {i, j}, ctx);
  return buildGeneric(
      b, loc, matrix, init, {in, out},
      {utils::IteratorType::parallel, utils::IteratorType::parallel},
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

Value reference::dimSize(OpBuilder &b, Location loc, Value tensor,
                         int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim));
  return tensor::DimOp::create(b, loc, tensor, dim);
}

/// The fully dynamic tensor type of the same rank and element type.
static Type dynamicLike(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return type;
  SmallVector<int64_t> shape(tensor.getRank(), ShapedType::kDynamic);
  return RankedTensorType::get(shape, tensor.getElementType());
}

SmallVector<Value> reference::callKernel(OpBuilder &b, Location loc,
                                         StringRef name, ValueRange operands,
                                         TypeRange resultTypes) {
  SmallVector<Value> args;
  for (Value operand : operands) {
    Type dynamic = dynamicLike(operand.getType());
    args.push_back(dynamic == operand.getType()
                       ? operand
                       : tensor::CastOp::create(b, loc, dynamic, operand));
  }
  SmallVector<Type> callTypes = llvm::map_to_vector(resultTypes, dynamicLike);
  auto call = func::CallOp::create(b, loc, name, callTypes, args);
  SmallVector<Value> results;
  for (auto [value, type] : llvm::zip(call.getResults(), resultTypes))
    results.push_back(value.getType() == type
                          ? Value(value)
                          : tensor::CastOp::create(b, loc, type, value));
  return results;
}

Value reference::roundToPrecision(OpBuilder &b, Location loc, Value matrix,
                                  PrecisionAttr precision) {
  Type elementType = precision.getElementType();
  Type type = matrix.getType();
  if (elementType.isF32())
    return matrix;
  if (elementType.isBF16())
    return callKernel(b, loc, "quilt_ref_round_bf16", matrix, type)[0];
  if (elementType.isF16())
    return callKernel(b, loc, "quilt_ref_round_f16", matrix, type)[0];

  Granularity granularity = precision.getGranularity();
  Value group;
  if (granularity == Granularity::Group)
    group = arith::ConstantIndexOp::create(b, loc, precision.getGroupSize());
  else if (granularity == Granularity::Channel)
    group = dimSize(b, loc, matrix, 0);
  else
    group = arith::ConstantIndexOp::create(b, loc, 1);
  auto flag = [&](bool value) -> Value {
    return arith::ConstantIntOp::create(b, loc, value, 1);
  };
  Value perTensor = flag(granularity == Granularity::Tensor);
  if (precision.isInteger()) {
    Value bits =
        arith::ConstantIntOp::create(b, loc, precision.getBitWidth(), 32);
    return callKernel(
        b, loc, "quilt_ref_fake_quant_int",
        {matrix, group, perTensor, bits, flag(precision.getZeroPoint())},
        type)[0];
  }
  // f8E4M3FN: scaled unless no granularity is given.
  return callKernel(
      b, loc, "quilt_ref_fake_quant_f8e4m3fn",
      {matrix, group, perTensor, flag(granularity != Granularity::None)},
      type)[0];
}
