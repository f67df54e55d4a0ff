#===- ptx_values.py - PTX types, bit patterns and float conversions ------===#
"""Registers hold raw bit patterns (Python ints, unsigned) or bools for
predicates; instructions read them through their type suffix."""

from __future__ import annotations

import math
import struct

WIDTH = {
    "b8": 8, "u8": 8, "s8": 8,
    "b16": 16, "u16": 16, "s16": 16, "f16": 16, "bf16": 16,
    "b32": 32, "u32": 32, "s32": 32, "f32": 32, "f16x2": 32, "bf16x2": 32,
    "b64": 64, "u64": 64, "s64": 64, "f64": 64,
    "pred": 1,
}
SIGNED = {"s8", "s16", "s32", "s64"}
FLOATS = {"f16", "bf16", "f32", "f64"}


def mask(bits: int) -> int:
    return (1 << bits) - 1


def to_signed(value: int, bits: int) -> int:
    value &= mask(bits)
    return value - (1 << bits) if value >> (bits - 1) else value


def _codec(float_format: str, int_format: str, bits: int, inf: int):
    """(bits -> float, float -> bits nearest) of an IEEE format; overflow
    past the largest finite value rounds to infinity."""
    as_float, as_int = struct.Struct(float_format), struct.Struct(int_format)
    m = mask(bits)

    def value(pattern: int) -> float:
        return as_float.unpack(as_int.pack(pattern & m))[0]

    def to_bits(x: float) -> int:
        try:
            return as_int.unpack(as_float.pack(x))[0]
        except OverflowError:
            return inf if x > 0 else inf | (1 << (bits - 1))
    return value, to_bits


f32_value, f32_bits = _codec("<f", "<I", 32, 0x7F800000)
f16_value, f16_bits = _codec("<e", "<H", 16, 0x7C00)
f64_value, f64_bits = _codec("<d", "<Q", 64, 0x7FF0000000000000)


def bf16_value(bits: int) -> float:
    return f32_value((bits & 0xFFFF) << 16)


def bf16_bits(value: float) -> int:
    """f32 rounding first (the value is an f32 result), then nearest even."""
    u = f32_bits(value)
    if (u & 0x7F800000) == 0x7F800000 and u & 0x7FFFFF:
        return 0x7FC0
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF


_FLOAT_CODECS = {"f32": (f32_value, f32_bits), "f16": (f16_value, f16_bits),
                 "bf16": (bf16_value, bf16_bits), "f64": (f64_value, f64_bits)}


def decode(bits: int, type_: str):
    """The value of `bits` as a `type_` number (int or float)."""
    if type_ in _FLOAT_CODECS:
        return _FLOAT_CODECS[type_][0](bits)
    width = WIDTH[type_]
    return to_signed(bits, width) if type_ in SIGNED else bits & mask(width)


def encode(value, type_: str) -> int:
    """The bit pattern of `value` as `type_` (floats rounded to nearest)."""
    if type_ in _FLOAT_CODECS:
        return _FLOAT_CODECS[type_][1](value)
    return int(value) & mask(WIDTH[type_])


def parse_immediate(text: str) -> int:
    """Integer or PTX float-bits immediate (0fXXXXXXXX, 0dXXXX...)."""
    t = text.strip()
    if t[:2] in ("0f", "0F") and len(t) == 10:
        return int(t[2:], 16)
    if t[:2] in ("0d", "0D") and len(t) == 18:
        return int(t[2:], 16)
    return int(t, 0)


def round_half_even(x: float) -> float:
    return float(round(x)) if math.isfinite(x) else x
