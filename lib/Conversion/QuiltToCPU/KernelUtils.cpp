//===- KernelUtils.cpp - Helpers of the CPU kernel generators ---*- C++ -*-===//
//
// Implements KernelUtils.h.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

Value cpu::indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value cpu::toBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                           /*read_only=*/true);
}

Value cpu::toTensor(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  auto tensorType =
      RankedTensorType::get(type.getShape(), type.getElementType());
  return bufferization::ToTensorOp::create(b, loc, tensorType, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

func::FuncOp cpu::getOrCreateKernel(
    OpBuilder &b, ModuleOp module, StringRef name, FunctionType type,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto func = func::FuncOp::create(b, loc, name, type);
  func.setPrivate();
  func->setAttr(kKernelAttrName, b.getUnitAttr());
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  SmallVector<Value> results = body(b, loc, entry->getArguments());
  func::ReturnOp::create(b, loc, results);
  return func;
}

Value cpu::allocBytes(OpBuilder &b, Location loc, OpFoldResult bytes) {
  Type i8 = b.getI8Type();
  IntegerAttr alignment = b.getI64IntegerAttr(64);
  if (auto attr = dyn_cast<Attribute>(bytes)) {
    auto type = MemRefType::get({cast<IntegerAttr>(attr).getInt()}, i8);
    return memref::AllocOp::create(b, loc, type, ValueRange{}, alignment);
  }
  auto type = MemRefType::get({ShapedType::kDynamic}, i8);
  return memref::AllocOp::create(b, loc, type, ValueRange{cast<Value>(bytes)},
                                 alignment);
}

Value cpu::viewAs(OpBuilder &b, Location loc, Value bytes, int64_t byteOffset,
                  MemRefType type, ValueRange sizes) {
  return memref::ViewOp::create(b, loc, type, bytes,
                                indexConst(b, loc, byteOffset), sizes);
}

void cpu::forLoop(OpBuilder &b, Location loc, Value lb, Value ub, int64_t step,
                  function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, lb, ub, indexConst(b, loc, step), ValueRange{},
                     [&](OpBuilder &nb, Location nl, Value iv, ValueRange) {
                       body(nb, nl, iv);
                       scf::YieldOp::create(nb, nl);
                     });
}

/// The 8 x 8 transpose of `rows` (eight vector<8xf32>).
static SmallVector<Value> transpose8x8(OpBuilder &b, Location loc,
                                       ArrayRef<Value> rows) {
  auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) {
    return vector::ShuffleOp::create(b, loc, x, y, mask).getResult();
  };
  SmallVector<Value> t(8), u(8), out(8);
  for (int64_t i = 0; i < 8; i += 2) {
    t[i] = shuffle(rows[i], rows[i + 1], {0, 8, 1, 9, 4, 12, 5, 13});
    t[i + 1] = shuffle(rows[i], rows[i + 1], {2, 10, 3, 11, 6, 14, 7, 15});
  }
  for (int64_t i : {0, 4})
    for (int64_t h = 0; h < 2; ++h) {
      u[i + 2 * h] =
          shuffle(t[i + h], t[i + h + 2], {0, 1, 8, 9, 4, 5, 12, 13});
      u[i + 2 * h + 1] =
          shuffle(t[i + h], t[i + h + 2], {2, 3, 10, 11, 6, 7, 14, 15});
    }
  for (int64_t i = 0; i < 4; ++i) {
    out[i] = shuffle(u[i], u[i + 4], {0, 1, 2, 3, 8, 9, 10, 11});
    out[i + 4] = shuffle(u[i], u[i + 4], {4, 5, 6, 7, 12, 13, 14, 15});
  }
  return out;
}

void cpu::emitTranspose(OpBuilder &b, Location loc, Value from,
                        ValueRange fromPrefix, Value to, ValueRange toPrefix,
                        int64_t rows, int64_t cols) {
  auto at = [&](ValueRange prefix, Value i, Value j) {
    SmallVector<Value> indices(prefix);
    indices.append({i, j});
    return indices;
  };
  auto add = [&](Value x, int64_t y) {
    return arith::AddIOp::create(b, loc, x, indexConst(b, loc, y)).getResult();
  };
  Value zero = indexConst(b, loc, 0);
  if (rows % 8 || cols % 8) {
    forLoop(b, loc, zero, indexConst(b, loc, rows), 1,
            [&](OpBuilder &, Location, Value r) {
              forLoop(b, loc, zero, indexConst(b, loc, cols), 1,
                      [&](OpBuilder &, Location, Value c) {
                        Value x = memref::LoadOp::create(b, loc, from,
                                                         at(fromPrefix, r, c));
                        memref::StoreOp::create(b, loc, x, to,
                                                at(toPrefix, c, r));
                      });
            });
    return;
  }
  auto row = VectorType::get({8}, b.getF32Type());
  forLoop(b, loc, zero, indexConst(b, loc, rows), 8,
          [&](OpBuilder &, Location, Value r) {
            forLoop(b, loc, zero, indexConst(b, loc, cols), 8,
                    [&](OpBuilder &, Location, Value c) {
                      SmallVector<Value> block;
                      for (int64_t i = 0; i < 8; ++i)
                        block.push_back(vector::LoadOp::create(
                            b, loc, row, from, at(fromPrefix, add(r, i), c)));
                      for (auto [i, column] :
                           llvm::enumerate(transpose8x8(b, loc, block)))
                        vector::StoreOp::create(b, loc, column, to,
                                                at(toPrefix, add(c, i), r));
                    });
          });
}

Value cpu::tailMask(OpBuilder &b, Location loc, Value start, Value limit,
                    int64_t width) {
  Value left = arith::SubIOp::create(b, loc, limit, start);
  left = arith::MaxSIOp::create(b, loc, left, indexConst(b, loc, 0));
  left = arith::MinSIOp::create(b, loc, left, indexConst(b, loc, width));
  auto maskType = VectorType::get({width}, b.getI1Type());
  return vector::CreateMaskOp::create(b, loc, maskType, ValueRange{left});
}

func::FuncOp cpu::getIntrinsicStandIn(OpBuilder &b, StringRef name,
                                      StringRef intrinsic, FunctionType type) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, module.getLoc(), name, type);
  func.setPrivate();
  func->setAttr(kIntrinsicAttrName, b.getStringAttr(intrinsic));
  return func;
}

func::FuncOp cpu::getVNNIStandIn(OpBuilder &b) {
  auto acc = VectorType::get({16}, b.getI32Type());
  auto bytes = VectorType::get({64}, b.getI8Type());
  auto type = FunctionType::get(b.getContext(), {acc, bytes, bytes}, acc);
  return getIntrinsicStandIn(b, "quilt_x86_vpdpbusd_512",
                             "llvm.x86.avx512.vpdpbusd.512", type);
}

Value cpu::flattenBuffer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getRank() == 1)
    return buffer;
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return memref::CollapseShapeOp::create(
      b, loc, MemRefType::get({type.getNumElements()}, type.getElementType()),
      buffer, ArrayRef<ReassociationIndices>{all});
}
