"""Read a YAML file through Jinja into located nodes.

Every value keeps the line and column of the *source* file, also after Jinja
rendering: rendered lines are aligned back to source lines with a diff, so an
error in a line that Jinja touched still points at the line the user wrote.
"""
from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from slocompile.errors import Location, Problem, SpecError
from slocompile.spec.limits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_TEXT, over
from slocompile.spec.shellquote import FILTERS, quote_commands
from slocompile.support.gcpause import gc_paused
from slocompile.support.secrets import register_env

THIS = "__slocompile_this__"  # what `{{ this }}` renders to (an assert query's own table, spec.userquery)


@dataclass
class Node:
    """A YAML value with its source location; mappings and sequences hold Nodes."""

    value: Any
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)
    # a quoted scalar on a line with {{ ... }}: text Jinja printed, quoted for YAML editors, so a
    # field that wants a number may read it as one ("{{ var('min_rows') }}" -> 10; spec.fields)
    from_jinja: bool = False

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with all locations stripped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Undefined(Exception):
    pass


def render_jinja(text: str, filename: str, variables: dict, env_vars: dict[str, str] | None = None) -> str:
    """Render `text` as a Jinja template with var() and env_var(); problems raise SpecError."""
    return render_with_lines(text, filename, variables, env_vars)[0]


def render_with_lines(text: str, filename: str, variables: dict, env_vars: dict[str, str] | None = None,
                      defer_env: bool = False) -> tuple[str, list[int]]:
    """Render `text` with Jinja; also return, for each rendered line, the 1-based source line it came from.

    The template is rendered a second time with an invisible marker before the first character of
    each source line's text (never next to whitespace that Jinja's `-` control could strip), so
    every rendered line says which source line produced it, through loops, conditionals, macros and
    multi-line tags. If the markers changed the output (a filter that saw them), fall back to a diff.
    """
    env = _environment(variables, env_vars, defer_env)
    keeps_lines = _keeps_lines(text)
    rendered = _render_expression_lines(env, text, filename) if keeps_lines else None
    if rendered is None:
        rendered = _render(env, text, filename)
    if keeps_lines and rendered.count("\n") == text.count("\n"):  # line i renders to line i
        return rendered, list(range(1, rendered.count("\n") + 2))
    try:
        marked = env.render_bounded(_mark_lines(text))
    except Exception:  # the clean render worked; only the mapping falls back
        marked = None
    if marked is not None and _MARKER.sub("", marked) == rendered:
        return rendered, _map_from_markers(marked)
    return rendered, line_map(text, rendered)


_EXPRESSION = re.compile(r"{{.*?}}")


def _keeps_lines(text: str) -> bool:
    """True when Jinja can only change text within lines: no tags, no comments, every expression on
    one line and none stripping whitespace (the caller also checks the rendered line count)."""
    if "{%" in text or "{#" in text:
        return False
    exprs = _EXPRESSION.findall(text)
    if text.count("{{") != len(exprs):
        return False  # an expression spans lines
    return not any(e.startswith("{{-") or e.endswith("-}}") for e in exprs)  # `-` strips newlines


def _render_expression_lines(env, text: str, filename: str) -> str | None:
    """The render of `text` (that _keeps_lines), made by rendering only its lines that hold an
    expression, in order, as one template: Jinja copies every other line as it is, and a large
    declaration file renders several times faster. None where that shortcut is not exact (a \\r,
    which Jinja turns into \\n; an expression that printed a line break) or the template fails:
    the whole render then runs, and reports any error at its line. A limit is reported at once
    (rendering again would only repeat the work)."""
    if "\r" in text:
        return None
    lines = text.split("\n")
    holders = [i for i, line in enumerate(lines) if "{{" in line]
    from slocompile.spec.jinjalimits import RenderLimit  # with jinja2: only files that use Jinja need it

    try:
        out = env.render_bounded("\n".join(lines[i] for i in holders)).split("\n")
    except RenderLimit as e:
        line = _jinja_error_line(e, text)
        raise SpecError([Problem(Location(filename, holders[line - 1] + 1 if 0 < line <= len(holders) else 0),
                                 f"Jinja error: {e}")]) from None
    except Exception:
        return None
    if len(out) != len(holders):
        return None
    for i, line in zip(holders, out):
        lines[i] = line
    return "\n".join(lines)


