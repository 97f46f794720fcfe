"""The app's environment as systemd reads it back: one encoder, so every value reaches the app byte for byte.

The unit loads `release.env` and `secrets.env` with `EnvironmentFile=`, whose grammar (systemd
`src/basic/env-file.c`, parse_env_file_internal) changes bare values: a backslash escapes the next character
(`pa\\ss` -> `pass`), a trailing backslash joins the next line, `'` opens a quote that may span lines,
trailing whitespace is cut. Inside double quotes only `\\"`, `\\\\`, `\\$` and `` \\` `` are escapes (the
backslash is dropped), every other character is kept as it is. So each value is written double-quoted with
those four escaped. What no quoting can carry is refused before anything is deployed: NUL and newlines, other
control characters (systemd before v247 drops a value holding one: env-util.c env_value_is_valid), and code
points systemd's UTF-8 check refuses (utf8.c unichar_is_valid: surrogates, U+FDD0..U+FDEF, U+xxFFFE/F).
"""

from __future__ import annotations

import re

#: What `export`-style and dotenv files accept as a name, and what systemd keeps (env_name_is_valid).
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Characters systemd unescapes inside double quotes (SHELL_NEED_ESCAPE in src/basic/escape.h).
_ESCAPED = frozenset('"\\`$')


def value_problem(value: str) -> str | None:
    """Why `value` cannot reach the app unchanged through an EnvironmentFile, or None when it can."""
    for ch in value:
        code = ord(ch)
        if ch == "\0":
            return "holds a NUL byte"
        if ch in "\n\r":
            return "spans lines (a newline or carriage return)"
        if (code < 0x20 and ch != "\t") or code == 0x7F:
            return f"holds the control character {ch!r} (only tab is allowed)"
        if 0xD800 <= code <= 0xDFFF or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return f"holds U+{code:04X}, which systemd refuses as invalid UTF-8"
    return None


def encode_line(name: str, value: str) -> str:
    """One `NAME="value"` line (no newline) that systemd parses back to exactly (name, value)."""
    if not ENV_NAME.match(name):
        raise ValueError(f"{name!r} is not an environment variable name")
    problem = value_problem(value)
    if problem is not None:
        raise ValueError(f"{name}: the value {problem}")
    return f'{name}="' + "".join("\\" + ch if ch in _ESCAPED else ch for ch in value) + '"'


def encode_file(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """A whole EnvironmentFile: one encoded line per pair, each ending in a newline."""
    return "".join(encode_line(name, value) + "\n" for name, value in pairs)


def split_lines(text: str) -> list[str]:
    """dotenv text as lines: split at newlines only (not at form feeds or U+2028, which stay in the value).

    A carriage return is not dropped (that would change a value ending in one); it is refused with the line.
    """
    return text.split("\n")


def parse_line(line: str) -> tuple[str, str] | str | None:
    """One dotenv line: (name, value), None for a blank or comment line, or a problem (without the value).

    The value is everything after the first `=`, taken literally: no quote removal, no escapes, no trimming.
    `export NAME=value` names NAME (the prefix belongs to the name, not the value). Spaces around `=` and
    values wrapped in quotes are refused instead of guessed: either reading would change the value silently.
    """
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    head, sep, value = line.partition("=")
    name = head.lstrip().removeprefix("export ").lstrip()
    if not sep or not ENV_NAME.match(name.rstrip()):
        return "is not KEY=value (KEY: letters, digits, _)"
    if name != name.rstrip() or value[:1].isspace():
        return f"{name.rstrip()}: spaces around '=' would become part of the value; write {name.rstrip()}=value"
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return (f"{name}: the value is taken literally, quotes included; remove the surrounding quotes "
                "(every value is quoted for systemd by the deploy)")
    problem = value_problem(value)
    if problem is not None:
        return f"{name}: the value {problem}; it could not reach the app unchanged"
    return name, value


def parse_text(text: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of dotenv text; lines with a problem are left out (config refused them first)."""
    return [p for p in (parse_line(line) for line in split_lines(text)) if isinstance(p, tuple)]
