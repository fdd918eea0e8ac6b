"""Tests for plugin configuration: ``$env`` / ``$file`` references and redaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lanner import hookimpl
from lanner.app import App
from lanner.plugins._config import redact, resolve_section


def test_a_missing_section_is_an_empty_dict() -> None:
    assert resolve_section({}, "auth_mw") == {}
    assert resolve_section({"auth_mw": None}, "auth_mw") == {}


def test_plain_values_come_back_as_a_copy() -> None:
    raw: dict[str, Any] = {"p": {"level": 3, "names": ["a", "b"], "nested": {"on": True}}}
    section = resolve_section(raw, "p")
    assert section == {"level": 3, "names": ["a", "b"], "nested": {"on": True}}
    section["nested"]["on"] = False
    section["names"].append("c")
    assert raw["p"] == {"level": 3, "names": ["a", "b"], "nested": {"on": True}}


def test_env_references_resolve_anywhere_in_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALICE_TOKEN", "s3cret")
    monkeypatch.setenv("ORIGIN", "https://app.example")
    raw = {
        "auth_mw": {
            "tokens": {"alice": {"$env": "ALICE_TOKEN"}},
            "allowed_origins": [{"$env": "ORIGIN"}, "https://other.example"],
        }
    }
    assert resolve_section(raw, "auth_mw") == {
        "tokens": {"alice": "s3cret"},
        "allowed_origins": ["https://app.example", "https://other.example"],
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("s3cret", "s3cret"),
        ("s3cret\n\n", "s3cret\n"),
        ("line one\nline two\n", "line one\nline two"),
    ],
)
def test_file_references_strip_exactly_one_trailing_newline(
    tmp_path: Path, content: str, expected: str
) -> None:
    secret = tmp_path / "token"
    secret.write_bytes(content.encode())
    raw = {"p": {"token": {"$file": str(secret)}}}
    assert resolve_section(raw, "p") == {"token": expected}


def test_a_relative_file_path_starts_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret.txt").write_text("value\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_section({"p": {"k": {"$file": "secret.txt"}}}, "p") == {"k": "value"}


def test_a_missing_env_variable_names_the_section_the_key_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    raw = {"auth_mw": {"tokens": {"bob": {"$env": "NOT_SET_ANYWHERE"}}}}
    with pytest.raises(ValueError) as caught:
        resolve_section(raw, "auth_mw")
    message = str(caught.value)
    assert "plugin_config['auth_mw']['tokens']['bob']" in message
    assert "environment variable NOT_SET_ANYWHERE, which is not set" in message


def test_a_missing_file_names_the_section_the_key_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(ValueError) as caught:
        resolve_section({"p": {"list": [{"$file": str(missing)}]}}, "p")
    message = str(caught.value)
    assert "plugin_config['p']['list'][0]" in message
    assert str(missing) in message
    assert "cannot be read" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"$env": "A", "extra": 1}, "looks like a reference"),
        ({"$envv": "A"}, "looks like a reference"),
        ({"$env": ""}, "takes a non-empty string"),
        ({"$file": 3}, "takes a non-empty string"),
    ],
)
def test_a_malformed_reference_is_an_error(value: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        resolve_section({"p": {"k": value}}, "p")


def test_a_section_that_is_not_a_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"plugin_config\['p'\] must be a mapping"):
        resolve_section({"p": ["level", 3]}, "p")


def test_redact_hides_references_and_secret_looking_keys_but_keeps_the_rest() -> None:
    raw = {
        "tokens": {"alice": "s3cret", "bob": {"$env": "BOB"}},
        "api_key": "k",
        "Password": None,
        "query_param": "access_token",
        "allowed_origins": ["https://app.example"],
        "nested": {"client_secret": ["a", "b"], "level": 1},
        "from_env": {"$env": "PLAIN"},
        "from_file": {"$file": "/run/secrets/x"},
    }
    assert redact(raw) == {
        "tokens": {"alice": "***", "bob": "***"},
        "api_key": "***",
        "Password": None,
        "query_param": "access_token",
        "allowed_origins": ["https://app.example"],
        "nested": {"client_secret": ["***", "***"], "level": 1},
        "from_env": "***",
        "from_file": "***",
    }


def test_redact_never_reads_a_referenced_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_SECRET", raising=False)
    assert redact({"x": {"$env": "UNSET_SECRET"}}) == {"x": "***"}


def test_a_plugin_reads_its_resolved_section_in_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEVEL", "7")
    seen: list[dict[str, Any]] = []

    class Configured:
        name = "configured"

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            seen.append(app.plugin_config(self.name))

    App(plugins=[Configured()], plugin_config={"configured": {"level": {"$env": "LEVEL"}}})
    assert seen == [{"level": "7"}]


def test_a_plugin_rejecting_an_unknown_key_fails_app_creation() -> None:
    class Strict:
        name = "strict"

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            unknown = set(app.plugin_config(self.name)) - {"level"}
            if unknown:
                raise ValueError(f"strict: unknown config keys {sorted(unknown)}")

    App(plugins=[Strict()], plugin_config={"strict": {"level": 1}})
    with pytest.raises(ValueError, match=r"unknown config keys \['colour'\]"):
        App(plugins=[Strict()], plugin_config={"strict": {"colour": "red"}})
