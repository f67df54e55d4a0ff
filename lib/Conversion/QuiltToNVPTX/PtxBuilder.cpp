//===- PtxBuilder.cpp - Building NVVM kernels op by op ----------*- C++ -*-===//
//
// Implements the NVVM-level vocabulary of the NVPTX kernel generators.
//
//===----------------------------------------------------------------------===//

#include "PtxBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::quilt::nvptx;

/// The dynamic shared memory of every kernel of a module: one extern array,
/// as gpu-to-nvvm makes for gpu.dynamic_shared_memory.
static constexpr StringLiteral kSharedSymbol = "__quilt_shared";

PtxBuilder::PtxBuilder(ImplicitLocOpBuilder &b)
    : b(b), i1(b.getI1Type()), i32(b.getI32Type()), i64(b.getI64Type()),
      f32(b.getF32Type()),
      globalPtr(LLVM::LLVMPointerType::get(b.getContext(), 1)),
      sharedPtr(LLVM::LLVMPointerType::get(b.getContext(), 3)) {}

Value PtxBuilder::c32(int64_t value) {
  return arith::ConstantIntOp::create(b, i32, value);
}
Value PtxBuilder::add(Value lhs, Value rhs) {
  return arith::AddIOp::create(b, lhs, rhs);
}
Value PtxBuilder::mul(Value lhs, Value rhs) {
  return arith::MulIOp::create(b, lhs, rhs);
}
Value PtxBuilder::div(Value lhs, int64_t rhs) {
  return arith::DivUIOp::create(b, lhs, c32(rhs));
}
Value PtxBuilder::rem(Value lhs, int64_t rhs) {
  return arith::RemUIOp::create(b, lhs, c32(rhs));
}
Value PtxBuilder::xorI(Value lhs, Value rhs) {
  return arith::XOrIOp::create(b, lhs, rhs);
}
Value PtxBuilder::andI(Value lhs, int64_t rhs) {
  return arith::AndIOp::create(b, lhs, c32(rhs));
}
Value PtxBuilder::shr(Value lhs, int64_t rhs) {
  return arith::ShRUIOp::create(b, lhs, c32(rhs));
}
Value PtxBuilder::shl(Value lhs, int64_t rhs) {
  return arith::ShLIOp::create(b, lhs, c32(rhs));
}
Value PtxBuilder::orI(Value lhs, Value rhs) {
  return arith::OrIOp::create(b, lhs, rhs);
}
Value PtxBuilder::minU(Value lhs, Value rhs) {
  return arith::MinUIOp::create(b, lhs, rhs);
}
Value PtxBuilder::ult(Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lhs, rhs);
}
Value PtxBuilder::select(Value cond, Value lhs, Value rhs) {
  return arith::SelectOp::create(b, cond, lhs, rhs);
}
Value PtxBuilder::andB(Value lhs, Value rhs) {
  return arith::AndIOp::create(b, lhs, rhs);
}

Value PtxBuilder::threadId() { return NVVM::ThreadIdXOp::create(b, i32); }

Value PtxBuilder::blockId(gpu::Dimension dim) {
  switch (dim) {
  case gpu::Dimension::x:
    return NVVM::BlockIdXOp::create(b, i32);
  case gpu::Dimension::y:
    return NVVM::BlockIdYOp::create(b, i32);
  case gpu::Dimension::z:
    return NVVM::BlockIdZOp::create(b, i32);
  }
  llvm_unreachable("unknown dimension");
}

Value PtxBuilder::globalBase(Value memref) {
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, memref);
  Value bits = arith::IndexCastUIOp::create(b, i64, address);
  return LLVM::IntToPtrOp::create(b, globalPtr, bits);
}

Value PtxBuilder::sharedBase(gpu::GPUModuleOp module) {
  if (!module.lookupSymbol(kSharedSymbol)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto global = LLVM::GlobalOp::create(
        b, LLVM::LLVMArrayType::get(b.getI8Type(), 0), /*isConstant=*/false,
        LLVM::Linkage::External, kSharedSymbol, Attribute(),
        /*alignment=*/1024, /*addrSpace=*/3);
    (void)global;
  }
  return LLVM::AddressOfOp::create(b, sharedPtr, kSharedSymbol);
}

Value PtxBuilder::offset(Value ptr, Value bytes) {
  return LLVM::GEPOp::create(b, ptr.getType(), b.getI8Type(), ptr,
                             ValueRange{bytes});
}

Value PtxBuilder::byteOffset(Value index, int64_t width) {
  return arith::MulIOp::create(b, arith::ExtUIOp::create(b, i64, index),
                               arith::ConstantIntOp::create(b, i64, width));
}

Value PtxBuilder::load(Type type, Value ptr, unsigned alignment) {
  return LLVM::LoadOp::create(b, type, ptr, alignment);
}

