"""The Project facade: the same operations the CLI runs, for Python callers (Airflow, notebooks)."""
from __future__ import annotations

import os

from .spec.model import ProjectSpec


class Project:
    def __init__(self, spec: ProjectSpec):
        self.spec = spec

    @classmethod
    def load(cls, path: str = ".", vars: dict | None = None) -> Project:
        from .spec.loader import load_project

        return cls(load_project(path, vars))

    @property
    def root(self) -> str:
        return self.spec.root

    @property
    def target_dir(self) -> str:
        return os.path.join(self.root, "target")

    def dialect_for(self, target: str | None = None, dialect: str | None = None) -> str:
        if dialect:
            return dialect
        from .build import _target

        return _target(self.spec, target).dialect

    def compile(self, target: str | None = None, dialect: str | None = None, select: list[str] | None = None,
                write: bool = True):
        """Plans and SQL for a dialect; writes target/compiled/<dialect>/ and target/manifest.json."""
        from .build import _selected
        from .compiler import compile_project
        from .reports import artifacts

        d = self.dialect_for(target, dialect)
        names = [t.name for t in _selected(self.spec, select)]
        compiled = compile_project(self.spec, d, names)
        if write:
            files = artifacts.write_compiled(self.target_dir, compiled)
            artifacts.write_json(os.path.join(self.target_dir, "manifest.json"), artifacts.manifest(compiled, files))
        return compiled

    def build(self, target: str | None = None, select: list[str] | None = None, progress=None, write: bool = True,
              partitions: list[str] | None = None, full_refresh: bool = False):
        """Run checks, record results, publish views; writes run_results.json, manifest.json, junit.xml.

        Partitioned tables are checked incrementally (new, failing and changed partitions);
        `partitions` names the ones to (re)check and `full_refresh` checks them all."""
        from .build import run_build
        from .reports import artifacts

        run = run_build(self.spec, target, select, progress, partitions, full_refresh)
        if write:
            self.compile(target=target, select=select)
            artifacts.write_json(os.path.join(self.target_dir, "run_results.json"), artifacts.run_results(run))
            artifacts.write_text(os.path.join(self.target_dir, "junit.xml"), artifacts.junit(run))
        return run
