//===- quilt-plugin.cpp - Quilt as an mlir-opt plugin ------------*- C++
//-*-===//
//
// One shared library that stock mlir-opt loads with both
// --load-dialect-plugin and --load-pass-plugin.
//
//===----------------------------------------------------------------------===//

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "quilt/InitAllDialects.h"
#include "quilt/InitAllPasses.h"
#include "llvm/Config/llvm-config.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Quilt", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            mlir::quilt::registerAllDialects(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Quilt", LLVM_VERSION_STRING,
          []() { mlir::quilt::registerAllPasses(); }};
}