UNSET_ENV = "__slocompile_unset_env__"


def unset_env_names(value) -> list[str]:
    """Names of unset environment variables a deferred env_var() left in `value` (nested)."""
    if isinstance(value, str):
        return re.findall(UNSET_ENV + r"([^_]+(?:_[^_]+)*?)__", value)
    if isinstance(value, dict):
        return [n for v in value.values() for n in unset_env_names(v)]
    if isinstance(value, list):
        return [n for v in value for n in unset_env_names(v)]
    return []


def _environment(variables: dict, env_vars: dict[str, str] | None, defer_env: bool = False):
    import jinja2

    from slocompile.spec.jinjalimits import BoundedEnvironment

    environ = os.environ if env_vars is None else env_vars

    def var(name, default=_Undefined):
        if name in variables:
            return variables[name]
        if default is _Undefined:
            raise jinja2.UndefinedError(f"var('{name}') is not defined in slocompile.yml vars")
        return default

    def env_var(name, default=_Undefined):
        if name in environ:
            register_env(name, environ[name])  # a secret, maybe: redacted wherever text leaves the process
            return environ[name]
        if default is _Undefined:
            if defer_env:  # a target's secret: only an error when that target is used
                return f"{UNSET_ENV}{name}__"
            raise jinja2.UndefinedError(f"environment variable '{name}' is not set and has no default")
        return default

    env = BoundedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals.update(var=var, env_var=env_var, this=THIS)  # {{ this }}: an assert query's own table
    env.filters.update(FILTERS)  # shell_quote, raw: values in trigger commands (spec.shellquote)
    return env


def _render(env, text: str, filename: str) -> str:
    import jinja2

    from slocompile.spec.jinjalimits import RenderLimit

    try:
        return env.render_bounded(text)
    except RenderLimit as e:
        raise SpecError([Problem(Location(filename, _jinja_error_line(e, text)), f"Jinja error: {e}")]) from None
    except jinja2.TemplateSyntaxError as e:
        raise SpecError([Problem(Location(filename, e.lineno or 0), f"Jinja syntax error: {e.message}")]) from None
    except jinja2.TemplateError as e:
        raise SpecError([Problem(Location(filename, _jinja_error_line(e, text)), f"Jinja error: {e}")]) from None
    except RecursionError as e:
        raise SpecError([Problem(Location(filename, _jinja_error_line(e, text)),
                                 "Jinja error: recursion too deep")]) from None
    except Exception as e:  # 1/0, [].pop(), var() without a name, a sandbox range limit, ...
        raise SpecError([Problem(Location(filename, _jinja_error_line(e, text)),
                                 f"Jinja error: {type(e).__name__}: {e}")]) from None


_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"
_MARKER = re.compile("\x02(\\d+)\x03")
_TAG_OPEN = re.compile(r"\{[{%#]")
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a line break


def _mark_lines(text: str) -> str:
    """`text` with a marker before the first non-blank character of template data on each line.

    A `{{ ... }}` starting a line is marked too (unless it strips whitespace with `{{-`), so the
    lines it expands to are attributed to it. Tags and comments are left untouched. Lines are
    counted as YAML counts them (also the rare \\r, NEL and Unicode line separators).
    """
    out: list[str] = []
    i, n, line, line_start, raw_until = 0, len(text), 1, True, -1
    while i < n:
        c = text[i]
        if c in _BREAKS:
            step = 2 if text.startswith("\r\n", i) else 1
            out.append(text[i:i + step])
            i, line, line_start = i + step, line + 1, True
            continue
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        m = _TAG_OPEN.match(text, i) if i >= raw_until else None
        if m:
            if line_start and m.group() == "{{" and not text.startswith("{{-", i):
                out.append(f"{_MARK_OPEN}{line}{_MARK_CLOSE}")
            end = _tag_end(text, i)
            raw = _RAW.match(text, i)
            if raw:  # a raw block is data, tags included, up to its endraw
                end = raw.end()
                close = _ENDRAW.search(text, end)
                raw_until = close.start() if close else n
            chunk = text[i:end]
            out.append(chunk)
            line += len(_LINE_BREAK.findall(chunk))
            line_start = False
            i = end
            continue
        if line_start:
            out.append(f"{_MARK_OPEN}{line}{_MARK_CLOSE}")
            line_start = False
        out.append(c)
        i += 1
    return "".join(out)


