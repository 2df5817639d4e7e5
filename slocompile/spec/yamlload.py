"""Read a YAML file through Jinja into located nodes.

Every value keeps the line and column of the *source* file, also after Jinja
rendering: rendered lines are aligned back to source lines with a diff, so an
error in a line that Jinja touched still points at the line the user wrote.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import Location, Problem, SpecError


@dataclass
class Node:
    """A YAML value with its source location; mappings and sequences hold Nodes."""

    value: Any
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)

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
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    environ = os.environ if env_vars is None else env_vars

    def var(name, default=_Undefined):
        if name in variables:
            return variables[name]
        if default is _Undefined:
            raise jinja2.UndefinedError(f"var('{name}') is not defined in slocompile.yml vars")
        return default

    def env_var(name, default=_Undefined):
        if name in environ:
            return environ[name]
        if default is _Undefined:
            raise jinja2.UndefinedError(f"environment variable '{name}' is not set and has no default")
        return default

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals.update(var=var, env_var=env_var)
    try:
        return env.from_string(text).render()
    except jinja2.TemplateSyntaxError as e:
        raise SpecError([Problem(Location(filename, e.lineno or 0), f"Jinja syntax error: {e.message}")])
    except jinja2.TemplateError as e:
        raise SpecError([Problem(Location(filename, _jinja_error_line(e, text)), f"Jinja error: {e}")])


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
    src, out = source.splitlines(), rendered.splitlines()
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


def load_yaml(path: str, display_name: str, variables: dict, env_vars: dict[str, str] | None = None) -> Node:
    """Read, render and parse one YAML file into a located Node tree."""
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError([Problem(Location(display_name), f"cannot read file: {e}")])
    rendered = render_jinja(source, display_name, variables, env_vars) if _has_jinja(source) else source
    mapping = line_map(source, rendered) if rendered is not source else None
    return parse_yaml(rendered, display_name, mapping)


def _has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def parse_yaml(text: str, display_name: str, mapping: list[int] | None = None) -> Node:
    def loc(mark) -> Location:
        line = mark.line + 1
        if mapping is not None and mark.line < len(mapping):
            line = mapping[mark.line]
        return Location(display_name, line, mark.column + 1)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = loc(mark) if mark else Location(display_name)
        raise SpecError([Problem(where, f"invalid YAML: {e.problem or e.context}")])
    except yaml.YAMLError as e:
        raise SpecError([Problem(Location(display_name), f"invalid YAML: {e}")])
    if root is None:
        return Node({}, Location(display_name, 1, 1))
    problems: list[Problem] = []
    node = _convert(root, loc, problems, depth=0)
    if problems:
        raise SpecError(problems)
    return node


_constructor = yaml.SafeLoader(stream="")


def _convert(n: yaml.Node, loc, problems: list[Problem], depth: int) -> Node:
    here = loc(n.start_mark)
    if depth > 64:
        problems.append(Problem(here, "YAML nested too deeply"))
        return Node(None, here)
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
            out[key] = _convert(v, loc, problems, depth + 1)
            key_locs[key] = kloc
        return Node(out, here, key_locs)
    if isinstance(n, yaml.SequenceNode):
        return Node([_convert(v, loc, problems, depth + 1) for v in n.value], here)
    return Node(_scalar(n, here, problems), here)


def _scalar(n: yaml.Node, here: Location, problems: list[Problem]):
    if n.tag.startswith("tag:yaml.org,2002:") and n.tag.rsplit(":", 1)[-1] in (
        "str", "int", "float", "bool", "null", "timestamp",
    ):
        try:
            return _constructor.construct_object(n, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            problems.append(Problem(here, f"invalid value {n.value!r}: {e}"))
            return None
    if n.tag == "tag:yaml.org,2002:binary":
        problems.append(Problem(here, "binary values are not supported"))
        return None
    problems.append(Problem(here, f"unsupported YAML tag {n.tag}"))
    return None
