"""systemd's EnvironmentFile= grammar, modelled from its source, against the app's encoded environment.

Models what PID 1 does with `EnvironmentFile=` (the unit's release.env and secrets.env) before the app starts:
systemd `src/basic/env-file.c` parse_env_file_internal (the state machine, character for character: NEWLINE is
"\\n\\r", WHITESPACE " \\t\\n\\r", COMMENTS "#;", SHELL_NEED_ESCAPE "\\"\\\\`$"), load_env_file_push (invalid
UTF-8 drops the line: `src/basic/utf8.c` unichar_is_valid), and `src/basic/env-util.c` env_value_is_valid
(before v247 it also dropped values holding control characters other than tab). systemd-run cannot start a unit
in this container, so the model stands in; the VM proof (e2e/hostile_release.py) reads the real app's
environment.

The tests feed adversarial values (hypothesis) through components/envfile.py and require every accepted value
to come back byte for byte, and show the unencoded form the deploy used to write failing the same model.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import envfile
from components.config import ConfigError, parse_host_spec
from tests.conftest import raw_config

NEWLINE, WHITESPACE, COMMENTS, NEED_ESCAPE = "\n\r", " \t\n\r", "#;", '"\\`$'


def _valid_utf8(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF or 0xFDD0 <= ord(c) <= 0xFDEF or (ord(c) & 0xFFFE) == 0xFFFE
                   for c in text)


def _valid_value(text: str, old_systemd: bool) -> bool:
    return _valid_utf8(text) and not (old_systemd and any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F
                                                          for c in text))


def systemd_env_file(text: str, old_systemd: bool = True) -> dict[str, str]:
    """The environment systemd builds from an EnvironmentFile (env-file.c parse_env_file_internal + push)."""
    env: dict[str, str] = {}
    state, key, value = "PRE_KEY", "", ""
    key_ws: int | None = None
    value_ws: int | None = None

    def push() -> None:
        nonlocal key, value
        k = key if key_ws is None else key[:key_ws]
        v = value
        if _valid_utf8(k) and _valid_utf8(v) and envfile.ENV_NAME.match(k) and _valid_value(v, old_systemd):
            env[k] = v  # strv_env_replace_consume: a later line wins
        key, value = "", ""

    for c in text:
        if c == "\0":
            break  # the C string ends
        if state == "PRE_KEY":
            if c in COMMENTS:
                state = "COMMENT"
            elif c not in WHITESPACE:
                state, key, key_ws = "KEY", c, None
        elif state == "KEY":
            if c in NEWLINE:
                state, key = "PRE_KEY", ""
            elif c == "=":
                state, value_ws = "PRE_VALUE", None
            else:
                if c not in WHITESPACE:
                    key_ws = None
                elif key_ws is None:
                    key_ws = len(key)
                key += c
        elif state == "PRE_VALUE":
            if c in NEWLINE:
                state = "PRE_KEY"
                push()
            elif c == "'":
                state = "SINGLE_QUOTE_VALUE"
            elif c == '"':
                state = "DOUBLE_QUOTE_VALUE"
            elif c == "\\":
                state = "VALUE_ESCAPE"
            elif c not in WHITESPACE:
                state, value = "VALUE", value + c
        elif state == "VALUE":
            if c in NEWLINE:
                state = "PRE_KEY"
                if value_ws is not None:
                    value = value[:value_ws]
                push()
            elif c == "\\":
                state, value_ws = "VALUE_ESCAPE", None
            else:
                if c not in WHITESPACE:
                    value_ws = None
                elif value_ws is None:
                    value_ws = len(value)
                value += c
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c not in NEWLINE:
                value += c
        elif state == "SINGLE_QUOTE_VALUE":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value += c
        elif state == "DOUBLE_QUOTE_VALUE":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DOUBLE_QUOTE_VALUE_ESCAPE"
            else:
                value += c
        elif state == "DOUBLE_QUOTE_VALUE_ESCAPE":
            state = "DOUBLE_QUOTE_VALUE"
            if c in NEED_ESCAPE:
                value += c
            elif c != "\n":
                value += "\\" + c
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c in NEWLINE:
                state = "PRE_KEY"
        elif state == "COMMENT_ESCAPE":
            state = "PRE_KEY" if c in NEWLINE else "COMMENT"
    if state in ("PRE_VALUE", "VALUE", "VALUE_ESCAPE", "SINGLE_QUOTE_VALUE", "DOUBLE_QUOTE_VALUE",
                 "DOUBLE_QUOTE_VALUE_ESCAPE"):
        if state == "VALUE" and value_ws is not None:
            value = value[:value_ws]
        push()
    return env


#: The values the task's reproduction names, and more of the same kind.
HOSTILE = ["pa\\ss", "export X=1", "ends in \\", "it's", "'unclosed", '"', 'say "hi"', "$HOME", "${IFS}", "`id`",
           "  padded  ", "#not a comment", ";semi", "tab\there", "a=b=c", "\\\\", "\\\"", "é \U0001f600 \u2028"]


def test_the_model_reproduces_the_reported_changes() -> None:
    """The form the deploy wrote before (NAME=value, bare) arrives changed: the model is not a no-op."""
    bare = "A=pa\\ss\nB=ends in \\\nC=next\nD='unclosed\nE=swallowed\n"
    env = systemd_env_file(bare)
    assert env["A"] == "pass"
    assert env["B"] == "ends in C=next" and "C" not in env  # joined with the next line
    assert "D" not in env and "E" not in env  # the quote swallows E; old systemd drops the multi-line D
    assert systemd_env_file(bare, old_systemd=False)["D"] == "unclosed\nE=swallowed\n"


@pytest.mark.parametrize("value", HOSTILE)
def test_every_hostile_value_arrives_intact(value: str) -> None:
    assert systemd_env_file(envfile.encode_file([("V", value), ("NEXT", "after")])) == {"V": value, "NEXT": "after"}


@settings(max_examples=400, deadline=None, database=None)
@given(values=st.lists(st.text(), min_size=1, max_size=4))
def test_an_accepted_value_arrives_byte_for_byte(values: list[str]) -> None:
    pairs = [(f"V{i}", v) for i, v in enumerate(values) if envfile.value_problem(v) is None]
    for old in (True, False):
        assert systemd_env_file(envfile.encode_file(pairs), old_systemd=old) == dict(pairs)


@settings(max_examples=300, deadline=None, database=None)
@given(value=st.text())
def test_config_refuses_what_cannot_arrive_and_keeps_the_rest_literal(value: str) -> None:
    """appEnv and appSecrets: a ConfigError naming the key, or the exact value in the spec."""
    for key in ("appEnv", "appSecrets") if "\n" not in value else ("appEnv",):  # appSecrets: one line each
        raw = {"appEnv": [f"V={value}"]} if key == "appEnv" else {"appSecrets": f"V={value}"}
        try:
            spec = parse_host_spec(raw_config(appSource="https://git.example.com/x.git", appRef="v1", **raw))
        except ConfigError as err:
            assert all(p.startswith(f"hardened-vps:{key}") for p in err.problems), err.problems
            continue
        assert spec.app is not None
        if key == "appEnv":
            assert spec.app.env == (("V", value),)
        else:
            assert envfile.parse_text(f"V={value}") == [("V", value)]
        assert systemd_env_file(envfile.encode_file([("V", value)])) == {"V": value}


@pytest.mark.parametrize(("line", "needle"), [
    ("A = b", "spaces around '='"),
    ("A= b", "spaces around '='"),
    ('A="quoted"', "taken literally, quotes included"),
    ("A='quoted'", "taken literally, quotes included"),
    ("A=bell\x07", "control character"),
    ("A=\ufffe", "U+FFFE"),
])
def test_values_that_would_change_are_refused_with_the_key(line: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(appEnv=[line]))
    assert any(p.startswith("hardened-vps:appEnv:") and needle in p for p in err.value.problems), err.value.problems


def test_export_prefix_names_the_variable_and_keeps_the_value() -> None:
    spec = parse_host_spec(raw_config(appSource="https://git.example.com/x.git", appRef="v1",
                                      appEnv=["export GREETING=hi  \\"]))
    assert spec.app is not None and spec.app.env == (("GREETING", "hi  \\"),)
