"""The request-head deadline's setting (the deadline itself: tests/e2e/test_limits_e2e.py)."""

from __future__ import annotations

import pytest

from lanner._h11_protocol import TIMEOUT_ENV, timeout_from_env


@pytest.mark.parametrize(("raw", "expected"), [("10", 10.0), ("2.5", 2.5), ("0", None), ("", None)])
def test_timeout_from_env(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: float | None
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, raw)
    assert timeout_from_env() == expected


def test_timeout_unset_means_no_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert timeout_from_env() is None


@pytest.mark.parametrize("raw", ["-1", "ten", "nan"])
def test_a_bad_timeout_names_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, raw)
    with pytest.raises(ValueError, match=TIMEOUT_ENV):
        timeout_from_env()
