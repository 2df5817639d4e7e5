"""The Jinja sandbox declarations are rendered in, with hard limits on size and work.

Jinja's own sandbox keeps templates away from Python internals but lets one line such as
`{{ 'x' * 2000000000 }}` take minutes and gigabytes. Here every operation that can make a value
much larger than its inputs (`*`, `**`, `%`, `+`, padding and joining methods and filters,
`lipsum`) is checked *before* it runs, every call, filter and loop iteration counts against a
budget of work, and the rendered text is capped: a hostile or mistaken template fails at once,
with its line, instead of exhausting the machine.
"""
from __future__ import annotations

import collections.abc
import functools
import re
from collections.abc import Generator

from jinja2 import nodes
from jinja2.runtime import Macro
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from slocompile.spec.limits import MAX_INT_BITS, MAX_ITEMS, MAX_STEPS, MAX_TEXT, over

_ITERATE, _CONCAT = "_slocompile_iterate", "_slocompile_concat"
_NUMBER = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
# filters whose result is (about) their input as text: the input's text size is checked first
_TEXT_FILTERS = frozenset({"string", "pprint", "tojson", "e", "escape", "forceescape", "striptags", "upper",
                           "lower", "title", "capitalize", "trim", "truncate", "wordcount", "urlencode", "urlize",
                           "xmlattr", "filesizeformat", "center", "indent", "wordwrap", "replace", "format"})


class RenderLimit(Exception):
    """A template went over one of the limits above; the message says which."""


def _over(what: str, size: int, limit: int, unit: str) -> RenderLimit:
    return RenderLimit(over(what, size, limit, unit))


def check_text(size: int, what: str = "a string") -> None:
    if size > MAX_TEXT:
        raise _over(what, size, MAX_TEXT, "characters")


def _check_items(size: int, what: str = "a list") -> None:
    if size > MAX_ITEMS:
        raise _over(what, size, MAX_ITEMS, "items")


def _size(value) -> int:
    """len() of a sized value, else 0 (numbers, dates, objects: small)."""
    try:
        return len(value) if isinstance(value, collections.abc.Sized) else 0
    except Exception:  # a Sized object whose __len__ fails: Jinja will report it where it is used
        return 0


def text_size(value, limit: int = MAX_TEXT) -> int:
    """A lower bound of len(str(value)), walked without building it; stops just past `limit` or
    after MAX_ITEMS elements (shared and nested lists can make a huge text from little memory)."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() * 3 // 10 + 1
    total, walked, stack, path = 0, 0, [value], set()
    done = object()  # marks the end of a collection's items: it leaves the path
    while stack and total <= limit:
        v = stack.pop()
        if v is done:
            path.discard(stack.pop())
            continue
        if isinstance(v, (str, bytes)):
            total += len(v) + 2
            continue
        if isinstance(v, Namespace):  # prints its attributes
            v = object.__getattribute__(v, "_Namespace__attrs")
        if not isinstance(v, collections.abc.Collection) or isinstance(v, range):
            total += 4  # a number, a date, None, a range, an object: its text is short
            continue
        if id(v) in path:  # a list that holds itself prints as [...]
            total += 5
            continue
        path.add(id(v))
        stack += [id(v), done]
        items = [x for kv in v.items() for x in kv] if isinstance(v, collections.abc.Mapping) else v
        for item in items:
            walked += 1
            if walked > MAX_ITEMS:
                raise _over("a value to print", walked, MAX_ITEMS, "items")
            stack.append(item)
        total += 2 + 2 * _size(items)
    return total


def _check_printed(value, what: str = "a value to print") -> None:
    size = text_size(value)
    if size > MAX_TEXT:
        raise _over(what, size, MAX_TEXT, "characters")


def _repeat(seq, times, what: str) -> None:
    """`seq * times`: the result's length, checked before it is made."""
    if isinstance(times, bool) or not isinstance(times, int) or times <= 0:
        return
    n = _size(seq) * times
    if isinstance(seq, (str, bytes)):
        check_text(n, what)
    else:
        _check_items(n, what)


def _percent_size(fmt: str, args) -> int:
    """An upper bound of len(fmt % args): each conversion can print the largest argument,
    padded to the largest width or precision."""
    values = list(args.values()) if isinstance(args, collections.abc.Mapping) else (
        list(args) if isinstance(args, tuple) else [args])
    specs = _PERCENT_SPEC.findall(fmt)
    widths = [int(x) for spec in specs for x in spec if x.isdigit()]
    if any("*" in spec for spec in specs):
        widths += [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    largest = max((text_size(v) for v in values), default=0)
    return len(fmt) + len(specs) * (largest + max(widths, default=0))


class _Counting:
    """str.format with each field's width and precision checked, and the whole result counted."""

    def vformat(self, format_string, args, kwargs):
        self._made = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value, format_spec):
        numbers = [int(n) for n in _NUMBER.findall(format_spec)]
        self._made += max(numbers, default=0) + text_size(value)
        check_text(self._made, "a formatted string")
        return super().format_field(value, format_spec)


