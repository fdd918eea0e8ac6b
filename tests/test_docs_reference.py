"""The API reference covers the public API: every name in ``lanner.__all__`` has its entry.

``docs/reference/lanner.md`` lists the flat namespace by hand, grouped for a reader;
this keeps the list complete as the API grows. The other reference pages render
whole modules, so they follow their ``__all__`` by themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import lanner

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "lanner.md"


def test_every_public_name_has_a_reference_entry() -> None:
    """Each name in ``lanner.__all__`` has one ``::: lanner.X`` directive, and nothing else."""
    listed = re.findall(r"^::: lanner\.(\w+)$", REFERENCE.read_text(encoding="utf-8"), re.M)
    assert sorted(listed) == sorted(set(listed)), "a name is listed twice"
    assert set(listed) == set(lanner.__all__)
