"""`sensitivity:` on a monitored column (overriding the table's): the factor reaches the monitor
settings; a bad value, or a column the monitors do not judge, is an error with file:line."""
from __future__ import annotations

import pytest
from proj import cli, write

from slocompile.api import Project
from slocompile.errors import SpecError
from slocompile.run.monitor_tables import table_settings


def _table(monitor: str, age: str = "sensitivity: high", key: str = "[user_id]") -> str:
    return f"""
        tables:
          - name: t
            relation: raw.t
            partition: ds
            key: {key}
            monitor: {monitor}
            columns:
              - {{name: ds}}
              - {{name: user_id}}
              - {{name: age, {age}}}
              - {{name: score}}
        """


@pytest.mark.parametrize("monitor,age,factor", [
    ("all", "sensitivity: high", 1.4),
    ("{columns: [age, score], sensitivity: low}", "sensitivity: 3", 3.0),
    ("[age]", "sensitivity: normal", 1.0),
])
def test_a_columns_sensitivity_reaches_its_settings(tmp_path, monitor, age, factor):
    table = Project.load(write(tmp_path / "p", _table(monitor, age))).spec.tables[0]
    assert table.monitor.column_sensitivity == (("age", factor),)
    settings = table_settings(table, [])
    assert dict(settings.columns) == {"age": factor}
    assert settings.sensitivity == (0.7 if "low" in monitor else 1.0)


@pytest.mark.parametrize("monitor,age,problem", [
    ("all", "sensitivity: hihg", "column 'age': sensitivity must be low, normal, high or a number above 0, "
                                 "not 'hihg' (did you mean 'high'?)"),
    ("all", "sensitivity: -1", "not -1"),
    ("all", "sensitivity: true", "not True"),
    ("[score]", "sensitivity: high", "column 'age': 'sensitivity' tunes the monitors of a monitored column; "
                                     "'monitor' does not list 'age' (it lists score)"),
    (None, "sensitivity: high", "the table has no 'monitor:'"),
])
def test_a_bad_column_sensitivity_is_reported_at_its_line(tmp_path, monitor, age, problem):
    text = _table(monitor or "all", age)
    if monitor is None:
        text = text.replace("            monitor: all\n", "")
    root = write(tmp_path / "p", text)
    with pytest.raises(SpecError) as err:
        Project.load(root)
    line = 10 if monitor is not None else 9
    assert problem in str(err.value) and f"slos/tables.yml:{line}:" in str(err.value), str(err.value)
    proc = cli(root, "compile")
    assert proc.returncode == 2 and problem in proc.stderr and "Traceback" not in proc.stderr


def test_the_key_takes_no_sensitivity(tmp_path):
    text = _table("all", key="[age]")
    with pytest.raises(SpecError, match=r"tables.yml:10:.*'age' is the table's key, which monitors do not profile"):
        Project.load(write(tmp_path / "p", text))


def test_a_tuning_change_re_judges_the_history(tmp_path):
    """The checks' fingerprint (run.selection.fingerprint) follows the monitors' sensitivity (the
    table's and a column's) and segments, so changing them checks and judges every partition again."""
    from slocompile.run.selection import fingerprint

    def fp(monitor: str, age: str = "sensitivity: high") -> str:
        write(tmp_path, _table(monitor, age))
        return fingerprint(Project.load(str(tmp_path)).spec.tables[0])

    plain = fp("all", "type: number")
    assert fp("{sensitivity: high}", "type: number") != plain
    assert fp("all") != plain  # a column's sensitivity
    assert fp("{segments: [score]}", "type: number") != plain
    assert fp("all", "type: number") == plain
