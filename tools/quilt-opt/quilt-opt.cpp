//===- quilt-opt.cpp - Quilt's opt tool --------------------------*- C++
//-*-===//
//
// mlir-opt with every upstream dialect and pass plus Quilt's.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "quilt/InitAllDialects.h"
#include "quilt/InitAllPasses.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::quilt::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::quilt::registerAllDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Quilt optimizer driver\n", registry));
}
