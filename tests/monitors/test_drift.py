"""Drift metrics on hand-made distributions."""
import math

import pytest

from slocompile.checks import distances as drift


def test_identical_distributions_have_no_drift():
    p = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert drift.psi(p, p) == pytest.approx(0.0, abs=1e-12)
    assert drift.js(p, p) == pytest.approx(0.0, abs=1e-12)
    assert drift.linf(p, p) == 0.0


def test_known_values():
    p, q = {"a": 0.5, "b": 0.5}, {"a": 0.9, "b": 0.1}
    expected_psi = (0.5 - 0.9) * math.log(0.5 / 0.9) + (0.5 - 0.1) * math.log(0.5 / 0.1)
    assert drift.psi(p, q) == pytest.approx(expected_psi, rel=1e-3)
    assert drift.linf(p, q) == pytest.approx(0.4)
    assert drift.js({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)      # disjoint: 1 bit
    assert 0 < drift.js(p, q) < 1
    assert drift.js(p, q) == pytest.approx(drift.js(q, p))


def test_psi_of_new_category_is_large_but_finite():
    ref = {"US": 0.5, "IN": 0.5}
    cur = {"USA": 0.5, "IN": 0.5}
    v = drift.psi(cur, ref)
    assert math.isfinite(v) and v > 5


def test_empty_distribution_gives_nan():
    assert math.isnan(drift.psi({}, {"a": 1.0}))
    assert math.isnan(drift.js({"a": 1.0}, {}))


def test_category_and_bin_shares():
    s = {"top": {"x": 6, "y": 3}, "nonnull": 10}
    assert drift.category_shares(s) == {"x": 0.6, "y": 0.3, drift.OTHER: pytest.approx(0.1)}
    assert drift.bin_shares({"bins": [1, 3, 0]}) == {"0": 0.25, "1": 0.75, "2": 0.0}
    assert drift.pooled([{"a": 1.0}, {"a": 0.5, "b": 0.5}]) == {"a": 0.75, "b": 0.25}


def test_novelty_of_a_rename():
    refs = [{"top": {"US": 60, "IN": 40}, "nonnull": 100}] * 3
    new, gone = drift.novelty({"top": {"USA": 58, "IN": 42}, "nonnull": 100}, refs)
    assert new == pytest.approx(0.58) and gone == pytest.approx(0.60)
    new, gone = drift.novelty({"top": {"US": 30, "IN": 70}, "nonnull": 100}, refs)   # a mix shift
    assert new == 0 and gone == 0


def test_novelty_respects_top_k_truncation():
    # both sides keep only their top 2 of many values: a value missing from one list may still
    # exist below that list's smallest share, so only the excess over that bound counts
    refs = [{"top": {"a": 50, "b": 20}, "nonnull": 100}] * 3          # unlisted values <= 20%
    new, gone = drift.novelty({"top": {"a": 50, "c": 21}, "nonnull": 100}, refs)
    assert new == pytest.approx(0.01)
    assert gone == pytest.approx(0.0)                                 # 'b' (20%) <= 21% bound


def test_top_changes():
    moves = drift.top_changes({"a": 0.1, "b": 0.9}, {"a": 0.6, "b": 0.4}, 2)
    assert moves == [("a", 0.6, 0.1), ("b", 0.4, 0.9)]     # ties in order of value: deterministic
