#!/usr/bin/python3
#===- bench/e2e.py - Format selection end to end: demo and bench suite ---===#
#
# bench/run e2e [--quick] [--threads T]    -> table + bench/results/e2e.json
# bench/e2e.py --demo [--threads T]        -> what scripts/demo.sh prints
#
# For each network (examples/digits: the trained digits MLP, 540 test images;
# examples/llm-mlp: a d=4096 Llama MLP block, 16 tokens, synthetic weights
# with outlier channels) and each error budget, compiles and times:
#   quilt-selected   quilt-select-formats at the budget (analytical or
#                    learned cost model, calibration input given)
#   oracle           the best per-layer assignment under the same budget by
#                    MEASURED time: every layer is timed alone in every
#                    candidate format (quilt-run --bench on a one-linear
#                    module), the errors are the pass's measured ones, the
#                    assignment minimizing the summed measured time with
#                    the errors' root-sum-square within the budget (the
#                    pass's rule) is found exhaustively; it is then compiled
#                    and timed whole like the others (an exhaustive search
#                    over whole-network combinations would need 7^3 compiles
#                    per network: this is the documented per-layer one)
#   uniform-<fmt>    every layer in one format (i8, nm24, i4), marked
#                    `meets_budget: false` when its end-to-end error on the
#                    calibration input exceeds the budget
#   quilt-f32        dense f32 weights through quilt-cpu-pipeline
#   openblas-f32     the same network in numpy, whose BLAS is Debian's
#                    OpenBLAS (libblas.so.3 alternative)
# Timings: `rounds` rounds (digits 5, llm-mlp 3), each calling quilt-run
# --bench N once per impl in turn (interleaved), median of the per-round
# medians; the oracle's per-layer times likewise (`layer_rounds`, 3); the
# demo runs fewer (digits 3, llm-mlp 1, layers 1). End-to-end error:
# ||y - y_f32||_F / ||y_f32||_F on the calibration input; for digits also
# the test-set accuracy.
#
#===----------------------------------------------------------------------===#
import argparse
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

