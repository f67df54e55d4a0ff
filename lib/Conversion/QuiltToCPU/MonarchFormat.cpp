//===- MonarchFormat.cpp - Monarch weights on CPU ---------------*- C++ -*-===//
//
// A `monarch<B>` weight is W[p k + i, q n + o] = L[p, i, q] R[q, p, o]
// (k = K/B, n = N/B; see quilt_ref_monarch_factors). It is stored as its
// two factors, each a batch of B dense blocks in the native panel layout of
// the precision: L_p = L[p, :, :] (k x B) for p < B, then, from the next
// 64-byte boundary, R_q = R[q, :, :] (B x n) for q < B. That is B (K + N)
// values instead of K N.
//
// The linear is two batched block-diagonal products, with the Monarch
// permutation folded into how they address the intermediate z:
//   z[m, p, q]      = sum_i x[m, p k + i] L[p, i, q]     B GEMMs M x k x B
//   y[m, q n + o]   = sum_p z[m, p, q] R[q, p, o]        B GEMMs M x B x n
// Neither W nor a permuted copy of x is formed; the cost is M B (K + N)
// multiply-adds. z is stored as [m][p][q], each p's B values padded to
// B + 16 floats: the first product writes whole vectors, the second reads
// its A operand z[m, :, q] with a stride of B + 16 floats (broadcast loads,
// so a stride costs nothing, and the padding spreads a column over all L1
// sets). Storing z as [m][q][p] instead (contiguous reads in the second
// product, 16-lane scatters in the first) measured 1.4x slower at
// 128 x 4096 x 4096, B = 64 (1.58 against 1.13 ms; 1.96 ms unpadded).
// Rows go through both products in blocks of 32, so that a block's z
// (32 x 64 x 80 floats, 640 KiB at B = 64) is still in L2 when the second
// product reads it; threads take row blocks (or, for fewer rows, the groups
// of each product).
//
// The factors are the reference's (quilt_ref_monarch_factors) rounded as
// the reference rounds them; f32 and bf16 round element by element, so
// each block packs independently. Integer precisions round each factor with
// scales that span blocks and keep the reference lowering.
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "GemmKernel.h"
#include "GroupedGemm.h"
#include "KernelUtils.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {

/// Rows per block of the linear (their z, rowBlock x B (B + 16) floats,
/// stays in L2 between the two products), and the padding of z's rows.
constexpr int64_t kRowBlock = 32;
constexpr int64_t kZPad = 16;

struct MonarchLayout {
  int64_t blocks;       // B
  CPUWeightLayout l, r; // one block of each factor: k x B and B x n
  int64_t rOffset, totalBytes;

  static std::optional<MonarchLayout> get(PackedType type) {
    if (type.getStructure().getKind() != StructureKind::Monarch ||
        !type.getSparsity().isDense())
      return std::nullopt;
    Type element = type.getPrecision().getElementType();
    if (!element.isF32() && !element.isBF16())
      return std::nullopt;
    int64_t blocks = type.getStructure().getSize();
    if (blocks <= 0 || type.getRows() % blocks || type.getCols() % blocks)
      return std::nullopt;
    int64_t k = type.getRows() / blocks, n = type.getCols() / blocks;
    auto l = CPUWeightLayout::forPrecision(type.getPrecision(), k, blocks);
    auto r = CPUWeightLayout::forPrecision(type.getPrecision(), blocks, n);
    if (!l || !r)
      return std::nullopt;
    int64_t rOffset = blocks * l->totalBytes;
    return MonarchLayout{blocks, *l, *r, rOffset,
                         rOffset + blocks * r->totalBytes};
  }
};

