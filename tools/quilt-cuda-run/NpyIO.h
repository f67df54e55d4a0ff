//===- NpyIO.h - Read and write .npy files ----------------------*- C++ -*-===//
//
// This file declares the .npy reader and writer of quilt-cuda-run,
// compatible with quilt-run's (lib/Runtime/Npy.cpp): little-endian, C order,
// and bf16 stored widened to '<f4' since numpy has no bf16.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_NPYIO_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_NPYIO_H

#include "HostBuffer.h"

#include <optional>
#include <string>

namespace quilt_cuda_run {

/// Reads `path` (.npy versions 1.0, 2.0 and 3.0; '<f4', '<f2', '|i1',
/// '|u1', '<i4'); on failure returns nullopt and sets `error` to a message
/// that names the file.
std::optional<HostBuffer> readNpy(const std::string &path, std::string &error);

/// Writes `buffer` as a version 1.0 .npy file byte-identical to quilt-run's
/// (bf16 widened to '<f4'); returns false and sets `error` on failure.
bool writeNpy(const std::string &path, const HostBuffer &buffer,
              std::string &error);

/// `buffer` in `dtype`: a copy when the dtypes agree; an '<f4' array
/// becomes bf16 by rounding to nearest even (how bf16 comes back from
/// quilt-run's files). nullopt for any other pair.
std::optional<HostBuffer> convertForBuffer(const HostBuffer &buffer,
                                           DType dtype);

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_NPYIO_H
