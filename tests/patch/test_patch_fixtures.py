"""Input -> expected output for every supported style (tests/fixtures/patch/cases.toml)."""

from __future__ import annotations

import pytest
from patch_cases import Case, load_cases

from guard.codemods.patchers import PATCHERS
from guard.patch.planner import parse_problem, patch_text

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    source = case.path.read_text(encoding="utf-8")
    patched, results = patch_text(PATCHERS, case.language, source, case.path.name, list(case.sites))
    [result] = results
    if case.unfixable is not None:
        assert patched == source
        assert result.unfixable
        assert case.unfixable in result.reason
        return
    if case.already:
        assert patched == source
        assert result.already and not result.unfixable
        return
    assert result.fixed, result.reason
    assert result.fallback is case.fallback
    assert patched == case.expected_path.read_text(encoding="utf-8")
    assert parse_problem(case.language, source, patched) is None


@pytest.mark.parametrize("case", [c for c in CASES if c.expected_path.exists()], ids=lambda c: c.name)
def test_second_run_changes_nothing(case: Case) -> None:
    expected = case.expected_path.read_text(encoding="utf-8")
    patched, results = patch_text(PATCHERS, case.language, expected, case.path.name, list(case.expected_sites))
    assert patched == expected
    assert all(r.already for r in results)


def test_every_fixed_case_has_an_expected_file() -> None:
    for case in CASES:
        assert case.expected_path.exists() == (case.unfixable is None and not case.already), case.name
