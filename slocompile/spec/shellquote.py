"""Jinja values in trigger `command:` strings are shell-quoted.

A declaration file is rendered as one Jinja template before it is parsed as YAML, so a value such
as `--var 'v=x; touch PWNED'` would reach `command: "notify {{ var('v') }}"` as shell syntax.
Before rendering, every `{{ expression }}` inside the value of a `command:` or `run:` key (in a
file that declares `triggers:`) becomes `{{ (expression) | shell_quote }}`. The filter leaves a
value that needs no quoting as it is, and replaces any other with a placeholder token (letters and
digits: it cannot change how the YAML parses, whatever its quoting style); the trigger parser
turns each token into shlex.quote(value) with expand(). `{{ x | raw }}` opts out: the text is
inserted as it is.
"""
from __future__ import annotations

import bisect
import hashlib
import os
import re
import shlex

_TOKEN = re.compile(r"SLOQ([0-9a-f]{24})Q")
_SALT = os.urandom(16)  # tokens cannot be predicted, so cannot be forged in other text
_values: dict[str, str] = {}  # token digest -> the value it stands for (process-local)

_TRIGGERS = re.compile(r"""^[ \t]*['"]?triggers['"]?[ \t]*:""", re.MULTILINE)
_KEY = re.compile(r"""(?:^[ \t]*(?:-[ \t]+)*|[{,][ \t]*)(['"]?(?:command|run)['"]?)[ \t]*:(?=[ \t]|$)""")
_RAW_BLOCK = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")


class Raw(str):
    """Text a user asked to insert into a command as it is (`| raw`)."""


def raw(value) -> Raw:
    return Raw(value)


def shell_quote(value) -> str:
    """The Jinja filter the rewrite adds: the value, or a token for its shell-quoted form."""
    text = str(value)
    if isinstance(value, Raw) or shlex.quote(text) == text:
        return text
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=_SALT, digest_size=12).hexdigest()
    _values[digest] = text
    return f"SLOQ{digest}Q"


FILTERS = {"raw": raw, "shell_quote": shell_quote}


def expand(command: str) -> str:
    """A command string with each token replaced by its value, shell-quoted."""
    if "SLOQ" not in command:
        return command
    return _TOKEN.sub(lambda m: shlex.quote(_values[m.group(1)]) if m.group(1) in _values else m.group(), command)


def quote_commands(text: str) -> str:
    """`text` (a Jinja template of YAML) with the expressions inside command values quoted.

    A value starts after a `command:` or `run:` key and goes on over the lines indented more than
    the key (block scalars, multi-line strings, a nested `{run: ..., timeout: ...}`). Line breaks
    are kept, so every line stays where it was."""
    if "{{" not in text or not _TRIGGERS.search(text):
        return text
    starts = _command_starts(text)
    if not starts:
        return text
    out, i, n = [], 0, len(text)
    line_offsets = _line_offsets(text)
    while i < n:
        j = text.find("{", i)
        if j < 0 or j + 1 >= n:
            break
        kind = text[j + 1]
        if kind not in "{%#":
            out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(text[i:j])
        raw_block = _RAW_BLOCK.match(text, j) if kind == "%" else None
        if raw_block:  # data up to endraw: nothing in it is an expression
            close = _ENDRAW.search(text, raw_block.end())
            end = close.end() if close else n
        else:
            end = _tag_end(text, j)
        chunk = text[j:end]
        if kind == "{" and _in_command(j, starts, line_offsets):
            chunk = _quoted(chunk)
        out.append(chunk)
        i = end
    out.append(text[i:])
    return "".join(out)


def _line_offsets(text: str) -> list[int]:
    offsets, pos = [0], text.find("\n")
    while pos >= 0:
        offsets.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return offsets


def _command_starts(text: str) -> dict[int, int]:
    """0-based line -> the column from which that line is inside a command value."""
    starts: dict[int, int] = {}
    owner = None  # the column of the command key whose value may go on over the next lines
    for number, line in enumerate(text.split("\n")):
        body = line.rstrip("\r")
        indent = len(body) - len(body.lstrip(" \t"))
        if owner is not None:
            if not body.strip() or indent > owner:
                starts[number] = 0
                continue
            owner = None
        m = next((m for m in _KEY.finditer(body) if _outside_quotes(body, m.start())), None)
        if m:
            starts[number], owner = m.end(), m.start(1)
    return starts


def _outside_quotes(line: str, pos: int) -> bool:
    """Whether `pos` of a YAML line is outside quoted scalars (`description: "a, run: b"` holds no key)."""
    quote, i = None, 0
    while i < pos:
        c = line[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if quote is None and c in "'\"":
            quote = c
        elif c == quote:
            quote = None  # a doubled '' closes and reopens: the same state two characters on
        i += 1
    return quote is None


def _in_command(offset: int, starts: dict[int, int], line_offsets: list[int]) -> bool:
    line = bisect.bisect_right(line_offsets, offset) - 1
    return line in starts and offset - line_offsets[line] >= starts[line]


def _quoted(expression: str) -> str:
    """`{{ e }}` -> `{{ (e) | shell_quote }}`, keeping whitespace control (`{{-`, `-}}`)."""
    head = 3 if expression[2:3] in ("-", "+") else 2
    if not expression.endswith("}}"):
        return expression  # unterminated: Jinja reports it
    tail = 3 if expression[-3:-2] in ("-", "+") and len(expression) - 3 >= head else 2
    inner = expression[head:len(expression) - tail]
    if not inner.strip():
        return expression
    return f"{expression[:head]} ({inner}) | shell_quote {expression[len(expression) - tail:]}"


def _tag_end(text: str, i: int) -> int:
    """The index just past the Jinja tag, expression or comment starting at `i` (strings in it may
    hold its closing characters)."""
    kind = text[i + 1]
    close = {"{": "}}", "%": "%}", "#": "#}"}[kind]
    j, n = i + 2, len(text)
    if kind == "#":
        k = text.find(close, j)
        return n if k < 0 else k + 2
    quote, depth = None, 0
    while j < n:
        c = text[j]
        if quote:
            if c == "\\":
                j += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif depth == 0 and text.startswith(close, j):
            return j + 2
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        j += 1
    return n
