"""The plugin template (examples/plugin_template) as its author would use it, and its walkthrough.

docs/writing_plugins.md walks through the template file by file; these tests
keep the two the same, then build the template's wheel, install it, type-check
it, and run the template's own tests against the installed distribution, in a
fresh interpreter (the entry-point scan is cached per process). The build and
install work on a copy, with ``--no-build-isolation`` and ``--no-index``, so
nothing is downloaded and the checkout stays clean.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "plugin_template"
WALKTHROUGH = ROOT / "docs" / "writing_plugins.md"
TIMEOUT = 180.0

_BLOCK = re.compile(r"^```(\w+)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def _blocks(language: str) -> list[str]:
    text = WALKTHROUGH.read_text(encoding="utf-8")
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def _block_starting(language: str, first_line: str) -> str:
    found = [b for b in _blocks(language) if b.startswith(first_line)]
    assert len(found) == 1, f"docs/writing_plugins.md needs one {language} block: {first_line}"
    return found[0]


def test_the_walkthrough_shows_the_template_module_as_it_is() -> None:
    # The page's runnable example is the module plus a __main__ block trying it in-process.
    example = _blocks("python")[0]
    module = example[: example.index('\nif __name__ == "__main__":')].rstrip("\n") + "\n"
    assert module == (TEMPLATE / "lanner_request_id" / "__init__.py").read_text()


def test_the_walkthrough_shows_the_template_pyproject_and_tests_as_they_are() -> None:
    assert _block_starting("toml", "[build-system]") == (TEMPLATE / "pyproject.toml").read_text()
    tests = (TEMPLATE / "tests" / "test_request_id.py").read_text()
    assert _block_starting("python", tests.splitlines()[0]) == tests


def test_the_template_ships_what_a_distribution_needs() -> None:
    shipped = {p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "README.md",
        "lanner_request_id/__init__.py",
        "lanner_request_id/py.typed",
        "tests/test_request_id.py",
    } <= shipped


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.e2e
def test_the_template_builds_installs_type_checks_and_passes_its_own_tests(
    tmp_path: Path,
) -> None:
    project = tmp_path / "lanner-request-id"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run(
        [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), "."],
        project,
    )
    (wheel,) = wheels.glob("lanner_request_id-0.1.0-*.whl")
    _run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        tmp_path,
    )
    assert (site / "lanner_request_id" / "py.typed").is_file()

    # The author's type check: strict (from the template's pyproject), lanner from source.
    checked = {**os.environ, "MYPYPATH": str(ROOT / "core")}
    mypy = [
        sys.executable,
        "-m",
        "mypy",
        "--follow-imports=silent",
        "--cache-dir",
        str(tmp_path / "mc"),
    ]
    _run([*mypy, "lanner_request_id", "tests"], project, checked)

    # The template's own tests, against the installed wheel, not the copy's source.
    shutil.rmtree(project / "lanner_request_id")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    env["PYTHONPATH"] = str(site)
    pytest_args = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    out = _run([sys.executable, "-m", "pytest", *pytest_args], project, env)
    assert re.search(r"\b7 passed\b", out), out
