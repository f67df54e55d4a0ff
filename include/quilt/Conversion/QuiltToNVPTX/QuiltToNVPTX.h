//===- QuiltToNVPTX.h - Quilt's NVPTX backend -------------------*- C++ -*-===//
//
// The names convert-quilt-to-nvptx and quilt-export-nvptx agree on: the
// GPU module the kernels go to and the attributes of the host launch
// schedule from which the manifest is written.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_CONVERSION_QUILTTONVPTX_QUILTTONVPTX_H
#define QUILT_CONVERSION_QUILTTONVPTX_QUILTTONVPTX_H

#include "llvm/ADT/StringRef.h"

namespace mlir::quilt::nvptx {

/// The gpu.module holding every kernel of a converted module.
inline constexpr llvm::StringLiteral kKernelModuleName = "quilt_kernels";
/// On a host function: the number of trailing arguments that are outputs.
inline constexpr llvm::StringLiteral kEntryResultsAttr = "quilt.gpu_results";
/// On a gpu.launch_func: "setup" (once, untimed) or "run".
inline constexpr llvm::StringLiteral kPhaseAttr = "quilt.phase";
/// On a gpu.launch_func: floating-point operations and minimal bytes moved.
inline constexpr llvm::StringLiteral kFlopsAttr = "quilt.flops";
inline constexpr llvm::StringLiteral kBytesAttr = "quilt.bytes";
/// On a GEMM's gpu.launch_func: its tiling and epilogue as JSON (the
/// register model's NVPTXKernelConfig) and, with a register model, the
/// registers per thread it predicted.
inline constexpr llvm::StringLiteral kKernelConfigAttr = "quilt.kernel_config";
inline constexpr llvm::StringLiteral kPredictedRegistersAttr =
    "quilt.predicted_registers";
/// On a GEMM's gpu.launch_func whose tiling the timing model chose: the
/// time it predicted (microseconds, f64).
inline constexpr llvm::StringLiteral kPredictedTimeAttr = "quilt.predicted_us";
/// On a gpu.launch_func: the kernel arguments the host fills with a CUDA
/// tensor map before the launch. An array of dictionaries {argument,
/// source: operand numbers of the launch; element: the source's element
/// type; dims, box: innermost first, in elements; swizzle: bytes}.
inline constexpr llvm::StringLiteral kTensorMapsAttr = "quilt.tensor_maps";

} // namespace mlir::quilt::nvptx

#endif // QUILT_CONVERSION_QUILTTONVPTX_QUILTTONVPTX_H