/// Slice g of the 3-d memref `factor` (g x rows x cols) as a 2-d memref.
Value factorBlock(OpBuilder &b, Location loc, Value factor, Value g) {
  auto type = cast<MemRefType>(factor.getType());
  SmallVector<OpFoldResult> offsets = {g, b.getIndexAttr(0), b.getIndexAttr(0)},
                            sizes = {b.getIndexAttr(1),
                                     b.getIndexAttr(type.getDimSize(1)),
                                     b.getIndexAttr(type.getDimSize(2))},
                            strides = {b.getIndexAttr(1), b.getIndexAttr(1),
                                       b.getIndexAttr(1)};
  auto resultType = memref::SubViewOp::inferRankReducedResultType(
      {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, cast<MemRefType>(resultType), factor,
                                   offsets, sizes, strides);
}

class MonarchFormat final : public CompressedFormat {
public:
  StringRef getName() const override { return "monarch"; }

  bool supports(PackedType type) const override {
    return MonarchLayout::get(type).has_value();
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override {
    MonarchLayout layout = *MonarchLayout::get(type);
    int64_t blocks = layout.blocks;
    Type f32 = b.getF32Type();
    // The reference factors; packing rounds them to the precision exactly
    // as the reference rounds each factor (f32: as is; bf16: nearest even).
    SmallVector<Value> factors = reference::callKernel(
        b, loc, "quilt_ref_monarch_factors",
        {weight, arith::ConstantIndexOp::create(b, loc, blocks)},
        {RankedTensorType::get({blocks, layout.l.rows, blocks}, f32),
         RankedTensorType::get({blocks, blocks, layout.r.cols}, f32)});
    Value bytes = allocBytes(b, loc, b.getIndexAttr(layout.totalBytes));
    auto packFactor = [&](Value factor, const CPUWeightLayout &block,
                          int64_t offset) {
      Value buffer = toBuffer(b, loc, factor);
      forLoop(b, loc, indexConst(b, loc, 0), indexConst(b, loc, blocks), 1,
              [&](OpBuilder &, Location, Value g) {
                Value at = arith::AddIOp::create(
                    b, loc,
                    arith::MulIOp::create(b, loc, g,
                                          indexConst(b, loc, block.totalBytes)),
                    indexConst(b, loc, offset));
                packBlockAt(b, loc, factorBlock(b, loc, buffer, g), bytes, at,
                            block);
              });
    };
    packFactor(factors[0], layout.l, 0);
    packFactor(factors[1], layout.r, layout.rOffset);
    auto dynamic = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
    return toTensor(b, loc, memref::CastOp::create(b, loc, dynamic, bytes));
  }

  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override {
    MonarchLayout layout = *MonarchLayout::get(type);
    int64_t blocks = layout.blocks;
    Value buffer = toBuffer(b, loc, bytes);
    auto decode = [&](const CPUWeightLayout &block, int64_t offset) {
      auto memType =
          MemRefType::get({blocks, block.rows, block.cols}, b.getF32Type());
      Value factor = memref::AllocOp::create(b, loc, memType, ValueRange{},
                                             b.getI64IntegerAttr(64));
      forLoop(b, loc, indexConst(b, loc, 0), indexConst(b, loc, blocks), 1,
              [&](OpBuilder &, Location, Value g) {
                Value at = arith::AddIOp::create(
                    b, loc,
                    arith::MulIOp::create(b, loc, g,
                                          indexConst(b, loc, block.totalBytes)),
                    indexConst(b, loc, offset));
                unpackBlockAt(b, loc, buffer, at,
                              factorBlock(b, loc, factor, g), block);
              });
      return toTensor(b, loc, factor);
    };
    Value l = decode(layout.l, 0), r = decode(layout.r, layout.rOffset);
    // The reference's own expansion, so decoding is bit-exact.
    return reference::callKernel(b, loc, "quilt_ref_monarch_expand", {l, r},
                                 type.getUnpackedType())[0];
  }

  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override {
    MonarchLayout layout = *MonarchLayout::get(linear.weight);
    int64_t blocks = layout.blocks;
    Value xBuffer = toBuffer(b, loc, x);
    Value buffer = toBuffer(b, loc, bytes);
    Value biasBuffer = bias ? toBuffer(b, loc, bias) : Value();
    Value m = linear.staticM
                  ? indexConst(b, loc, *linear.staticM)
                  : memref::DimOp::create(b, loc, xBuffer, 0).getResult();
    int64_t k = layout.l.rows, n = layout.r.cols;
    int64_t outCols = linear.weight.getCols();
    SmallVector<Value> dynSizes;
    if (!linear.staticM)
      dynSizes.push_back(m);
    Value y = memref::AllocOp::create(
        b, loc,
        MemRefType::get(
            {linear.staticM ? *linear.staticM : ShapedType::kDynamic, outCols},
            b.getF32Type()),
        dynSizes, b.getI64IntegerAttr(64));

    // z[m][p][q], each p's row of B values padded by 16 floats (measured:
    // see the file comment), in blocks of kRowBlock rows.
    int64_t innerStride = blocks + kZPad;
    int64_t zCols = blocks * innerStride;
    int64_t rowBlock = kRowBlock;

    // Rows [r0, r0 + rows) of y through both products, with their own z.
    auto rowsThrough = [&](Value r0, Value rows,
                           std::optional<int64_t> staticRows,
                           unsigned threads) {
      auto slice = [&](Value matrix, int64_t cols) -> Value {
        SmallVector<OpFoldResult> offsets = {r0, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {
            staticRows ? OpFoldResult(b.getIndexAttr(*staticRows))
                       : OpFoldResult(rows),
            b.getIndexAttr(cols)};
        SmallVector<OpFoldResult> strides = {b.getIndexAttr(1),
                                             b.getIndexAttr(1)};
        return memref::SubViewOp::create(b, loc, matrix, offsets, sizes,
                                         strides);
      };
      SmallVector<Value> zSizes;
      if (!staticRows)
        zSizes.push_back(rows);
      Value z = memref::AllocOp::create(
          b, loc,
          MemRefType::get(
              {staticRows ? *staticRows : ShapedType::kDynamic, zCols},
              b.getF32Type()),
          zSizes, b.getI64IntegerAttr(64));
      GroupedGemm first;
      first.block = layout.l;
      first.groups = blocks;
      first.weightOffset = 0;
      first.groupBytes = layout.l.totalBytes;
      first.staticM = staticRows;
      first.threads = threads;
      first.maxTileRows = getMaxTileRows(linear.target);
      first.bytes = buffer;
      first.m = rows;
      first.a = {slice(xBuffer, linear.weight.getRows()), k, 1};
      first.c = {z, innerStride, 1};
      emitGroupedGemm(b, loc, first);
      GroupedGemm second = first;
      second.block = layout.r;
      second.weightOffset = layout.rOffset;
      second.groupBytes = layout.r.totalBytes;
      second.a = {z, 1, innerStride};
      second.c = {slice(y, outCols), n, 1};
      second.bias = biasBuffer;
      emitGroupedGemm(b, loc, second);
    };

    Value c0 = indexConst(b, loc, 0);
    if (linear.staticM && *linear.staticM <= rowBlock) {
      // Few rows: threads share each product's groups.
      rowsThrough(c0, m, linear.staticM, linear.threads);
      return toTensor(b, loc, y);
    }
    // Many rows: blocks of rows whose z stays in L2, one thread each.
    Value rowBlockValue = indexConst(b, loc, rowBlock);
    Value fullBlocks = arith::DivUIOp::create(b, loc, m, rowBlockValue);
    int64_t staticTail = linear.staticM ? *linear.staticM % rowBlock : 0;
    Value numBlocks =
        linear.staticM
            ? fullBlocks
            : arith::CeilDivUIOp::create(b, loc, m, rowBlockValue).getResult();
    scf::ParallelOp::create(
        b, loc, ValueRange{c0}, ValueRange{numBlocks},
        ValueRange{indexConst(b, loc, 1)},
        [&](OpBuilder &, Location, ValueRange ivs) {
          Value r0 = arith::MulIOp::create(b, loc, ivs[0], rowBlockValue);
          if (linear.staticM) {
            rowsThrough(r0, rowBlockValue, rowBlock, 1);
            return;
          }
          Value rows = arith::MinUIOp::create(
              b, loc, rowBlockValue, arith::SubIOp::create(b, loc, m, r0));
          rowsThrough(r0, rows, std::nullopt, 1);
        });
    if (staticTail > 0)
      rowsThrough(arith::MulIOp::create(b, loc, fullBlocks, rowBlockValue),
                  indexConst(b, loc, staticTail), staticTail, linear.threads);
    return toTensor(b, loc, y);
  }
};

} // namespace

const CompressedFormat &cpu::getMonarchFormat() {
  static const MonarchFormat format;
  return format;
}
