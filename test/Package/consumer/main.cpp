//===- main.cpp - A tool built against an installed Quilt -------*- C++ -*-===//
//
// Links Quilt::* from find_package(Quilt), registers the dialect, parses a
// packed type and prints its group size.
//
//===----------------------------------------------------------------------===//

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/InitAllDialects.h"
#include "quilt/InitAllPasses.h"
#include <cstdio>

int main() {
  mlir::quilt::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::quilt::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto packed = llvm::dyn_cast_or_null<mlir::quilt::PackedType>(mlir::parseType(
      "!quilt.packed<64x32, precision<i4, group<32>>>", &context));
  if (!packed)
    return 1;
  std::printf("parsed group %lld\n",
              static_cast<long long>(packed.getPrecision().getGroupSize()));
  return 0;
}
