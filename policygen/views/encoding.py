"""Text that stdout's encoding cannot carry, written without a traceback.

JSON allows a string to hold a lone surrogate as an escape (`"\\ud800"`, RFC 8259 §8.2) and Python's
`json` reads it as the code point U+D800, which no Unicode encoding can write (UTF-8 refuses it, see
https://docs.python.org/3/library/codecs.html#error-handlers); a latin-1 or ASCII stdout cannot write
`€` either. So output that holds such a character is escaped the way its format reads back:

- JSON: `\\uXXXX` (astral characters as a surrogate pair), the same string for any JSON reader;
- text meant for people (CSV, tables): `backslashreplace`, so the character is seen, not lost as `?`.

Surrogates are always escaped (a stream whose error handler is `surrogateescape`, as under the C locale,
would otherwise write them as undecodable bytes); other characters only when the stream cannot write
them, which is found by trying: text without such characters is written exactly as before, at no cost.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from policygen.views.console import echo

JSON_ESCAPE = "policygen.jsonescape"  # codec error handler: `\uXXXX` escapes (registered below)
VISIBLE = "backslashreplace"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_escapes(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
        else:
            out.append(f"\\u{cp:04x}")
    return "".join(out)


def _json_escape(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return _json_escapes(exc.object[exc.start:exc.end]), exc.end


codecs.register_error(JSON_ESCAPE, _json_escape)


def _surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"  # the same text as JSON's escape and as backslashreplace


def without_surrogates(text: str) -> str:
    """`text` with each surrogate written as `\\udXXX`: in JSON text (where characters beyond ASCII occur
    only inside strings) the same string; in text for people, the character made visible."""
    return _SURROGATE.sub(_surrogate, text) if _SURROGATE.search(text) else text


def shown(text: str, encoding: str | None) -> str:
    """`text` as a view for people can print it on a stream of `encoding` (backslashreplace what it
    cannot carry); measured before printing, so tables keep their columns."""
    text = without_surrogates(text)
    if encoding:
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            return text.encode(encoding, VISIBLE).decode(encoding)
        except LookupError:
            pass
    return text


def _echo_escaped(text: str, errors: str, *, nl: bool, err: bool) -> None:
    text = without_surrogates(text)
    try:
        echo(text, nl=nl, err=err)  # a text stream encodes the whole text before writing any of it
    except UnicodeEncodeError as exc:
        echo(text.encode(exc.encoding, errors).decode(exc.encoding), nl=nl, err=err)


def echo_json(text: str, *, nl: bool = True, err: bool = False) -> None:
    """JSON text (`ensure_ascii=False`) on a stream of any encoding: still valid JSON, same meaning."""
    _echo_escaped(text, JSON_ESCAPE, nl=nl, err=err)


def echo_visible(text: str, *, nl: bool = True, err: bool = False) -> None:
    """Text for people (CSV, reports) with what the stream cannot carry written as backslash escapes."""
    _echo_escaped(text, VISIBLE, nl=nl, err=err)


class VisibleFile:
    """A text stream for rich: what its encoding cannot carry is written backslash-escaped, not raised."""

    def __init__(self, stream: Any):
        self._stream = stream  # not `rich_proxied_file`: rich would write to that instead

    def write(self, text: str) -> int:
        stream = self._stream
        text = without_surrogates(text)
        try:
            return stream.write(text)
        except UnicodeEncodeError as exc:
            return stream.write(text.encode(exc.encoding, VISIBLE).decode(exc.encoding))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
