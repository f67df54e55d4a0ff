//===- QuiltAttrs.cpp - Weight format attributes ---------------*- C++ -*-===//
//
// This file implements parsing, printing and verification of the precision,
// sparsity, structure and format attributes.
//
//===----------------------------------------------------------------------===//

#include "quilt/Dialect/Quilt/QuiltAttrs.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::quilt;

#include "quilt/Dialect/Quilt/QuiltEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "quilt/Dialect/Quilt/QuiltAttrs.cpp.inc"

void QuiltDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "quilt/Dialect/Quilt/QuiltAttrs.cpp.inc"
      >();
}

/// Parses `<` integer `>`.
static ParseResult parseAngleInteger(AsmParser &parser, int64_t &value) {
  return failure(parser.parseLess() || parser.parseInteger(value) ||
                 parser.parseGreater());
}

//===----------------------------------------------------------------------===//
// PrecisionAttr
//===----------------------------------------------------------------------===//

bool PrecisionAttr::isInteger() const {
  return isa<IntegerType>(getElementType());
}

unsigned PrecisionAttr::getBitWidth() const {
  return getElementType().getIntOrFloatBitWidth();
}

bool PrecisionAttr::isExact() const { return getElementType().isF32(); }

Attribute PrecisionAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  Type elementType;
  if (parser.parseLess() || parser.parseType(elementType))
    return {};
  Granularity granularity = Granularity::None;
  int64_t groupSize = 0;
  bool zeroPoint = false;
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc kwLoc = parser.getCurrentLocation();
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return {};
    if (keyword == "tensor") {
      granularity = Granularity::Tensor;
    } else if (keyword == "channel") {
      granularity = Granularity::Channel;
    } else if (keyword == "group") {
      granularity = Granularity::Group;
      if (parseAngleInteger(parser, groupSize))
        return {};
    } else if (keyword == "zero_point") {
      zeroPoint = true;
    } else {
      parser.emitError(kwLoc, "expected 'tensor', 'channel', 'group<G>' or "
                              "'zero_point', got '")
          << keyword << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<PrecisionAttr>(loc, parser.getContext(), elementType,
                                          granularity, groupSize, zeroPoint);
}

void PrecisionAttr::print(AsmPrinter &printer) const {
  printer << "<" << getElementType();
  switch (getGranularity()) {
  case Granularity::None:
    break;
  case Granularity::Group:
    printer << ", group<" << getGroupSize() << ">";
    break;
  default:
    printer << ", " << stringifyGranularity(getGranularity());
  }
  if (getZeroPoint())
    printer << ", zero_point";
  printer << ">";
}

LogicalResult
PrecisionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      Type elementType, Granularity granularity,
                      int64_t groupSize, bool zeroPoint) {
  bool isInt =
      elementType.isSignlessInteger(8) || elementType.isSignlessInteger(4);
  bool isScaledFloat = isa<Float8E4M3FNType>(elementType);
  bool isPlainFloat =
      elementType.isF32() || elementType.isBF16() || elementType.isF16();
  if (!isInt && !isScaledFloat && !isPlainFloat)
    return emitError() << "precision element kind must be one of f32, bf16, "
                          "f16, f8E4M3FN, i8, i4, got "
                       << elementType;
  if (isInt && granularity == Granularity::None)
    return emitError() << "integer precision " << elementType
                       << " needs a scale granularity (tensor, channel or "
                          "group<G>)";
  if (isPlainFloat && granularity != Granularity::None)
    return emitError() << "precision " << elementType
                       << " takes no scale granularity, got "
                       << stringifyGranularity(granularity);
  if (zeroPoint && !isInt)
    return emitError() << "zero_point needs an integer precision, got "
                       << elementType;
  if (granularity == Granularity::Group && groupSize <= 0)
    return emitError() << "scale group size must be positive, got "
                       << groupSize;
  if (granularity != Granularity::Group && groupSize != 0)
    return emitError() << "a group size needs group granularity";
  return success();
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

double SparsityAttr::getKeptFraction() const {
  switch (getKind()) {
  case SparsityKind::Dense:
    return 1.0;
  case SparsityKind::NM:
    return double(getN()) / double(getM());
  default:
    return getDensity().convertToDouble();
  }
}

/// Parses `, density = <float>`.
static ParseResult parseDensity(AsmParser &parser, double &density) {
  return failure(parser.parseComma() || parser.parseKeyword("density") ||
                 parser.parseEqual() || parser.parseFloat(density));
}

/// The shortest decimal form that parses back to `value` (0.1, not
/// 1.000000e-01).
static std::string formatShortest(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::string text = buffer;
  // Keep it a float literal for the parser.
  if (text.find_first_of(".eE") == std::string::npos)
    text += ".0";
  return text;
}

Attribute SparsityAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  SparsityKind kind;
  int64_t n = 0, m = 0;
  SmallVector<int64_t, 2> block;
  double density = 1.0;
  if (keyword == "dense") {
    kind = SparsityKind::Dense;
  } else if (keyword == "nm") {
    kind = SparsityKind::NM;
    if (parser.parseLess() || parser.parseInteger(n) || parser.parseComma() ||
        parser.parseInteger(m) || parser.parseGreater())
      return {};
  } else if (keyword == "block") {
    kind = SparsityKind::Block;
    SMLoc dimsLoc = parser.getCurrentLocation();
    if (parser.parseLess() ||
        parser.parseDimensionList(block, /*allowDynamic=*/false,
                                  /*withTrailingX=*/false) ||
        parser.parseGreater() || parseDensity(parser, density))
      return {};
    if (block.size() != 2) {
      parser.emitError(dimsLoc, "block sparsity needs a 2-d block RxC");
      return {};
    }
  } else if (keyword == "unstructured") {
    kind = SparsityKind::Unstructured;
    if (parseDensity(parser, density))
      return {};
  } else {
    parser.emitError(loc, "expected 'dense', 'nm<N, M>', 'block<RxC>' or "
                          "'unstructured', got '")
        << keyword << "'";
    return {};
  }
  if (parser.parseGreater())
    return {};
  int64_t rows = block.empty() ? 0 : block[0];
  int64_t cols = block.empty() ? 0 : block[1];
  return parser.getChecked<SparsityAttr>(loc, parser.getContext(), kind, n, m,
                                         rows, cols, llvm::APFloat(density));
}

void SparsityAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifySparsityKind(getKind());
  switch (getKind()) {
  case SparsityKind::Dense:
    break;
  case SparsityKind::NM:
    printer << "<" << getN() << ", " << getM() << ">";
    break;
  case SparsityKind::Block:
    printer << "<" << getBlockRows() << "x" << getBlockCols() << ">";
    [[fallthrough]];
  case SparsityKind::Unstructured:
    printer << ", density = " << formatShortest(getKeptFraction());
    break;
  }
  printer << ">";
}

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   SparsityKind kind, int64_t n, int64_t m,
                                   int64_t blockRows, int64_t blockCols,
                                   llvm::APFloat density) {
  double d = density.convertToDouble();
  switch (kind) {
  case SparsityKind::Dense:
    return success();
  case SparsityKind::NM:
    if (n < 1 || m < 1 || n > m)
      return emitError() << "N:M sparsity needs 1 <= N <= M, got " << n << ":"
                         << m;
    return success();
  case SparsityKind::Block:
    if (blockRows < 1 || blockCols < 1)
      return emitError() << "block sparsity needs positive block dims, got "
                         << blockRows << "x" << blockCols;
    [[fallthrough]];
  case SparsityKind::Unstructured:
    if (!(d > 0.0 && d <= 1.0))
      return emitError() << "sparsity density must lie in (0, 1], got "
                         << formatShortest(d);
    return success();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// StructureAttr
//===----------------------------------------------------------------------===//

Attribute StructureAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<StructureKind> kind = symbolizeStructureKind(keyword);
  if (!kind) {
    parser.emitError(loc, "expected 'dense', 'monarch<B>', 'blockdiag<B>' or "
                          "'lowrank<R>', got '")
        << keyword << "'";
    return {};
  }
  int64_t size = 0;
  if (*kind != StructureKind::Dense && parseAngleInteger(parser, size))
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<StructureAttr>(loc, parser.getContext(), *kind,
                                          size);
}

void StructureAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyStructureKind(getKind());
  if (!isDense())
    printer << "<" << getSize() << ">";
  printer << ">";
}

LogicalResult
StructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      StructureKind kind, int64_t size) {
  if (kind != StructureKind::Dense && size < 1)
    return emitError() << stringifyStructureKind(kind)
                       << (kind == StructureKind::LowRank ? " rank"
                                                          : " block count")
                       << " must be positive, got " << size;
  return success();
}

//===----------------------------------------------------------------------===//
// FormatAttr
//===----------------------------------------------------------------------===//

bool FormatAttr::isDenseF32() const {
  return getPrecision().isExact() && getSparsity().isDense() &&
         getStructure().isDense();
}

FormatAttr FormatAttr::parseBody(AsmParser &parser) {
  MLIRContext *ctx = parser.getContext();
  PrecisionAttr precision;
  SparsityAttr sparsity;
  StructureAttr structure;
  do {
    SMLoc loc = parser.getCurrentLocation();
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return {};
    Attribute parsed;
    if (keyword == "precision" && !precision) {
      precision =
          dyn_cast_or_null<PrecisionAttr>(PrecisionAttr::parse(parser, {}));
      parsed = precision;
    } else if (keyword == "sparsity" && !sparsity) {
      sparsity =
          dyn_cast_or_null<SparsityAttr>(SparsityAttr::parse(parser, {}));
      parsed = sparsity;
    } else if (keyword == "structure" && !structure) {
      structure =
          dyn_cast_or_null<StructureAttr>(StructureAttr::parse(parser, {}));
      parsed = structure;
    } else {
      parser.emitError(loc, "expected 'precision<...>', 'sparsity<...>' or "
                            "'structure<...>', each at most once");
      return {};
    }
    if (!parsed)
      return {};
  } while (succeeded(parser.parseOptionalComma()));
  FormatAttr defaults = FormatAttr::get(ctx);
  return FormatAttr::get(ctx, precision ? precision : defaults.getPrecision(),
                         sparsity ? sparsity : defaults.getSparsity(),
                         structure ? structure : defaults.getStructure());
}

void FormatAttr::printBody(AsmPrinter &printer, bool leadingComma) const {
  bool first = !leadingComma;
  auto separate = [&] {
    if (!first)
      printer << ", ";
    first = false;
  };
  if (!getPrecision().isExact()) {
    separate();
    printer << "precision";
    getPrecision().print(printer);
  }
  if (!getSparsity().isDense()) {
    separate();
    printer << "sparsity";
    getSparsity().print(printer);
  }
  if (!getStructure().isDense()) {
    separate();
    printer << "structure";
    getStructure().print(printer);
  }
}

Attribute FormatAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  if (succeeded(parser.parseOptionalGreater()))
    return FormatAttr::get(parser.getContext());
  FormatAttr format = parseBody(parser);
  if (!format || parser.parseGreater())
    return {};
  return format;
}

void FormatAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printBody(printer, /*leadingComma=*/false);
  printer << ">";
}
