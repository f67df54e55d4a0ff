//===- QuiltTypes.cpp - The packed weight type -----------------*- C++ -*-===//
//
// This file implements !quilt.packed: its syntax and the rules that tie a
// format to the weight's shape.
//
//===----------------------------------------------------------------------===//

#include "quilt/Dialect/Quilt/QuiltTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::quilt;

#define GET_TYPEDEF_CLASSES
#include "quilt/Dialect/Quilt/QuiltOpsTypes.cpp.inc"

void QuiltDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "quilt/Dialect/Quilt/QuiltOpsTypes.cpp.inc"
      >();
}

RankedTensorType PackedType::getUnpackedType() const {
  return RankedTensorType::get({getRows(), getCols()},
                               Float32Type::get(getContext()));
}

Type PackedType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t, 2> shape;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false))
    return {};
  if (shape.size() != 2) {
    parser.emitError(loc, "packed weight must be 2-d KxN, got rank ")
        << shape.size();
    return {};
  }
  FormatAttr format = FormatAttr::get(parser.getContext());
  if (succeeded(parser.parseOptionalComma())) {
    format = FormatAttr::parseBody(parser);
    if (!format)
      return {};
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<PackedType>(loc, parser.getContext(), shape[0],
                                       shape[1], format);
}

void PackedType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols();
  getFormat().printBody(printer, /*leadingComma=*/true);
  printer << ">";
}

LogicalResult PackedType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t rows, int64_t cols,
                                 FormatAttr format) {
  if (rows < 1 || cols < 1)
    return emitError() << "packed weight dims must be positive, got " << rows
                       << "x" << cols;
  PrecisionAttr precision = format.getPrecision();
  SparsityAttr sparsity = format.getSparsity();
  StructureAttr structure = format.getStructure();

  if (precision.getGranularity() == Granularity::Group &&
      rows % precision.getGroupSize() != 0)
    return emitError() << "scale group " << precision.getGroupSize()
                       << " must divide K = " << rows;
  if (precision.getElementType().isSignlessInteger(4) && rows % 2 != 0)
    return emitError() << "int4 stores two values per byte along K and needs "
                          "an even K, got K = "
                       << rows;

  switch (sparsity.getKind()) {
  case SparsityKind::NM:
    if (rows % sparsity.getM() != 0)
      return emitError() << "N:M sparsity " << sparsity.getN() << ":"
                         << sparsity.getM()
                         << " needs K divisible by M = " << sparsity.getM()
                         << ", got K = " << rows;
    break;
  case SparsityKind::Block:
    if (rows % sparsity.getBlockRows() != 0 ||
        cols % sparsity.getBlockCols() != 0)
      return emitError() << "block sparsity " << sparsity.getBlockRows() << "x"
                         << sparsity.getBlockCols()
                         << " needs blocks that tile the " << rows << "x"
                         << cols << " weight";
    break;
  default:
    break;
  }

  int64_t size = structure.getSize();
  switch (structure.getKind()) {
  case StructureKind::Dense:
    return success();
  case StructureKind::Monarch:
  case StructureKind::BlockDiag:
    if (rows % size != 0 || cols % size != 0)
      return emitError() << stringifyStructureKind(structure.getKind())
                         << " with " << size
                         << " blocks needs the block count to divide K and N, "
                            "got "
                         << rows << "x" << cols;
    break;
  case StructureKind::LowRank:
    if (size > std::min(rows, cols))
      return emitError() << "low-rank rank " << size
                         << " exceeds min(K, N) = " << std::min(rows, cols);
    break;
  }
  if (!sparsity.isDense())
    return emitError() << "sparsity "
                       << stringifySparsityKind(sparsity.getKind())
                       << " cannot be combined with structure "
                       << stringifyStructureKind(structure.getKind());
  bool factorized = structure.getKind() == StructureKind::Monarch ||
                    structure.getKind() == StructureKind::LowRank;
  if (factorized && (precision.getGranularity() == Granularity::Channel ||
                     precision.getGranularity() == Granularity::Group))
    return emitError() << stringifyStructureKind(structure.getKind())
                       << " factors take only a per-tensor scale, got "
                       << stringifyGranularity(precision.getGranularity());
  return success();
}