Value PtxBuilder::loadInvariant(Type type, Value ptr, unsigned alignment) {
  return LLVM::LoadOp::create(b, type, ptr, alignment, /*isVolatile=*/false,
                              /*isNonTemporal=*/false, /*isInvariant=*/true);
}

void PtxBuilder::store(Value value, Value ptr, unsigned alignment) {
  LLVM::StoreOp::create(b, value, ptr, alignment);
}

void PtxBuilder::copyAsync16(Value sharedDst, Value globalSrc, Value srcBytes) {
  // .cg: the tile is staged in shared memory, so bypass L1.
  NVVM::CpAsyncOp::create(b, sharedDst, globalSrc, 16,
                          NVVM::LoadCacheModifierKind::CG, srcBytes);
}

void PtxBuilder::commitGroup() { NVVM::CpAsyncCommitGroupOp::create(b); }

void PtxBuilder::waitGroup(int64_t pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, pending);
}

void PtxBuilder::barrier() { NVVM::Barrier0Op::create(b); }

SmallVector<Value, 4> PtxBuilder::loadMatrixX4(Value sharedPtr,
                                               bool transpose) {
  auto type =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
  auto shape = NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8);
  Value matrices = NVVM::LdMatrixOp::create(
      b, type, sharedPtr, 4,
      transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row, shape,
      NVVM::LdStMatrixEltType::B16);
  SmallVector<Value, 4> words;
  for (int64_t i = 0; i < 4; ++i)
    words.push_back(LLVM::ExtractValueOp::create(b, matrices, i));
  return words;
}

/// The operands of an f16 mma are vector<2xf16> registers, those of a bf16
/// mma are i32 (NVVM's typing of the same 32-bit registers).
static SmallVector<Value> asMmaOperands(PtxBuilder &ptx, MmaElement element,
                                        ValueRange words) {
  SmallVector<Value> operands(words.begin(), words.end());
  if (element == MmaElement::BF16)
    return operands;
  Type pair = VectorType::get({2}, ptx.b.getF16Type());
  for (Value &operand : operands)
    operand = LLVM::BitcastOp::create(ptx.b, pair, operand);
  return operands;
}

static SmallVector<Value, 4> extractAccumulators(PtxBuilder &ptx,
                                                 Value result) {
  SmallVector<Value, 4> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(ptx.b, result, i));
  return d;
}

SmallVector<Value, 4> PtxBuilder::mma16816(MmaElement element, ValueRange a,
                                           ValueRange bw, ValueRange c) {
  auto type =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  NVVM::MMATypes kind =
      element == MmaElement::BF16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Value d =
      NVVM::MmaOp::create(b, type, asMmaOperands(*this, element, a),
                          asMmaOperands(*this, element, bw), c, {16, 8, 16},
                          /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
                          std::array<NVVM::MMATypes, 2>{kind, kind},
                          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                                         NVVM::MMALayout::col});
  return extractAccumulators(*this, d);
}

SmallVector<Value, 4> PtxBuilder::mmaInt8_16832(ValueRange a, ValueRange bw,
                                                ValueRange c) {
  auto type =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
  Value d = NVVM::MmaOp::create(
      b, type, a, bw, c, {16, 8, 32},
      /*b1Op=*/std::nullopt, NVVM::MMAIntOverflow::wrapped,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::s8, NVVM::MMATypes::s8},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  return extractAccumulators(*this, d);
}

