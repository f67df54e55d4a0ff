//===- ElementwiseOps.cpp - Element-wise quilt ops as SIMD loops -*- C++
//-*-===//
//
// Lowers every op with ElementwiseOpInterface on statically shaped f32
// tensors to one loop over the flattened elements, 16 lanes per step with a
// masked tail, whose body is the op's own element function built on
// vector<16xf32> (the same definition the reference lowering uses on
// scalars). Transcendentals in those bodies (exp, tanh, erf) are later
// expanded to polynomial approximations on vectors, so nothing falls back to
// a scalar libm call per lane.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "LinearOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kLanes = 16;

struct LowerElementwise : OpInterfaceConversionPattern<ElementwiseOpInterface> {
  LowerElementwise(const TypeConverter &converter, MLIRContext *ctx)
      : OpInterfaceConversionPattern(converter, ctx, /*benefit=*/10) {}

  LogicalResult
  matchAndRewrite(ElementwiseOpInterface op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs a static f32 tensor");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    int64_t n = type.getNumElements();
    SmallVector<Value> inputs;
    for (Value operand : operands)
      inputs.push_back(flattenBuffer(b, loc, toBuffer(b, loc, operand)));
    auto outType = MemRefType::get(type.getShape(), b.getF32Type());
    Value out = memref::AllocOp::create(b, loc, outType, ValueRange{},
                                        b.getI64IntegerAttr(64));
    Value flatOut = flattenBuffer(b, loc, out);

    auto vecType = VectorType::get({kLanes}, b.getF32Type());
    Value zero = arith::ConstantOp::create(
        b, loc, vecType, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    Value size = indexConst(b, loc, n);
    forLoop(b, loc, indexConst(b, loc, 0), size, kLanes,
            [&](OpBuilder &, Location, Value i) {
              Value mask = tailMask(b, loc, i, size, kLanes);
              SmallVector<Value> lanes;
              for (Value input : inputs)
                lanes.push_back(vector::MaskedLoadOp::create(
                    b, loc, vecType, input, ValueRange{i}, mask, zero));
              Value result = op.buildElementFunction(b, loc, lanes);
              vector::MaskedStoreOp::create(b, loc, flatOut, ValueRange{i},
                                            mask, result);
            });
    rewriter.replaceOp(op, toTensor(b, loc, out));
    return success();
  }
};
} // namespace

void cpu::populateElementwisePatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns) {
  patterns.add<LowerElementwise>(converter, patterns.getContext());
}
