#===- ptx_operands.py - Operand readers and writers of compiled statements -===#
"""Turns operand text into closures over a thread: registers, immediates,
special registers, symbols and `[base+offset]` addresses."""

from __future__ import annotations

import re
from typing import Callable

from ptx_machine import SimError, Thread
from ptx_values import mask, parse_immediate

Getter = Callable[[Thread], int]

_SPECIAL: dict[str, Callable[[Thread], int]] = {
    "%tid.x": lambda t: t.tid,
    "%tid.y": lambda t: 0,
    "%tid.z": lambda t: 0,
    "%ntid.x": lambda t: t.cta.launch.threads,
    "%ntid.y": lambda t: 1,
    "%ntid.z": lambda t: 1,
    "%ctaid.x": lambda t: t.cta.xyz[0],
    "%ctaid.y": lambda t: t.cta.xyz[1],
    "%ctaid.z": lambda t: t.cta.xyz[2],
    "%nctaid.x": lambda t: t.cta.launch.dims[0],
    "%nctaid.y": lambda t: t.cta.launch.dims[1],
    "%nctaid.z": lambda t: t.cta.launch.dims[2],
    "%cluster_ctarank": lambda t: t.cta.rank,
    "%cluster_nctarank": lambda t: len(t.cta.cluster),
    "%cluster_ctaid.x": lambda t: t.cta.xyz[0] % t.cta.launch.cluster_dims[0],
    "%cluster_nctaid.x": lambda t: t.cta.launch.cluster_dims[0],
    "%clusterid.x": lambda t: t.cta.xyz[0] // t.cta.launch.cluster_dims[0],
    "%nclusterid.x": lambda t: t.cta.launch.dims[0] // t.cta.launch.cluster_dims[0],
    "%laneid": lambda t: t.lane,
    "%warpid": lambda t: t.warp,
}
SHARED_SYMBOL = "__quilt_shared"  # the kernels' one shared array, at offset 0
_ADDRESS = re.compile(r"^\[\s*([^\]+]+?)\s*(?:\+\s*(-?\w+))?\s*\]$")


def is_register(text: str) -> bool:
    return text.startswith("%") and text not in _SPECIAL


def getter(text: str, bits: int = 64) -> Getter:
    """Reads operand `text` as an unsigned `bits`-wide pattern."""
    text = text.strip()
    m = mask(bits)
    if text in _SPECIAL:
        return _SPECIAL[text]
    if text.startswith("%") or text.startswith("P") or re.match(r"^[A-Za-z_]\w*\$\d+$", text):
        name = text

        def read(t: Thread, name=name, m=m):
            value = t.regs.get(name, 0)
            return value & m if not isinstance(value, bool) else value

        return read
    if text == SHARED_SYMBOL:
        return lambda t: 0
    try:
        value = parse_immediate(text) & m
    except ValueError:
        raise SimError(f"unsupported operand '{text}'") from None
    return lambda t, v=value: v


def pred_getter(text: str) -> Callable[[Thread], bool]:
    text = text.strip()
    if re.match(r"^-?(0x[0-9a-fA-F]+|\d+)$", text):  # mov.pred %p, -1
        value = int(text, 0) != 0
        return lambda t: value
    negate = text.startswith("!")
    name = text[1:] if negate else text
    return lambda t: bool(t.regs.get(name, False)) != negate


def vector(text: str) -> list[str]:
    """`{%r1, %r2}` -> ['%r1', '%r2']; a scalar -> [it]."""
    text = text.strip()
    if text.startswith("{"):
        return [x.strip() for x in text[1:-1].split(",") if x.strip()]
    return [text]


def address(text: str, params: dict[str, int]) -> tuple[Getter, bool]:
    """`[base+offset]` -> (address getter, is_param). A param's "address"
    is its name's value, read by ld.param."""
    m = _ADDRESS.match(text.strip())
    if not m:
        raise SimError(f"unsupported address '{text}'")
    base, off = m.group(1), int(m.group(2), 0) if m.group(2) else 0
    if base in params:
        value = params[base]
        return (lambda t: value), True
    read = getter(base)
    if off == 0:
        return read, False
    return (lambda t: (read(t) + off) & mask(64)), False
