#!/usr/bin/env python3
# ===- npy.py - Write and dump .npy files for quilt-run tests -------------=== #
#
# Writes .npy files with the standard library only (no numpy), including the
# malformed ones the error tests need, and dumps the ones quilt-run writes.
#
#   npy.py write FILE DESCR SHAPE EXPR [--fortran] [--truncate N] [--bad-magic]
#       element at index tuple `i` (C order) is eval(EXPR); SHAPE is "2x3"
#       ("" for a scalar); DESCR is a numpy dtype string ('<f4', '<i4', ...)
#   npy.py dump FILE
#       prints "DESCR SHAPE" and then the values, one per line
#
# ===----------------------------------------------------------------------=== #

import argparse
import ast
import itertools
import struct

FORMATS = {"<f4": "f", "<f2": "e", "<f8": "d", "|i1": "b", "<i4": "i", "<i8": "q"}


def write(args):
    shape = tuple(int(d) for d in args.shape.split("x")) if args.shape else ()
    values = [
        eval(args.expr, {"i": i})
        for i in itertools.product(*(range(d) for d in shape))
    ]
    data = struct.pack("<%d%s" % (len(values), FORMATS[args.descr]), *values)
    if args.truncate:
        data = data[: -args.truncate]
    shape_text = "(%s)" % "".join("%d, " % d for d in shape).rstrip(" ")
    if len(shape) > 1:
        shape_text = shape_text.replace(",)", ")")
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        args.descr,
        "True" if args.fortran else "False",
        shape_text,
    )
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    magic = b"\x93NUMPX" if args.bad_magic else b"\x93NUMPY"
    with open(args.file, "wb") as f:
        f.write(magic + b"\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1") + data)


def dump(args):
    with open(args.file, "rb") as f:
        raw = f.read()
    assert raw[:6] == b"\x93NUMPY", "bad magic"
    (length,) = struct.unpack("<H", raw[8:10])
    header = ast.literal_eval(raw[10 : 10 + length].decode("latin1"))
    assert not header["fortran_order"]
    shape = header["shape"]
    count = 1
    for d in shape:
        count *= d
    fmt = "<%d%s" % (count, FORMATS[header["descr"]])
    values = struct.unpack(fmt, raw[10 + length : 10 + length + struct.calcsize(fmt)])
    print(header["descr"], "x".join(str(d) for d in shape))
    for v in values:
        print("%g" % v)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("file")
    w.add_argument("descr")
    w.add_argument("shape")
    w.add_argument("expr")
    w.add_argument("--fortran", action="store_true")
    w.add_argument("--truncate", type=int, default=0)
    w.add_argument("--bad-magic", action="store_true")
    d = sub.add_parser("dump")
    d.add_argument("file")
    args = parser.parse_args()
    write(args) if args.command == "write" else dump(args)


if __name__ == "__main__":
    main()