# OpenBLAS reads these when numpy loads it. 0.3.21 does not know Sapphire
# Rapids and falls back to its Prescott (SSE3) kernels; Cooperlake's are the
# AVX-512 ones, as quilt-bench sets them (bench/src/BenchMain.cpp).
os.environ.setdefault("OPENBLAS_CORETYPE", "Cooperlake")
os.environ.setdefault(
    "OPENBLAS_NUM_THREADS",
    sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv[:-1]
    else "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("QUILT_BUILD_DIR", os.path.join(ROOT, "build"))
OPT = os.path.join(BUILD, "bin", "quilt-opt")
RUN = os.path.join(BUILD, "bin", "quilt-run")
FORMATS = ["f32", "bf16", "i8", "i4", "i4a8", "nm24", "nm24-i8", "lr16",
           "lr32", "lr64", "lr128"]
UNIFORM = ["i8", "nm24", "i4"]


def network(name):
    if name == "digits":
        d = os.path.join(ROOT, "examples", "digits")
        return dict(name=name, mlir=os.path.join(d, "digits.mlir"), dir=d,
                    calib=os.path.join(d, "calib_x.npy"),
                    input=os.path.join(d, "test_x.npy"),
                    labels=os.path.join(d, "test_y.npy"),
                    budgets=[0.01, 0.03, 0.1, 0.3])
    d = os.path.join(BUILD, "examples", "llm-mlp")
    if not os.path.exists(os.path.join(d, "down.npy")):
        subprocess.check_call([sys.executable, os.path.join(
            ROOT, "examples", "llm-mlp", "gen_weights.py"), d])
    return dict(name=name, mlir=os.path.join(ROOT, "examples", "llm-mlp",
                                              "mlp.mlir"), dir=d,
                calib=os.path.join(d, "x.npy"), input=os.path.join(d, "x.npy"),
                labels=None, budgets=[0.03, 0.1, 0.3], rounds=3)


# The cost model quilt-select-formats uses (--model): `auto` is the learned
# model committed for this machine type, else the analytical one.
MODEL = "auto"


def select_passes(net, options):
    return ("quilt-load-weights{dir=%s},quilt-select-formats{calibration=%s "
            "model=%s %s}" % (net["dir"], net["calib"], MODEL, options))


def parse_explain(text):
    """[(K, N, [(format, pred_ms, error, bytes, chosen)])], why."""
    layers, why = [], ""
    for line in text.splitlines():
        m = re.match(r"\s+layer \d+ \((\d+)x(\d+)", line)
        if m:
            layers.append((int(m.group(1)), int(m.group(2)), []))
            continue
        # Skipped candidates show why instead of an error ("no gain",
        # "few rows").
        m = re.match(r"\s+(\S+)\s+([0-9.]+)\s+([0-9.e+-]+|inf|[a-z]+ [a-z]+)"
                     r"\s+([0-9]+)(\s+<- chosen)?$", line)
        if m and layers and m.group(1) != "format":
            err = m.group(3)
            layers[-1][2].append((m.group(1), float(m.group(2)),
                                  float("inf") if " " in err else
                                  float(err), float(m.group(4)),
                                  bool(m.group(5))))
        m = re.match(r"\s+why: (.*)", line)
        if m:
            why = m.group(1)
    return layers, why


def run_entry(net, passes, inputs, threads, bench=0, out=None):
    cmd = [RUN, net["mlir"], "--entry", "forward", "--pipeline", "cpu",
           "--threads", str(threads), "--passes", passes]
    for i, path in enumerate(inputs):
        cmd += ["--input", "%d=%s" % (i, path)]
    if bench:
        cmd += ["--bench", str(bench), "--warmup", "2", "--json"]
    if out:
        cmd += ["--output-npy", out]
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s\n%s" % (" ".join(cmd), p.stderr))
    return p, time.time() - start


def explain(net, options, threads):
    cmd = [OPT, net["mlir"], "--pass-pipeline=builtin.module(%s)" %
           select_passes(net, options + " explain=1 threads=%d" % threads),
           "-o", os.devnull]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s\n%s" % (" ".join(cmd), p.stderr))
    return parse_explain(p.stderr) + (p.stderr,)


def output(net, passes, path, threads):
    with tempfile.TemporaryDirectory() as tmp:
        run_entry(net, passes, [path], threads, out=tmp)
        return np.load(os.path.join(tmp, "result0.npy"))


def rel_error(y, ref):
    return float(np.linalg.norm(y - ref) / np.linalg.norm(ref))


def layer_time(m, k, n, fmt, bias, threads, bench):
    """Median ms of one linear M x K x N with its weight in `fmt`."""
    if fmt.startswith("lr"):
        spec = {fmt: ("structure<lowrank<%s>>" % fmt[2:], "")}
    else:
        spec = {}
    spec.update({"f32": ("precision<f32>", ""), "bf16": ("precision<bf16>", ""),
            "i8": ("precision<i8, channel>", "<i8, channel>"),
            "i4": ("precision<i4, group<%d>>" % min(128, k), ""),
            "i4a8": ("precision<i4, group<%d>>" % min(128, k),
                     "<i8, channel>"),
            "nm24": ("sparsity<nm<2, 4>>", ""),
            "nm24-i8": ("precision<i8, channel>, sparsity<nm<2, 4>>",
                        "<i8, channel>")})
    spec = spec[fmt]
    w = ("!quilt.packed<%dx%d, %s>" % (k, n, spec[0]) if spec[0] else
         "tensor<%dx%dxf32>" % (k, n))
    x, y = "tensor<%dx%dxf32>" % (m, k), "tensor<%dx%dxf32>" % (m, n)
    b, bt = (", %%b: tensor<%dxf32>" % n, " bias %b") if bias else ("", "")
    act = " act " + spec[1] if spec[1] else ""
    text = ("func.func @main(%%x: %s, %%w: %s%s) -> %s {\n  %%y = quilt.linear"
            " %%x, %%w%s%s : %s, %s%s -> %s\n  return %%y : %s\n}\n" %
            (x, w, b, y, bt, act, x, w, ", tensor<%dxf32>" % n if bias else "",
             y, y))
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
        f.write(text)
        f.flush()
        p = subprocess.run([RUN, f.name, "--entry", "main", "--pipeline", "cpu",
                            "--threads", str(threads), "--bench", str(bench),
                            "--json"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return json.loads(p.stdout)["median_ms"]


def oracle(layers, times, budget):
    """Assignment minimizing the summed measured time under the pass's error
    rule: root-sum-square of the per-layer errors <= budget."""
    best, best_time = None, float("inf")
    for combo in itertools.product(*[range(len(l[2])) for l in layers]):
        err = math.sqrt(sum(layers[i][2][c][2] ** 2
                            for i, c in enumerate(combo)))
        if err > budget:
            continue
        t = sum(times[i][layers[i][2][c][0]] for i, c in enumerate(combo))
        if t < best_time:
            best, best_time = combo, t
    return [layers[i][2][c][0] for i, c in enumerate(best)], best_time


def numpy_forward(net):
    """The network in numpy (OpenBLAS sgemm) and its weights."""
    d = net["dir"]
    ld = lambda n: np.load(os.path.join(d, n))
    if net["name"] == "digits":
        w = [(ld("fc%d_w.npy" % i), ld("fc%d_b.npy" % i)) for i in (1, 2, 3)]

        def f(x):
            h = np.maximum(x @ w[0][0] + w[0][1], 0)
            h = np.maximum(h @ w[1][0] + w[1][1], 0)
            return h @ w[2][0] + w[2][1]
        return f
    norm, gate, up, down = (ld(n + ".npy") for n in ("norm", "gate", "up",
                                                     "down"))

    def f(x):
        n = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * norm
        g = n @ gate
        return (g / (1 + np.exp(-g)) * (n @ up)) @ down + x
    return f


def time_numpy(f, x, calls):
    f(x)
    ts = []
    for _ in range(calls):
        s = time.perf_counter()
        f(x)
        ts.append((time.perf_counter() - s) * 1e3)
    return float(np.median(ts))


def host_cpu():
    """The CPU's model name, recorded with every result."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def bench_network(net, args, log):
    t = args.threads
    cpu = host_cpu()
    dense_passes = "quilt-load-weights{dir=%s}" % net["dir"]
    ref_calib = output(net, dense_passes, net["calib"], t)
    # Errors (the pass's, measured on the calibration input) of every
    # candidate; budget 0 keeps f32, this call only reads the table. The
    # pass skips candidates its cost model predicts no faster than f32; an
    # assignment measures them all.
    layers, _, _ = explain(net, "error-budget=0", t)
    layers, _, _ = explain(net, "error-budget=0 assign=%s" % ",".join(
        ["f32"] * len(layers)), t)
    m = np.load(net["input"]).shape[0]
    # Each (shape, format) timed in `layer_rounds` interleaved rounds, median
    # of the rounds' medians: one process's median still moves by 10-20% on
    # a shared host, more than formats differ at the LLM block's shapes.
    keys = []
    for k, n, cands in layers:
        keys += [(k, n, c[0]) for c in cands if (k, n, c[0]) not in keys]
    runs = {key: [] for key in keys}
    for _ in range(args.layer_rounds):
        for key in keys:
            runs[key].append(layer_time(m, key[0], key[1], key[2], True, t,
                                        args.layer_calls))
    cache = {key: float(np.median(v)) for key, v in runs.items()}
    per_layer = [{c[0]: cache[(k, n, c[0])] for c in cands}
                 for k, n, cands in layers]
    log("%s: per-layer measured ms: %s" % (net["name"], json.dumps(
        [{f: round(v, 4) for f, v in d.items()} for d in per_layer])))

    records = []
    budgets = net["budgets"][:2] if args.quick else net["budgets"]
    for budget in budgets:
        case = "%s-budget%g" % (net["name"], budget)
        sel_layers, why, text = explain(net, "error-budget=%g" % budget, t)
        chosen = [next(c[0] for c in l[2] if c[4]) for l in sel_layers]
        predicted = sum(next(c[1] for c in l[2] if c[4]) for l in sel_layers)
        orc, orc_time = oracle(layers, per_layer, budget)
        configs = [("quilt-selected", chosen), ("oracle", orc)]
        configs += [("uniform-" + f, [f] * len(layers)) for f in UNIFORM]
        configs.append(("quilt-f32", ["f32"] * len(layers)))
        f = numpy_forward(net)
        x = np.load(net["input"])
        blas = dict(case=case, impl="openblas-f32", threads=t, budget=budget,
                    cpu=cpu, runs=[])
        impls = []
        for name, assign in configs:
            passes = select_passes(
                net, "error-budget=%g assign=%s" % (budget, ",".join(assign)))
            # First round: the calibration input, for the error and a time.
            with tempfile.TemporaryDirectory() as tmp:
                p, _ = run_entry(net, passes, [net["calib"]], t,
                                 bench=args.calls, out=tmp)
                y = np.load(os.path.join(tmp, "result0.npy"))
            err = rel_error(y, ref_calib)
            rec = dict(case=case, impl=name, threads=t, budget=budget,
                       cpu=cpu, formats=assign, error=err, meets_budget=err <= budget,
                       runs=[json.loads(p.stdout)["median_ms"]])
            if net["labels"] is not None:
                y = output(net, passes, net["input"], t)
                rec["accuracy"] = float(
                    (y.argmax(1) == np.load(net["labels"])).mean())
            if name == "quilt-selected":
                rec["predicted_ms"] = predicted
                rec["why"] = why
                rec["cost_model"] = MODEL
            if name == "oracle":
                rec["summed_layer_ms"] = orc_time
            impls.append((rec, passes))
        blas["runs"].append(time_numpy(f, x, args.calls))
        for _ in range(net.get("rounds", args.rounds) - 1):
            for rec, passes in impls:
                p, _ = run_entry(net, passes, [net["input"]], t,
                                 bench=args.calls)
                rec["runs"].append(json.loads(p.stdout)["median_ms"])
            blas["runs"].append(time_numpy(f, x, args.calls))
        for rec in [r for r, _ in impls] + [blas]:
            rec["median_ms"] = float(np.median(rec["runs"]))
            records.append(rec)
        log_case(case, [r for r, _ in impls] + [blas], log)
    return records


def log_case(case, recs, log):
    f32 = next(r["median_ms"] for r in recs if r["impl"] == "quilt-f32")
    orc = next(r["median_ms"] for r in recs if r["impl"] == "oracle")
    log("\n%s" % case)
    log("  %-16s %9s %8s %8s %10s %9s  %s" % ("impl", "ms", "x f32",
                                             "/oracle", "error", "accuracy",
                                             "formats"))
    for r in recs:
        acc = "%.2f%%" % (100 * r["accuracy"]) if "accuracy" in r else ""
        err = "%.3e%s" % (r["error"], "" if r["meets_budget"] else "!") \
            if "error" in r else ""
        log("  %-16s %9.3f %8.2f %8.2f %10s %9s  %s" % (
            r["impl"], r["median_ms"], f32 / r["median_ms"],
            r["median_ms"] / orc, err, acc, ",".join(r.get("formats", []))))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--networks", default="digits,llm-mlp")
    ap.add_argument("--budgets", default="",
                    help="comma list replacing each network's budgets")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds of the networks' impls "
                    "(llm-mlp: 3, each call recompiles 540 MB of weights)")
    ap.add_argument("--layer-rounds", type=int, default=3,
                    help="interleaved rounds of the oracle's per-layer "
                    "timings")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--layer-calls", type=int, default=10)
    ap.add_argument("--model", default="auto",
                    help="cost model file of quilt-select-formats (auto: "
                    "this machine type's learned model, if committed)")
    args = ap.parse_args()
    global MODEL
    MODEL = args.model
    if args.demo:
        return demo(args)
    names = args.networks.split(",")
    out = os.path.join(ROOT, "bench", "results", "e2e.json")
    # Records of networks not run this time are kept.
    records = []
    if os.path.exists(out):
        with open(out) as f:
            records = [r for r in json.load(f)
                       if r["case"].split("-budget")[0] not in names]
    for name in names:
        net = network(name)
        if args.budgets:
            net["budgets"] = [float(b) for b in args.budgets.split(",")]
        records += bench_network(net, args, print)
    with open(out, "w") as f:
        json.dump(records, f, indent=1)
    print("\nwrote", out)


def demo(args):
    t = args.threads
    for name in args.networks.split(","):
        net = network(name)
        print("\n==== %s: %s ====" % (name, os.path.relpath(net["mlir"], ROOT)))
        # Digits: the table at 0.1, where a fitted low rank pays off, and
        # the bench at 0.03 and 0.1; the LLM block: 0.1 alone.
        budget = 0.1
        cmd = [OPT, net["mlir"], "--quilt-cpu-pipeline=weights-dir=%s "
               "select-formats=1 error-budget=%g calibration=%s threads=%d "
               "cost-model=%s" % (net["dir"], budget, net["calib"], t, MODEL),
               # Bytecode, as a compiled module with 270 MB of packed
               # weights would be stored: as text they are printed in hex.
               "--emit-bytecode", "-o", os.devnull]
        start = time.time()
        subprocess.check_call(cmd)
        print("whole pipeline (load, select, pack, lower to LLVM): %.2f s\n  %s"
              % (time.time() - start, " ".join(cmd)))
        layers, why, text = explain(net, "error-budget=%g" % budget, t)
        sys.stdout.write(text)
        args.rounds, args.quick, args.layer_rounds = 3, True, 1
        if name != "digits":
            net["rounds"] = 1
        net["budgets"] = [budget] if name != "digits" else [0.03, 0.1]
        bench_network(net, args, print)


if __name__ == "__main__":
    main()
