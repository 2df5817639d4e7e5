"""The import's data: the tables and columns being built, the issues found, the result."""
from __future__ import annotations

from dataclasses import dataclass, field


class Unconvertible(Exception):
    """This test cannot be expressed; the message says why."""


@dataclass
class Issue:
    file: str
    line: int | None
    subject: str     # model.column
    test: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.subject}: {self.test}: {self.reason}"


@dataclass
class Column:
    name: str
    type: str | None = None
    description: str | None = None
    checks: list = field(default_factory=list)   # (type, params dict or None)


@dataclass
class Table:
    name: str
    relation: str
    description: str | None = None
    checks: list = field(default_factory=list)
    columns: dict[str, Column] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        if name not in self.columns:
            self.columns[name] = Column(name)
        return self.columns[name]

    @property
    def n_checks(self) -> int:
        return len(self.checks) + sum(len(c.checks) for c in self.columns.values())


@dataclass
class OutputFile:
    source: str                     # the dbt file, relative to the dbt project
    path: str                       # relative to the output folder
    tables: list[Table] = field(default_factory=list)
    not_converted: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)


@dataclass
class ImportResult:
    files: list[OutputFile]
    not_converted: list[Issue]       # all, including those of files that produced no table
    notes: list[Issue]
    converted: int                   # dbt tests converted
    dialect: str
    texts: dict[str, str] = field(default_factory=dict)  # output path -> YAML

    def report(self) -> str:
        lines = [f"converted {self.converted} dbt tests into {sum(len(f.tables) for f in self.files)} tables "
                 f"in {len(self.texts)} files"]
        if self.not_converted:
            lines.append(f"not converted ({len(self.not_converted)}):")
            lines += [f"  {i}" for i in self.not_converted]
        if self.notes:
            lines.append(f"notes ({len(self.notes)}):")
            lines += [f"  {i}" for i in self.notes]
        return "\n".join(lines) + "\n"
