//===- PackKernels.cpp - Weight packing on the GPU --------------*- C++ -*-===//
//
// quilt.pack of a weight that is a run-time argument runs on the GPU once,
// before the timed launches: the dense f32 K x N weight becomes the layout
// the GEMM kernels read.
//
//===----------------------------------------------------------------------===//

#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

KernelLaunch mlir::quilt::nvptx::buildTransposePackKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    int64_t k, int64_t n, Type elementType, ArrayRef<Type> argumentTypes) {
  constexpr int64_t kThreads = 256;
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, argumentTypes, kThreads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  PtxBuilder ptx(b);
  // One thread per stored element W^T[col][row]: writes are coalesced,
  // reads stride by N (a one-off setup cost).
  Value index = ptx.add(ptx.mul(ptx.blockId(gpu::Dimension::x), kThreads),
                        ptx.threadId());
  Value dense = ptx.globalBase(func.getArgument(0));
  Value packed = ptx.globalBase(func.getArgument(1));
  ptx.ifThen(ptx.ult(index, k * n), [&] {
    Value col = ptx.div(index, k), row = ptx.rem(index, k);
    Value source = ptx.add(ptx.mul(row, n), col);
    Value value =
        ptx.load(ptx.f32, ptx.offset(dense, ptx.byteOffset(source, 4)), 4);
    int64_t width = elementType.getIntOrFloatBitWidth() / 8;
    ptx.store(ptx.fromF32(value, elementType),
              ptx.offset(packed, ptx.byteOffset(index, width)), width);
  });
  gpu::ReturnOp::create(b);

  return {
      func, {int64_t(llvm::divideCeil(k * n, kThreads)), 1, 1}, kThreads, 0};
}
