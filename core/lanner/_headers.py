"""Checking header names and values when the app sets them (RFC 9110 §5.1 and §5.5).

A header the server cannot send is caught where the app sets it, so the error
names the header and the character at fault, rather than when the response is
encoded: by then the request can only crash, and servers differ in how (an
empty reply, a dropped connection, a traceback in the log).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["check_header"]

# field-name = token; tchar is any visible ASCII character but a delimiter.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# field-value = *( field-vchar / SP / HTAB ), field-vchar = VCHAR / obs-text
# (0x80-0xFF, as Latin-1). Everything else, controls and DEL included, is refused.
_NOT_FIELD_VALUE: Final = re.compile(r"[^\t \x21-\x7e\x80-\xff]")


def check_header(name: str, value: str) -> None:
    """Raise ``ValueError`` unless ``name: value`` can be sent as an HTTP header line.

    ``name`` must be a token (letters, digits and ``!#$%&'*+-.^_`|~``); ``value``
    may hold visible ASCII, spaces, tabs and Latin-1 characters (U+0080 to
    U+00FF), with no space or tab at either end.
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(
            f"Header names and values must be str; got {type(name).__name__} {name!r} "
            f"with a {type(value).__name__} value: convert it with str() first."
        )
    if _TOKEN.fullmatch(name) is None:
        bad = _TOKEN.sub("", name)[:1]
        found = f"has {_name_character(bad)}" if bad else "is empty"
        raise ValueError(
            f"Header name {name!r} {found}; a header name is a token: letters, digits "
            "and !#$%&'*+-.^_`|~ only (RFC 9110 §5.1)."
        )
    match = _NOT_FIELD_VALUE.search(value)
    if match is not None:
        raise ValueError(
            f"Header {name!r}: the value {value[:60]!r} has {_name_character(match.group())} at "
            f"index {match.start()}, which cannot be sent in a header. Values may hold "
            "visible ASCII, spaces, tabs and Latin-1 characters (RFC 9110 §5.5): remove "
            "it, or percent-encode the value."
        )
    if value[:1] in (" ", "\t") or value[-1:] in (" ", "\t"):
        raise ValueError(
            f"Header {name!r}: the value {value[:60]!r} starts or ends with whitespace, "
            "which is not part of a header value (RFC 9110 §5.5); strip it."
        )


def _name_character(char: str) -> str:
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return f"the control character {char!r} (U+{code:04X})"
    if code > 0xFF:
        name = unicodedata.name(char, "")
        named = f" {name}" if name else ""
        return f"the character {char!r} (U+{code:04X}{named}), beyond Latin-1"
    return f"the character {char!r}"