Value PtxBuilder::wgmmaDescriptor(Value tile) {
  Value address = LLVM::PtrToIntOp::create(b, i32, tile);
  Value encoded =
      arith::ExtUIOp::create(b, i64, shr(andI(address, 0x3FFFF), 4));
  // Leading byte offset 1 (unused by swizzled K-major layouts), stride
  // byte offset 1024 >> 4, swizzle mode 1 (128 bytes), base offset 0.
  uint64_t fields =
      (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
  return arith::OrIOp::create(
      b, encoded, arith::ConstantIntOp::create(b, i64, int64_t(fields)));
}

SmallVector<Value> PtxBuilder::wgmma(MmaElement element, Value descA,
                                     Value descB, ValueRange acc) {
  bool int8 = element == MmaElement::S8;
  SmallVector<Type> fields(acc.size(), int8 ? i32 : f32);
  auto type = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
  Value inouts = LLVM::PoisonOp::create(b, type);
  for (auto [i, value] : llvm::enumerate(acc))
    inouts = LLVM::InsertValueOp::create(b, inouts, value, i);
  auto kind = NVVM::WGMMATypesAttr::get(
      b.getContext(), int8                          ? NVVM::WGMMATypes::s8
                      : element == MmaElement::BF16 ? NVVM::WGMMATypes::bf16
                                                    : NVVM::WGMMATypes::f16);
  auto one =
      NVVM::WGMMAScaleInAttr::get(b.getContext(), NVVM::WGMMAScaleIn::one);
  Value d = NVVM::WgmmaMmaAsyncOp::create(
      b, type, inouts, descA, descB,
      NVVM::MMAShapeAttr::get(b.getContext(), 64, int(2 * acc.size()),
                              int8 ? 32 : 16),
      kind, kind,
      NVVM::WGMMATypesAttr::get(b.getContext(), int8 ? NVVM::WGMMATypes::s32
                                                     : NVVM::WGMMATypes::f32),
      NVVM::WGMMAScaleOutAttr::get(b.getContext(), NVVM::WGMMAScaleOut::one),
      one, one, NVVM::MMALayoutAttr::get(b.getContext(), NVVM::MMALayout::row),
      NVVM::MMALayoutAttr::get(b.getContext(), NVVM::MMALayout::col),
      /*satfinite=*/NVVM::MMAIntOverflowAttr());
  SmallVector<Value> result;
  for (size_t i = 0; i < acc.size(); ++i)
    result.push_back(LLVM::ExtractValueOp::create(b, d, i));
  return result;
}

void PtxBuilder::wgmmaFence() { NVVM::WgmmaFenceAlignedOp::create(b); }

void PtxBuilder::wgmmaCommitGroup() {
  NVVM::WgmmaGroupSyncAlignedOp::create(b);
}

void PtxBuilder::wgmmaWaitGroup(int64_t pending) {
  NVVM::WgmmaWaitGroupSyncOp::create(b, uint64_t(pending));
}

void PtxBuilder::setMaxRegisters(int64_t registers, bool increase) {
  NVVM::SetMaxRegisterOp::create(b, int32_t(registers),
                                 increase
                                     ? NVVM::SetMaxRegisterAction::increase
                                     : NVVM::SetMaxRegisterAction::decrease);
}

void PtxBuilder::fenceProxyAsyncShared() {
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}

Value PtxBuilder::toGeneric(Value globalPtr) {
  return LLVM::AddrSpaceCastOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext()), globalPtr);
}

void PtxBuilder::acquireTensorMap(Value map) {
  NVVM::FenceProxyAcquireOp::create(b, NVVM::MemScopeKind::GPU, map, c32(128));
}

void PtxBuilder::initBarrier(Value bar, int64_t arrivals) {
  NVVM::MBarrierInitOp::create(b, bar, c32(arrivals), /*predicate=*/Value());
}

void PtxBuilder::arriveExpectBytes(Value bar, int64_t bytes) {
  NVVM::MBarrierArriveExpectTxOp::create(b, /*res=*/Type(), bar, c32(bytes),
                                         NVVM::MemScopeKind::CTA,
                                         /*relaxed=*/false,
                                         /*predicate=*/Value());
}

void PtxBuilder::arrive(Value bar) {
  NVVM::MBarrierArriveOp::create(b, /*res=*/Type(), bar, /*count=*/Value());
}

void PtxBuilder::waitBarrier(Value bar, Value parity) {
  // Each try_wait may suspend the thread up to this many ns (CUTLASS's
  // 10 ms) until the phase completes, rather than spin; the op loops until
  // it does.
  NVVM::MBarrierTryWaitParityOp::create(b, bar, parity, c32(10000000));
}

/// The pointer type of shared::cluster addresses (address space 7).
static LLVM::LLVMPointerType getClusterSharedPtr(OpBuilder &b) {
  return LLVM::LLVMPointerType::get(b.getContext(), 7);
}

/// `sharedPtr` as a shared::cluster address: the bulk copies take their
/// destination so (PTX 8.0), and this CTA's own shared memory is part of
/// its cluster's.
static Value toClusterShared(OpBuilder &b, Value sharedPtr) {
  return LLVM::AddrSpaceCastOp::create(b, sharedPtr.getLoc(),
                                       getClusterSharedPtr(b), sharedPtr);
}

void PtxBuilder::loadTensorBox(Value sharedDst, Value map, Value inner,
                               Value outer, Value bar, Value multicastMask) {
  NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
      b, toClusterShared(b, sharedDst), map, ValueRange{inner, outer}, bar,
      /*im2colOffsets=*/ValueRange{}, multicastMask,
      /*l2CacheHint=*/Value(), NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false,
      /*group=*/NVVM::CTAGroupKindAttr(), /*predicate=*/Value());
}

void PtxBuilder::copyBulk(Value sharedDst, Value globalSrc, int64_t bytes,
                          Value bar) {
  NVVM::CpAsyncBulkGlobalToSharedClusterOp::create(
      b, toClusterShared(b, sharedDst), globalSrc, bar, c32(bytes),
      /*multicastMask=*/Value(),
      /*l2CacheHint=*/Value());
}

