"""SQL text of the pieces that recur across a compile's statements, rendered once.

A project's scans repeat the same metric aggregates, conditions and partition expression
(every table checks `"user_id" IS NULL`; each grouped scan of a table starts with its
partition). Rendering each piece once per compile and dialect, and splicing its text into the
statements, makes the generator's work proportional to the distinct pieces instead of to
their uses, and spares the copies each use of a shared tree would need.

Splicing gives the same text as rendering in place only when a piece's SQL depends on the
piece alone. So a piece is spliced only when every node is of a type in CONTEXT_FREE (types
whose SQL looks neither at their parent nor is rewritten by an enclosing query's transforms),
it carries no comments, and no string in it holds a line break (pretty printing indents every
line of a spliced piece, which would change the string). Any other piece stays a tree.
tests/compiling/test_fragments.py compiles the golden scenarios both ways.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

from sqlglot import exp

from slocompile.dialects.nodes import Quantile, QueryError, RegexSearch, TimeBucket

CONTEXT_FREE = (
    exp.Table, exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Star, exp.Paren, exp.Neg, exp.Not,
    exp.And, exp.Or, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Cast, exp.DataType, exp.Coalesce, exp.Case, exp.If, exp.Like, exp.DPipe,
    exp.Count, exp.CountIf, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Stddev, exp.StddevSamp, exp.StddevPop,
    exp.Variance, exp.VariancePop, exp.Distinct, exp.Filter, exp.Where,
    Quantile, RegexSearch, QueryError, TimeBucket,  # lowered per dialect inside the piece's own rendering
)


def spliceable(tree: exp.Expression) -> bool:
    """True when `tree` renders alone as it renders inside any statement, and every tree equal to it
    renders the same (keys compare by structure, which ignores the case of strings except in
    Literals and Identifiers)."""
    for node in tree.walk():
        if not isinstance(node, CONTEXT_FREE) or node.comments:
            return False
        exact = isinstance(node, (exp.Literal, exp.Identifier))
        if any(isinstance(v, str) and (not exact or "\n" in v) for v in node.args.values()):
            return False
    return True


class Fragments:
    """Pieces of SQL by key: a key names what its piece is built from (say, ("aggregate", metric)).
    Without `render` (the plain default) every piece stays a tree."""

    def __init__(self, render: Callable[[exp.Expression], str] | None = None):
        self._render = render
        self._texts: dict[Hashable, str | None] = {}  # None: not spliceable, build the tree each time

    def get(self, key: Hashable, build: Callable[[], exp.Expression]) -> exp.Expression:
        """The piece `key` as a node of its rendered text, or as the new tree `build` makes."""
        if self._render is None:
            return build()
        if key not in self._texts:
            tree = build()
            if not spliceable(tree):
                self._texts[key] = None
                return tree
            self._texts[key] = self._render(tree)
        text = self._texts[key]
        # exp.Var renders its text verbatim, in every dialect
        return build() if text is None else exp.Var(this=text)


PLAIN = Fragments()
