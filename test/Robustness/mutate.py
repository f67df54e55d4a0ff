#!/usr/bin/env python3
"""Feeds a tool mutated copies of an MLIR file and fails if any run crashes.

Each mutant deletes, replaces or duplicates one to three tokens of the input
(numbers are replaced by edge values: 0, -1, 1000000, ...). Malformed or
ill-typed IR must give a diagnostic and exit code 1; any other exit (a signal,
an assert) is a crash. Deterministic for a given seed.
"""

import argparse
import random
import re
import subprocess
import sys

TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?(?:e-?\d+)?|.")
EDGE_NUMBERS = ["0", "-1", "1", "2", "3", "7", "1000000", "0.0", "1.5", "-0.5"]


def mutate(tokens, rng):
    t = list(tokens)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(t))
        r = rng.random()
        if r < 0.3:
            t[i] = ""
        elif r < 0.6 and re.match(r"-?\d", t[i]):
            t[i] = rng.choice(EDGE_NUMBERS)
        elif r < 0.8:
            t[i] = rng.choice(tokens)
        else:
            t.insert(i, rng.choice(tokens))
    return "".join(t)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("input")
    parser.add_argument("--tool", default="quilt-opt")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=50)
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.tool_args = argv[split + 1 :]

    rng = random.Random(args.seed)
    tokens = TOKEN.findall(open(args.input).read())
    rejected = 0
    for i in range(args.count):
        mutant = mutate(tokens, rng)
        run = subprocess.run(
            [args.tool, "-", *args.tool_args],
            input=mutant.encode(),
            capture_output=True,
            timeout=120,
        )
        if run.returncode not in (0, 1):
            sys.stderr.write(mutant)
            print(f"CRASH on mutant {i}: exit {run.returncode}")
            print(run.stderr.decode(errors="replace")[:2000])
            return 1
        rejected += run.returncode == 1
    print(f"{args.count} mutants, {rejected} rejected with a diagnostic, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
