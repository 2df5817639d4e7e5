"""The secrets this process has read, and their redaction wherever text leaves it.

A value read with `env_var()` while rendering declarations, and the passwords and tokens of a
target's connection settings (also inside a DSN or URL), are recorded here as they are read.
Text that leaves the process passes through redact() (terminal summaries, error messages,
artifacts, the alerts table): each recorded value, also as it appears JSON-, XML-, URL- or
shell-quoted, becomes `env_var('NAME')` or `***`. SQL that runs (compiled files, `slocompile
show`) is not redacted: it must stay runnable.

Values shorter than MIN_LENGTH characters, and true/false/null-like words, are not recorded:
hiding every "8" or "true" in the output would make it unreadable and protect nothing.
"""
from __future__ import annotations

import html
import json
import re
import shlex
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any, TextIO, TypeVar, cast

_T = TypeVar("_T")

MIN_LENGTH = 4
MASK = "***"
_NOT_SECRET = frozenset({"true", "false", "null", "none", "yes", "no", "on", "off"})
# setting names whose value is a secret (password, sslpassword, token, api_key, client_secret, ...)
_SECRET_KEY = re.compile(r"pass(word|wd)?$|secret|token|api_?key|private_?key|credential", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:([^@/?#\s]+)@")
_KEY_VALUE = re.compile(r"(?:^|[\s;&?])([A-Za-z_]*(?:password|passwd|secret|token|api_?key)[A-Za-z_]*)\s*=\s*"
                        r"('(?:[^'\\]|\\.)*'|[^\s;&]+)", re.IGNORECASE)

_lock = threading.Lock()
_labels: dict[str, str] = {}  # a secret's text (in every quoted form) -> its replacement
_pattern: re.Pattern | None = None


def register(value: object, label: str = MASK) -> None:
    """Record a secret; redact() replaces it (and its quoted forms) with `label` from now on."""
    global _pattern
    text = str(value) if value is not None else ""
    if len(text.strip()) < MIN_LENGTH or text.strip().lower() in _NOT_SECRET:
        return
    forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], shlex.quote(text),
             urllib.parse.quote(text, safe=""), urllib.parse.quote_plus(text), html.escape(text),
             html.escape(text, quote=False)}
    with _lock:
        new = {f: label for f in forms if len(f) >= MIN_LENGTH and f not in _labels}
        if new:
            _labels.update(new)
            _pattern = re.compile("|".join(re.escape(f) for f in sorted(_labels, key=len, reverse=True)))


def register_env(name: str, value: str) -> None:
    """A value env_var() read: redacted as `env_var('NAME')`; a password inside it (a DSN) as ***."""
    for part in embedded_secrets(value):
        register(part)
    register(value, f"env_var('{name}')")


def register_settings(options: Mapping) -> None:
    """The secrets among a target's connection settings: values of password/token/secret-like
    keys, and passwords inside DSNs and URLs (nested mappings such as Spark `conf` too)."""
    for key, value in (options or {}).items():
        if isinstance(value, Mapping):
            register_settings(value)
            continue
        if value is None or isinstance(value, bool):
            continue
        if _SECRET_KEY.search(str(key)):
            register(value)
        if isinstance(value, str):
            for part in embedded_secrets(value):
                register(part)


def embedded_secrets(text: str) -> list[str]:
    """Passwords and tokens written inside a connection string: `scheme://user:PW@host`,
    libpq `password=PW`, query parameters and `;token=T` of a URL."""
    if not isinstance(text, str):
        return []
    found = []
    for m in _URL_PASSWORD.finditer(text):
        found += [m.group(1), urllib.parse.unquote(m.group(1))]
    for m in _KEY_VALUE.finditer(text):
        raw = m.group(2)
        value = raw[1:-1].replace("\\'", "'").replace("\\\\", "\\") if raw.startswith("'") else raw
        found += [value, urllib.parse.unquote(value)]
    return found


def redact(text: _T) -> _T:
    """`text` with every recorded secret replaced (anything not a str is returned as it is)."""
    pattern = _pattern
    if pattern is None or not isinstance(text, str) or not text:
        return text
    return cast(_T, pattern.sub(lambda m: _labels[m.group()], text))  # text is a str here


def redact_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, tuples, strings) with every string redacted, keys too."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


class RedactingStream:
    """A text stream that redacts what is written to it (for the terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, ...: the wrapped stream's
        return getattr(self._stream, name)
