"""Finding the declaration files under `slo_paths`: inside the project, loops and odd files refused.

A path (or a symbolic link under it) that leads outside the project folder is refused unless
slocompile.yml sets `allow_outside_paths: true`; a link that leads back to a folder it is in is
one error, never followed; no folder is read twice; and the walk stops at MAX_FOLDERS folders, so
that `slo_paths: [/proc/self]` or a link to `/` cannot make loading run for ever.
"""
from __future__ import annotations

import os
import stat

from slocompile.errors import Location, ProblemCollector

MAX_FOLDERS = 10_000
SUFFIXES = (".yml", ".yaml")
OPT_IN = "set allow_outside_paths: true in slocompile.yml to allow it"


def slo_files(root: str, paths, allow_outside: bool, loc: Location, problems: ProblemCollector,
              suffixes: tuple[str, ...] = SUFFIXES) -> list[str]:
    """The .yml and .yaml files (or other `suffixes`) under each of `paths` (relative to `root`), hidden
    names skipped as glob skips them; problems (outside paths, loops, too many folders) are recorded at `loc`."""
    top = os.path.realpath(root)
    walk = _Walk(root, top, allow_outside, loc, problems)
    walk.suffixes = suffixes
    bases = []
    for p in paths:
        base = os.path.join(root, p)
        try:
            real = os.path.realpath(base, strict=True)
        except FileNotFoundError:
            continue  # no such folder: nothing declared there (an empty project is reported by the loader)
        except OSError as e:
            problems.add(loc, f"slo_paths: '{p}' cannot be read ({_reason(e)})")
            continue
        if not _inside(real, top) and not allow_outside:
            problems.add(loc, f"slo_paths: '{p}' is outside the project folder (it leads to {real}); {OPT_IN}")
            continue
        walk.allowed.append(real)
        bases.append((base, real))
    for base, real in bases:
        if os.path.isdir(real):
            walk.folder(base, real, ())
        elif base.endswith(suffixes):
            walk.file(base, real)
    return sorted(set(walk.files))


class _Walk:
    def __init__(self, root: str, top: str, allow_outside: bool, loc: Location, problems: ProblemCollector):
        self.root, self.top, self.allow_outside, self.loc, self.problems = root, top, allow_outside, loc, problems
        self.allowed: list[str] = [top]
        self.seen: set[str] = set()
        self.files: list[str] = []
        self.stopped = False
        self.suffixes: tuple[str, ...] = SUFFIXES

    def folder(self, path: str, real: str, parents: tuple[str, ...]) -> None:
        stack = [(path, real, parents)]
        while stack and not self.stopped:
            path, real, parents = stack.pop()
            if real in self.seen:
                continue  # reached again through a link: read once
            self.seen.add(real)
            if len(self.seen) > MAX_FOLDERS:
                self.problems.add(self.loc, f"slo_paths: more than {MAX_FOLDERS:,} folders under them "
                                  f"(at {self.show(path)}); point slo_paths at the folders that hold declarations")
                self.stopped = True
                return
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError:
                continue  # unreadable: as glob, skip it
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                target = self._follow(entry, (*parents, real))
                if target is None:
                    continue
                try:
                    mode = os.stat(target).st_mode
                except OSError:
                    continue
                if stat.S_ISDIR(mode):
                    stack.append((entry.path, target, (*parents, real)))
                elif entry.name.endswith(self.suffixes):
                    self.file(entry.path, target, mode)

    def show(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def _follow(self, entry: os.DirEntry, parents: tuple[str, ...]) -> str | None:
        """The real path of `entry` when it may be read; None (after recording why, if it matters)."""
        if not entry.is_symlink():
            return os.path.join(parents[-1], entry.name)
        try:
            target = os.path.realpath(entry.path, strict=True)
        except FileNotFoundError:
            return None  # a dangling link: as glob, skip it
        except OSError as e:
            self.problems.add(self.loc, f"{self.show(entry.path)}: symbolic link not followed ({_reason(e)})")
            return None
        if any(_inside(p, target) for p in parents):
            self.problems.add(self.loc, f"{self.show(entry.path)}: symbolic link loop (it leads back to {target}, "
                              "a folder it is in); not followed")
            return None
        if not self.allow_outside and not any(_inside(target, a) for a in self.allowed):
            self.problems.add(self.loc, f"{self.show(entry.path)}: symbolic link to {target}, outside the project "
                              f"folder; {OPT_IN}")
            return None
        return target

    def file(self, path: str, real: str, mode: int | None = None) -> None:
        if mode is None:
            try:
                mode = os.stat(real).st_mode
            except OSError:
                return
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            self.problems.add(self.loc, f"{self.show(path)}: not a regular file; declarations are files")
            return
        self.files.append(path)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__