class _BoundedFormatter(_Counting, SandboxedFormatter):
    pass


class _BoundedEscapeFormatter(_Counting, SandboxedEscapeFormatter):
    pass


def _method_result_size(method, args, kwargs) -> None:
    """Check the size a str, bytes or list method would make, before it runs."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, (str, bytes)):
        n = len(owner)
        if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
            check_text(args[0], f"{name}({args[0]})")
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tab, int):
                tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
                check_text(n + tabs * tab, "expandtabs()")
        elif name == "replace" and len(args) >= 2:
            check_text(_replaced_size(owner, args[0], args[1], args[2] if len(args) > 2 else -1), "replace()")
        elif name == "join" and args:
            items = args[0]  # made a list by the caller
            _check_items(_size(items), "join()")
            check_text(sum(_size(i) for i in items) + n * max(_size(items) - 1, 0), "join()")
        elif name == "translate" and args and isinstance(args[0], collections.abc.Mapping):
            longest = max((_size(v) for v in args[0].values()), default=1)
            check_text(n * max(longest, 1), "translate()")
    elif isinstance(owner, list) and name in ("extend", "__iadd__") and args:
        _check_items(len(owner) + _size(args[0]), "extend()")


def _replaced_size(text, old, new, count) -> int:
    if not isinstance(text, (str, bytes)) or not isinstance(old, type(text)) or not isinstance(new, type(text)):
        return _size(text)
    hits = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def _check_filter(name: str, value, params: tuple, kwargs: dict) -> None:
    """Check what the builtin filter `name` would make from `value`, before it runs."""
    if name in _TEXT_FILTERS:
        _check_printed(value, f"the input of |{name}")

    def param(i, key, default=None):
        return params[i] if len(params) > i else kwargs.get(key, default)

    text = value if isinstance(value, str) else None
    if name == "center" and isinstance(param(0, "width", 80), int):
        check_text(param(0, "width", 80), "|center")
    elif name == "indent" and text is not None:
        width = param(0, "width", 4)
        check_text(len(text) + (text.count("\n") + 1) * (width if isinstance(width, int) else _size(width)), "|indent")
    elif name == "wordwrap" and text is not None:
        width, wrap = param(0, "width", 79), param(2, "wrapstring", None)
        if isinstance(width, int) and width > 0:
            lines = len(text) // width + text.count("\n") + 1
            check_text(len(text) + lines * max(_size(wrap), 1), "|wordwrap")
    elif name == "replace":
        check_text(_replaced_size(str(value), param(0, "old"), param(1, "new"), param(2, "count", None)), "|replace")
    elif name == "format" and text is not None:
        check_text(_percent_size(text, kwargs or params), "|format")
    elif name == "join":
        items = value  # made a list by the caller
        _check_items(_size(items), "|join")
        check_text(sum(text_size(i) for i in items) + _size(param(0, "d", "")) * max(_size(items) - 1, 0), "|join")
    elif name in ("batch", "slice") and isinstance(param(0, "linecount" if name == "batch" else "slices"), int):
        _check_items(param(0, "linecount" if name == "batch" else "slices"), f"|{name}")
    elif name == "sum":
        items = value  # made a list by the caller
        made = sum(_size(i) for i in items) + _size(param(1, "start", 0))
        _check_items(made, "|sum")
        _check_items(made * _size(items) // 1000, "the work of |sum")  # list + list copies: quadratic


class _Instrument(NodeTransformer):
    """Every loop iterates through a counting wrapper and every `~` is a checked call."""

    def __init__(self, env):
        self.env = env

    def _call(self, name: str, args: list, lineno: int):
        call = nodes.Call(nodes.Name(name, "load", lineno=lineno), args, [], None, None, lineno=lineno)
        return call.set_environment(self.env)

    def visit_For(self, node):
        node = self.generic_visit(node)
        node.iter = self._call(_ITERATE, [node.iter], node.lineno)
        return node

    def visit_Concat(self, node):
        node = self.generic_visit(node)
        return self._call(_CONCAT, list(node.nodes), node.lineno)


class BoundedEnvironment(SandboxedEnvironment):
    """A SandboxedEnvironment with the limits above; render with `render_bounded`."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **kwargs):
        super().__init__(finalize=self._finalize, **kwargs)
        self.steps = 0
        self.filters = {name: self._guard_filter(name, f) for name, f in self.filters.items()}
        self.globals.update({_ITERATE: self._iterate, _CONCAT: self._concat, "lipsum": self._lipsum})

    def render_bounded(self, source: str) -> str:
        """The rendered text; RenderLimit (raised inside the template, so its traceback has the
        template's line) when the output or the work goes over the limits."""
        self.steps = 0
        chunks, size = [], 0
        stream: Generator[str, None, None] = self.from_string(source).generate()  # type: ignore[assignment]
        for chunk in stream:
            size += len(chunk)
            if size > MAX_TEXT:
                stream.throw(_over("the rendered file", size, MAX_TEXT, "characters"))
            chunks.append(chunk)
        return "".join(chunks)

    def _step(self, work: int = 1) -> None:
        self.steps += work
        if self.steps > MAX_STEPS:
            raise RenderLimit(f"the template does more than {MAX_STEPS:,} steps of work (calls, filters, loop "
                              "iterations), over the limit (declarations are data; see 'Limits' in docs/reference.md)")

    def _generate(self, source, name, filename, defer_init=False):
        return super()._generate(_Instrument(self).visit(source), name, filename, defer_init)

    def _finalize(self, value):
        _check_printed(value)
        return value

    def _iterate(self, iterable):
        for item in iterable:
            self._step()
            yield item

    def _concat(self, *values):
        total = 0
        for v in values:
            total += text_size(v)
            check_text(total, "a string made with ~")
        self._step(1 + total // 1024)
        return "".join(map(str, values))

    def _lipsum(self, n=5, html=True, min=20, max=100):
        from jinja2.utils import generate_lorem_ipsum

        if isinstance(n, int) and isinstance(max, int):
            check_text(n * max * 12, f"lipsum({n})")
        return generate_lorem_ipsum(n, html, min, max)

    def _guard_filter(self, name: str, fn):
        skip = 1 if hasattr(fn, "jinja_pass_arg") else 0  # its context, environment or eval context

        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            value = args[skip] if len(args) > skip else None
            if name in ("join", "sum") and not isinstance(value, collections.abc.Sized) and value is not None:
                value = _listed(value)  # measured first, then passed on
                args = (*args[:skip], value, *args[skip + 1:])
            self._step(_work(value))
            _check_filter(name, value, args[skip + 1:], kwargs)
            return self._checked(fn(*args, **kwargs), f"the result of |{name}")

        return guarded

    @staticmethod
    def _checked(result, what: str):
        if isinstance(result, (str, bytes)):
            check_text(len(result), what)
        elif isinstance(result, (list, tuple, dict, set)):
            _check_items(len(result), what)
        return result

    def call_binop(self, context, operator, left, right):
        self._step(_work(left) + _work(right) - 1)
        if operator == "*":
            if isinstance(right, int):
                _repeat(left, right, "a repeated string or list")
            if isinstance(left, int):
                _repeat(right, left, "a repeated string or list")
            if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _over("a product", left.bit_length() + right.bit_length(), MAX_INT_BITS, "bits")
        elif operator == "**" and _is_int(left) and _is_int(right) and abs(left) > 1 and right > 0:
            bits = right * left.bit_length()
            if bits > MAX_INT_BITS:
                raise _over("a power", bits, MAX_INT_BITS, "bits")
        elif operator == "%" and isinstance(left, str):
            check_text(_percent_size(left, right), "a %-formatted string")
        elif operator == "+":
            if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
                check_text(len(left) + len(right), "a string made with +")
            elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
                _check_items(len(left) + len(right), "a list made with +")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if name == "join" and isinstance(owner, (str, bytes)) and args \
                and not isinstance(args[0], collections.abc.Sized):
            args = (_listed(args[0]), *args[1:])  # measured first, then passed on
        weight = _MACRO_WEIGHT if isinstance(__obj, Macro) else 0  # a macro call costs ~20 plain ones
        __self._step(weight + _work(owner if name not in _CHEAP_METHODS else None) + sum(_work(a) - 1 for a in args))
        _method_result_size(__obj, args, kwargs)
        return __self._checked(super().call(__context, __obj, *args, **kwargs), "the result of a call")

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__
        formatter = _BoundedEscapeFormatter(self, escape=text.escape) if isinstance(text, Markup) \
            else _BoundedFormatter(self)
        is_map = value.__name__ == "format_map"

        @functools.wraps(value)
        def bounded(*args, **kwargs):
            if is_map:
                if kwargs or len(args) != 1:
                    return wrapped(*args, **kwargs)  # Jinja's own message for the wrong arguments
                args, kwargs = (), args[0]
            return type(text)(formatter.vformat(text, args, kwargs))

        return bounded


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_MACRO_WEIGHT = 20
_CHEAP_METHODS = frozenset({"append", "pop", "get", "setdefault", "add", "items", "keys", "values", "startswith",
                            "endswith", "isdigit", "isalpha", "isupper", "islower"})


def _work(value) -> int:
    """Steps of an operation over `value`: one, plus its elements (text counts per KiB)."""
    size = _size(value)
    return 1 + (size // 1024 if isinstance(value, (str, bytes)) else size // 16)


def _listed(iterable) -> list:
    out = []
    for item in iterable:
        out.append(item)
        _check_items(len(out), "a joined or summed sequence")
    return out

