# -*- Python -*-
# lit configuration of Quilt's tests.

import ctypes
import os
import shutil
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Quilt"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "Inputs", "consumer", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quilt_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%quilt_src", os.path.dirname(config.test_source_root)))
config.substitutions.append(("%quilt_obj_root", config.quilt_obj_root))
config.substitutions.append(
    ("%quilt_plugin", os.path.join(config.quilt_lib_dir, "QuiltPlugin.so"))
)
config.substitutions.append(
    ("%fake_cuda_driver", os.path.join(config.quilt_lib_dir, "libQuiltFakeCudaDriver.so"))
)
runner_libs = ",".join(
    os.path.join(config.llvm_lib_dir, lib)
    for lib in ["libmlir_runner_utils.so", "libmlir_c_runner_utils.so", "libomp.so"]
)
config.substitutions.append(("%mlir_runner_libs", runner_libs))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Our tools first, then LLVM's (stock mlir-opt, mlir-runner, FileCheck).
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.quilt_tools_dir, append_path=True)
tools = [
    ToolSubst("quilt-opt", unresolved="fatal"),
    ToolSubst("quilt-run", unresolved="fatal"),
    ToolSubst("quilt-tune", unresolved="fatal"),
    ToolSubst("quilt-cuda-run", unresolved="fatal"),
    ToolSubst("mlir-opt", unresolved="fatal"),
    ToolSubst("mlir-runner", unresolved="fatal"),
    ToolSubst("mlir-translate", unresolved="fatal"),
    ToolSubst("llc", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.quilt_tools_dir, config.llvm_tools_dir])

# quilt-ptx-sim is a Python tool: run it with lit's interpreter (numpy).
config.substitutions.append(
    ("%quilt-ptx-sim",
     '"%s" "%s"' % (sys.executable, os.path.join(config.quilt_tools_dir, "quilt-ptx-sim"))))

# quilt-cuda-run runs PTX only where the CUDA driver loads; its error paths
# are tested everywhere.
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# ptxas (CUDA's PTX assembler) needs no GPU: where it is installed, the
# NVPTX tests assemble Quilt's PTX and read its register and spill report.
ptxas = shutil.which("ptxas") or next(
    (p for p in ["/usr/local/cuda/bin/ptxas"] if os.access(p, os.X_OK)), None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# The CPU kernels pick instructions by the host's features (integer dot
# products only with avx512vnni), so a few results are checked per host.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = next((l.split(":", 1)[1].split() for l in cpuinfo
                      if l.startswith("flags")), [])
except OSError:
    flags = []
for flag in ("avx2", "avx512_vnni"):
    if flag in flags:
        config.available_features.add("host-" + flag.replace("_", ""))