def _tag_end(text: str, i: int) -> int:
    """The index just past the Jinja tag, expression or comment starting at `i`."""
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


def _map_from_markers(marked: str) -> list[int]:
    """For each line of the marked rendering, the source line of its first marker (else the last seen)."""
    mapping, last = [], 1
    for text in _LINE_BREAK.split(marked):
        m = _MARKER.search(text)
        if m:
            last = int(m.group(1))
        mapping.append(last)
    return mapping


def _jinja_error_line(exc: Exception, text: str) -> int:
    """Best-effort source line of a runtime Jinja error, from the traceback's template frames."""
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def line_map(source: str, rendered: str) -> list[int]:
    """For each rendered line (0-based index), the 1-based source line it came from."""
    src, out = _LINE_BREAK.split(source), _LINE_BREAK.split(rendered)
    mapping = [0] * (len(out) + 1)
    matcher = difflib.SequenceMatcher(a=src, b=out, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k, j in enumerate(range(j1, j2)):
            if tag == "equal" or tag == "replace":
                mapping[j] = min(i1 + k, max(i2 - 1, i1)) + 1
            else:  # inserted by Jinja (a loop, an include): attribute to the nearest source line
                mapping[j] = min(i1, len(src) - 1) + 1 if src else 1
    mapping[len(out)] = len(src) or 1
    return mapping


def load_yaml(path: str, display_name: str, variables: dict, env_vars: dict[str, str] | None = None,
              problems: list[Problem] | None = None, defer_env: bool = False, asked: set[str] | None = None) -> Node:
    """Read, render and parse one YAML file into a located Node tree.

    Unreadable files, Jinja errors and YAML syntax errors raise SpecError. Problems in well-formed YAML
    (a duplicate key, an unsupported tag) raise too, unless `problems` is given: they are then added to
    it and the tree is returned, so validation goes on and reports everything at once. The names of
    the vars the file asks for (`var('name')`, also in branches not taken) are added to `asked`.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read(MAX_TEXT + 1)  # never more: the file may be huge, or endless (/dev/zero)
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError([Problem(Location(display_name), f"cannot read file: {e}")]) from None
    if len(source) > MAX_TEXT:
        raise SpecError([Problem(Location(display_name), f"the file is larger than the limit of {MAX_TEXT:,} "
                                 f"characters; split it into several files ({_SEE_LIMITS})")])
    with gc_paused():
        if not _has_jinja(source):
            return parse_yaml(source, display_name, problems=problems)
        if asked is not None:
            asked.update(_VAR_CALL.findall(source))
            variables = _Asking(variables, asked)
        rendered, mapping = render_with_lines(quote_commands(source), display_name, variables, env_vars, defer_env)
        return parse_yaml(rendered, display_name, mapping, problems, source)


_VAR_CALL = re.compile(r"""\bvar\(\s*['"]([^'"]+)['"]""")


class _Asking(dict):
    """The vars, recording every name var() asks for (also names made at render time)."""

    def __init__(self, variables: dict, asked: set[str]):
        super().__init__(variables)
        self.asked = asked

    def __contains__(self, name) -> bool:
        self.asked.add(name)
        return super().__contains__(name)


def _has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def parse_yaml(text: str, display_name: str, mapping: list[int] | None = None,
               problems: list[Problem] | None = None, source: str | None = None) -> Node:
    """Parse YAML into located Nodes; `mapping` (and `source`) lead positions back to the Jinja source."""
    loc = _locator(display_name, text, mapping, source)
    if len(text) > MAX_TEXT:
        raise SpecError([Problem(Location(display_name), over("the file", len(text), MAX_TEXT, "characters"))])
    try:
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as e:  # rare: parse again in pure Python for its more specific message
            if "maximum nesting depth" in str(getattr(e, "problem", "")):
                raise RecursionError from None  # libyaml's limit (1000 levels): the pure Python one recurses
            root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = loc(mark) if mark else Location(display_name)
        raise SpecError([Problem(where, f"invalid YAML: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise SpecError([Problem(Location(display_name), f"invalid YAML: {e}")]) from None
    except RecursionError:  # the composer recurses per level: thousands of levels exhaust the stack
        raise SpecError([Problem(_too_deep(text, loc) or Location(display_name), _DEEP)]) from None
    if root is None:
        return Node({}, Location(display_name, 1, 1))
    found: list[Problem] = []
    # aliases (*name) repeat a value without copying it: count what they repeat, so that a few
    # nested ones cannot expand to billions of values. A file without anchors has no aliases.
    aliases = _Aliases() if _ANCHOR.search(text) else None
    node = _convert(root, loc, found, 0, aliases, _jinja_lines(mapping, source))
    if found and problems is None:
        raise SpecError(found)
    if problems is not None:
        problems.extend(found)
    return node


def _locator(display_name: str, rendered: str, mapping: list[int] | None, source: str | None):
    """The function from a YAML mark in `rendered` to its Location in the source file (one call per value)."""
    if mapping is None:
        return lambda mark: Location(display_name, mark.line + 1, mark.column + 1)
    if source is None:
        return lambda mark: Location(display_name, mapping[mark.line] if mark.line < len(mapping) else mark.line + 1,
                                     mark.column + 1)
    src_lines, out_lines = _LINE_BREAK.split(source), _LINE_BREAK.split(rendered)
    # most lines are as the user wrote them: their columns need no comparison per value
    unchanged = [i < len(out_lines) and 1 <= line <= len(src_lines) and out_lines[i] == src_lines[line - 1]
                 for i, line in enumerate(mapping)]

    def column(out_index: int, src_line: int, col: int) -> int:
        """The source column, or 0 (unknown) when Jinja changed the text there: exact when only text
        after the position changed (same prefix) or only text before it (same suffix)."""
        if out_index >= len(out_lines) or not 1 <= src_line <= len(src_lines):
            return 0
        s, r = src_lines[src_line - 1], out_lines[out_index]
        if r[:col - 1] == s[:col - 1]:
            return col
        tail = r[col - 1:]
        if tail and s.endswith(tail):
            return len(s) - len(tail) + 1
        return 0

    def loc(mark) -> Location:
        i, col = mark.line, mark.column + 1
        if i >= len(mapping):
            return Location(display_name, i + 1, col)
        line = mapping[i]
        return Location(display_name, line, col if unchanged[i] else column(i, line, col))

    return loc


_constructor = yaml.SafeLoader(stream="")


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML was built with it


class _Loader(_BaseLoader):
    """libyaml's parser (the same line/column marks, several times faster), with each plain scalar's
    implicit tag resolved once per file: the tag depends on the text alone, and texts repeat."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._tags: dict = {}

    def resolve(self, kind, value, implicit):
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


_DEEP = f"YAML nested too deeply (more than {MAX_DEPTH} levels)"
_SEE_LIMITS = "declarations are data; see 'Limits' in docs/reference.md"
_ANCHOR = re.compile(r"(?:^|[\s\[\]{},])&[^\s\[\]{},]")


def _too_deep(text: str, loc) -> Location | None:
    """Where `text` first nests deeper than MAX_DEPTH (read as a flat stream of events)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # libyaml's scanner reads far ahead: it fails first
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH + 1:  # the root collection is level 0, as in _convert
                    return loc(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


class _Aliases:
    """The composed nodes seen so far, the ones being converted, and how many values aliases repeated."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.open: set[int] = set()
        self.sizes: dict[int, int] = {}
        self.repeated = 0
        self.reported = False

    def size(self, n: yaml.Node) -> int:
        """The number of values `n` expands to (memoized: shared nodes are counted once per use)."""
        key = id(n)
        if key not in self.sizes:
            self.sizes[key] = MAX_ALIAS_NODES + 1  # a cycle: endless
            children = [c for kv in n.value for c in kv] if isinstance(n, yaml.MappingNode) else (
                n.value if isinstance(n, yaml.SequenceNode) else [])
            total = 1
            for c in children:
                total += self.size(c)
                if total > MAX_ALIAS_NODES:
                    break
            self.sizes[key] = total
        return self.sizes[key]


def _jinja_lines(mapping: list[int] | None, source: str | None) -> list[bool] | None:
    """For each rendered line, whether its source line holds a {{ ... }} (None: no Jinja)."""
    if mapping is None or source is None:
        return None
    src = _LINE_BREAK.split(source)
    return [1 <= line <= len(src) and "{{" in src[line - 1] for line in mapping]


def _convert(n: yaml.Node, loc, problems: list[Problem], depth: int, aliases: _Aliases | None = None,
             jinja: list[bool] | None = None) -> Node:
    here = loc(n.start_mark)
    if depth > MAX_DEPTH:
        problems.append(Problem(here, _DEEP))
        return Node(None, here)
    if aliases is not None:
        key = id(n)
        if key in aliases.open:
            problems.append(Problem(here, "a YAML alias refers to the mapping or list that contains it"))
            return Node(None, here)
        if key in aliases.seen:
            aliases.repeated += aliases.size(n)
            if aliases.repeated > MAX_ALIAS_NODES:
                if aliases.reported:
                    return Node(None, here)
                aliases.reported = True
                problems.append(Problem(here, f"YAML aliases of this value and others repeat more than "
                                              f"{MAX_ALIAS_NODES:,} values, over the limit ({_SEE_LIMITS})"))
                return Node(None, here)
        aliases.seen.add(key)
        aliases.open.add(key)
        try:
            return _convert_node(n, here, loc, problems, depth, aliases, jinja)
        finally:
            aliases.open.discard(key)
    return _convert_node(n, here, loc, problems, depth, aliases, jinja)


def _convert_node(n: yaml.Node, here: Location, loc, problems: list[Problem], depth: int,
                  aliases: _Aliases | None, jinja: list[bool] | None) -> Node:
    if isinstance(n, yaml.MappingNode):
        out: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        for k, v in n.value:
            kloc = loc(k.start_mark)
            if not isinstance(k, yaml.ScalarNode):
                problems.append(Problem(kloc, "mapping keys must be plain strings"))
                continue
            key = _scalar(k, kloc, problems)
            if key is None or isinstance(key, (dict, list)):
                problems.append(Problem(kloc, "mapping keys must be plain strings"))
                continue
            key = str(key) if not isinstance(key, bool) else str(k.value)
            if key in out:
                problems.append(Problem(kloc, f"duplicate key '{key}' (first at line {key_locs[key].line})"))
                continue
            out[key] = _convert(v, loc, problems, depth + 1, aliases, jinja)
            key_locs[key] = kloc
        return Node(out, here, key_locs)
    if isinstance(n, yaml.SequenceNode):
        return Node([_convert(v, loc, problems, depth + 1, aliases, jinja) for v in n.value], here)
    value = _scalar(n, here, problems)
    if jinja is not None and n.style in ("'", '"') and n.start_mark.line < len(jinja) and jinja[n.start_mark.line]:
        return Node(value, here, from_jinja=True)
    return Node(value, here)


def _scalar(n: yaml.Node, here: Location, problems: list[Problem]):
    if n.tag == "tag:yaml.org,2002:str":  # most values: the node's text is the value
        return n.value
    if n.tag.startswith("tag:yaml.org,2002:") and n.tag.rsplit(":", 1)[-1] in (
        "str", "int", "float", "bool", "null", "timestamp",
    ):
        try:
            return _construct(n.tag, n.value)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            problems.append(Problem(here, f"invalid value {n.value!r}: {e}"))
            return None
    # the problem is recorded; the text stays, so that validation does not pile a second message on it
    if n.tag == "tag:yaml.org,2002:binary":
        problems.append(Problem(here, "binary values are not supported"))
        return n.value
    problems.append(Problem(here, f"unsupported YAML tag {n.tag}"))
    return n.value


@functools.lru_cache(maxsize=4096)
def _construct(tag: str, text: str):
    """The value of a plain scalar (int, float, bool, null, timestamp: all immutable), by tag and text alone."""
    try:
        return _constructor.construct_object(yaml.ScalarNode(tag, text), deep=True)
    finally:
        _constructor.constructed_objects.clear()  # it keeps every node it built otherwise
