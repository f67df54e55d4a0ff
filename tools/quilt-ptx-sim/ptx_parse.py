#===- ptx_parse.py - Parse the PTX that quilt-nvptx-pipeline emits --------===#
"""Splits a PTX module into entries and each entry's body into statements:
labels, predicates, opcodes and operands. Inline-asm blocks (`{ ... }`)
declare registers and labels of their own (LAB_WAIT, DONE, p) that repeat
from block to block, so each block's names get a unique suffix."""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

_COMMENT = re.compile(r"//[^\n]*")
_LABEL = re.compile(r"^([A-Za-z_$][\w$]*):\s*")
_LOCAL_REG = re.compile(r"^\.reg\s+\.\w+\s+([^;]+)$")
_NAME = re.compile(r"[A-Za-z_$%][\w$.]*")


@dataclasses.dataclass
class Statement:
    opcode: str  # "add.s32", "bra.uni", ...
    operands: list[str]
    pred: Optional[str] = None  # guard register
    negate: bool = False  # "@!%p"
    text: str = ""  # as written, for errors


@dataclasses.dataclass
class Entry:
    name: str
    params: list[str]
    body: list[Statement]
    labels: dict[str, int]  # label -> index of the statement it names


def split_operands(text: str) -> list[str]:
    """Top-level comma split that keeps `{a, b}` and `[x+1]` whole."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _rename(operands: list[str], names: dict[str, str]) -> list[str]:
    if not names:
        return operands
    return [_NAME.sub(lambda m: names.get(m.group(0), m.group(0)), op) for op in operands]


def _parse_statement(text: str) -> Statement:
    pred, negate = None, False
    if text.startswith("@"):
        guard, text = text.split(None, 1)
        negate = guard.startswith("@!")
        pred = guard[2:] if negate else guard[1:]
    parts = text.split(None, 1)
    operands = split_operands(parts[1]) if len(parts) > 1 else []
    return Statement(parts[0], operands, pred, negate)


def parse_entry_body(name: str, params: list[str], body: str) -> Entry:
    statements: list[Statement] = []
    labels: dict[str, int] = {}
    scopes: list[dict[str, str]] = []  # innermost last
    block_id = 0

    def rename(names: list[str]) -> list[str]:
        for scope in reversed(scopes):
            names = _rename(names, scope)
        return names

    # Braces open or close an inline-asm block where a statement would
    # start; elsewhere they are a vector operand.
    pending = ""
    for pos, ch in enumerate(body + ";"):
        if ch in "{}" and not pending.strip():
            if ch == "{":
                block_id += 1
                scopes.append({})
                # Labels of the block, for branches ahead of them.
                depth, j = 1, pos + 1
                while depth and j < len(body):
                    depth += {"{": 1, "}": -1}.get(body[j], 0)
                    j += 1
                for label in re.findall(r"(?:^|[;{}])\s*([A-Za-z_$][\w$]*):", body[pos + 1:j]):
                    scopes[-1][label] = f"{label}${block_id}"
            else:
                scopes.pop()
            pending = ""
            continue
        if ch != ";":
            pending += ch
            continue
        text = " ".join(pending.split())
        pending = ""
        while True:
            m = _LABEL.match(text)
            if not m:
                break
            label = m.group(1)
            if scopes:
                scopes[-1][label] = f"{label}${block_id}"
            labels[rename([label])[0]] = len(statements)
            text = text[m.end():]
        if not text:
            continue
        if text.startswith("."):
            m = _LOCAL_REG.match(text)
            if m and scopes:
                for reg in m.group(1).split(","):
                    reg = reg.strip()
                    scopes[-1][reg] = f"{reg}${block_id}"
            continue  # .reg declarations of the entry: registers are dynamic
        stmt = _parse_statement(text)
        stmt.text = text
        stmt.operands = rename(stmt.operands)
        if stmt.pred:
            stmt.pred = rename([stmt.pred])[0]
        statements.append(stmt)
    return Entry(name, params, statements, labels)


def _end_labels(body: str) -> str:
    """Labels inside inline asm are written `DONE: }` (no `;` after them):
    give each a `;` so the splitter sees it as a statement of its own."""
    return re.sub(r"(^|\n)\s*([A-Za-z_$][\w$]*):\s*", r"\1\2: ;", body)


def parse_module(text: str) -> dict[str, Entry]:
    text = _COMMENT.sub("", text)
    entries: dict[str, Entry] = {}
    for m in re.finditer(r"\.entry\s+(\w+)\s*\(([^)]*)\)", text):
        name = m.group(1)
        params = [p.split()[-1].rstrip(",") for p in m.group(2).split(",") if p.strip()]
        start = text.index("{", m.end())
        depth, i = 0, start
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        body = _end_labels(text[start + 1:i])
        entries[name] = parse_entry_body(name, params, body)
    return entries