Value PtxBuilder::clusterRank() { return NVVM::ClusterId::create(b, i32); }

Value PtxBuilder::mapToCluster(Value sharedPtr, Value rank) {
  return NVVM::MapaOp::create(b, getClusterSharedPtr(b), sharedPtr, rank);
}

void PtxBuilder::arriveInCluster(Value bar) {
  NVVM::MBarrierArriveOp::create(b, /*res=*/Type(), bar, /*count=*/Value(),
                                 NVVM::MemScopeKind::CLUSTER,
                                 /*relaxed=*/false);
}

void PtxBuilder::fenceBarrierInit() { NVVM::FenceMbarrierInitOp::create(b); }

void PtxBuilder::clusterBarrier() {
  // Not .aligned: it follows branches that only some lanes of a warp take
  // (the producer's leader), which the warp need not have reconverged from.
  NVVM::ClusterArriveOp::create(b, /*aligned=*/UnitAttr());
  NVVM::ClusterWaitOp::create(b, /*aligned=*/UnitAttr());
}

void PtxBuilder::syncWarp() { NVVM::SyncWarpOp::create(b, c32(-1)); }

Value PtxBuilder::shuffleXor(Value value, int64_t mask) {
  return gpu::ShuffleOp::create(b, value, int32_t(mask), /*width=*/32,
                                gpu::ShuffleMode::XOR)
      .getShuffleResult();
}

SmallVector<Value, 4> PtxBuilder::mmaSparse16832(MmaElement element,
                                                 ValueRange a, ValueRange bw,
                                                 ValueRange c, Value metadata) {
  auto type =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  NVVM::MMATypes kind =
      element == MmaElement::BF16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Value d = NVVM::MmaSpOp::create(
      b, type, asMmaOperands(*this, element, a),
      asMmaOperands(*this, element, bw), c, metadata, c32(0), {16, 8, 32},
      /*intOverflow=*/std::nullopt, std::array<NVVM::MMATypes, 2>{kind, kind});
  return extractAccumulators(*this, d);
}

Value PtxBuilder::cf32(float value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(value));
}

Value PtxBuilder::roundEven(Value value) {
  return LLVM::InlineAsmOp::create(
             b, f32, ValueRange{value}, "cvt.rni.f32.f32 $0, $1;", "=f,f",
             /*has_side_effects=*/false,
             /*is_align_stack=*/false, LLVM::TailCallKind::None,
             LLVM::AsmDialectAttr(), ArrayAttr())
      .getResult(0);
}

Value PtxBuilder::opaque(Value value) {
  // A side effect keeps the asm, and so its users, inside the loop.
  return LLVM::InlineAsmOp::create(
             b, i32, ValueRange{value}, "mov.b32 $0, $1;", "=r,r",
             /*has_side_effects=*/true,
             /*is_align_stack=*/false, LLVM::TailCallKind::None,
             LLVM::AsmDialectAttr(), ArrayAttr())
      .getResult(0);
}

Value PtxBuilder::toF32(Value value) {
  if (value.getType() == f32)
    return value;
  return arith::ExtFOp::create(b, f32, value);
}

Value PtxBuilder::fromF32(Value value, Type type) {
  if (type == f32)
    return value;
  return arith::TruncFOp::create(b, type, value);
}

Value PtxBuilder::unpackPair(Value word, Type halfType) {
  return LLVM::BitcastOp::create(b, VectorType::get({2}, halfType), word);
}

Value PtxBuilder::packPair(Value lo, Value hi) {
  Type pairType = VectorType::get({2}, lo.getType());
  Value pair = LLVM::PoisonOp::create(b, pairType);
  pair = LLVM::InsertElementOp::create(b, pair, lo, c32(0));
  pair = LLVM::InsertElementOp::create(b, pair, hi, c32(1));
  return LLVM::BitcastOp::create(b, i32, pair);
}

SmallVector<Value>
PtxBuilder::forLoop(Value lb, Value ub, int64_t step, ValueRange init,
                    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(b, lb, ub, c32(step), init);
  OpBuilder::InsertionGuard guard(b);
  Block *block = loop.getBody();
  if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
    block->back().erase();
  b.setInsertionPointToEnd(block);
  SmallVector<Value> yields =
      body(loop.getInductionVar(), loop.getRegionIterArgs());
  scf::YieldOp::create(b, yields);
  return SmallVector<Value>(loop.getResults());
}

void PtxBuilder::ifThen(Value condition, function_ref<void()> body) {
  auto op = scf::IfOp::create(b, condition, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  body();
}

gpu::GPUFuncOp mlir::quilt::nvptx::createKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    ArrayRef<Type> argumentTypes, int64_t threads) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(
      builder, loc, name, builder.getFunctionType(argumentTypes, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  return func;
}
