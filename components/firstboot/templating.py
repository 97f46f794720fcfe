"""Templates and the encoders their placeholders name: a value from the stack reaches a host file only encoded
for that file's language (`{{ name | encoder }}`), and a placeholder without an encoder does not render."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


class TemplateError(ValueError):
    """A template or a value that cannot be rendered safely: a bug in this project, never a config problem."""


class Trusted(str):
    """Text built by this module's own code from validated data (rule blocks, script steps): `| raw` takes
    only this type, so a value from the stack can never reach a template unencoded."""


def _refuse(value: str, bad: str, what: str) -> None:
    """Raise when `value` holds a control character (newlines start a new directive or command) or one of `bad`."""
    for ch in value:
        if not ch.isprintable() or ch in bad:
            raise TemplateError(f"{ch!r} cannot be encoded for {what}")


def encode_sh(value: object) -> str:
    """A bash word (shlex.quote; quoting composes inside a word); a sequence becomes several words."""
    words = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    for word in words:
        if "\0" in word:
            raise TemplateError("a NUL byte cannot be passed to a shell command")
    return " ".join(shlex.quote(w) for w in words)


def encode_systemd(value: object) -> str:
    """Part of a word in a systemd unit setting: `%` is escaped (specifiers); characters that split words,
    quote, escape or expand ($VAR in Exec lines) are refused, as the placements have no common quoting."""
    text = str(value)
    _refuse(text, " \t\"'\\$;", "a systemd unit")
    return text.replace("%", "%%")


def encode_nginx(value: object) -> str:
    """One whole nginx token as a double-quoted string; `$` is refused (nginx would expand a variable)."""
    text = str(value)
    _refuse(text, "$", "nginx")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_sshd(value: object) -> str:
    """One sshd_config argument (a name or comma list): nothing that splits, quotes or starts a comment."""
    text = str(value)
    _refuse(text, " \t\"'\\#", "sshd_config")
    if not text:
        raise TemplateError("an empty sshd_config argument would drop the setting")
    return text


_SUDOERS_SPECIAL = "!=:,()\\"


def encode_sudoers(value: object) -> str:
    """A sudoers user name: the manual's special characters backslash-escaped; alias names (ALL) and the
    #uid, %group, +netgroup forms refused, since they would widen who the rule applies to."""
    text = str(value)
    _refuse(text, " \t\"'", "sudoers")
    if not text or text[0] in "#%+&~" or re.fullmatch(r"[A-Z][A-Z0-9_]*", text):
        raise TemplateError(f"{text!r} would not name one user in sudoers")
    return "".join("\\" + ch if ch in _SUDOERS_SPECIAL else ch for ch in text)


def encode_apt(value: object) -> str:
    """An apt.conf double-quoted string, which has no escapes: quotes and backslashes are refused."""
    text = str(value)
    _refuse(text, '"\\', "apt.conf")
    return f'"{text}"'


def encode_py(value: object) -> str:
    """A Python literal (repr of a str or int)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise TemplateError(f"{type(value).__name__} is not encoded as a Python literal")
    return repr(value)


def encode_raw(value: object) -> str:
    """Trusted text only (see `Trusted`); anything else is refused."""
    if not isinstance(value, Trusted):
        raise TemplateError("| raw takes only Trusted text built by the renderer, not a config value")
    return str(value)


#: Placeholder filters: `{{ name | encoder }}`, one per language a template is written in.
ENCODERS: Mapping[str, Callable[[object], str]] = {
    "sh": encode_sh, "systemd": encode_systemd, "nginx": encode_nginx, "sshd": encode_sshd,
    "sudoers": encode_sudoers, "apt": encode_apt, "py": encode_py, "raw": encode_raw,
}
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PLACEHOLDER_PARTS = re.compile(r"\s*([a-z_]+)\s*\|\s*([a-z]+)\s*")


def template_names() -> list[str]:
    """Every template, named by its path on the host relative to / (`{app_name}` stands for the app's name)."""
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file())


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def render_text(text: str, values: Mapping[str, object], name: str = "<text>") -> str:
    """Fill `{{ name | encoder }}` placeholders, each value encoded for the template's language.

    Fails closed: a placeholder without a known encoder, a value that is missing, or one its encoder
    refuses raises TemplateError naming the template and placeholder.
    """

    def fill(match: re.Match[str]) -> str:
        parts = _PLACEHOLDER_PARTS.fullmatch(match.group(1))
        if not parts or parts.group(2) not in ENCODERS:
            raise TemplateError(f"{name}: placeholder {match.group(0)!r} must name an encoder: "
                                f"{{{{ value | encoder }}}}, encoder one of {', '.join(ENCODERS)}")
        key, encoder = parts.groups()
        if key not in values:
            raise TemplateError(f"{name}: placeholder {key!r} has no value")
        try:
            return ENCODERS[encoder](values[key])
        except TemplateError as err:
            raise TemplateError(f"{name}: {{{{ {key} | {encoder} }}}}: {err}") from None

    out = _PLACEHOLDER.sub(fill, text)
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise TemplateError(f"{name}: an unpaired '{{{{' or '}}}}' (placeholders are {{{{ value | encoder }}}})")
    return out


def render_template(name: str, values: Mapping[str, object]) -> str:
    """Render one template file (see render_text)."""
    return render_text(_template(name), values, name)


#: Templates whose language does not take every whole line starting with its comment prefix as a comment
#: (sudoers has `#include`, the sample app's docstring is data, the login banner is shown as written): rendered
#: as they are. Other Python templates lose their comment lines only while they hold no triple-quoted string.
KEEP_COMMENT_LINES = frozenset({"etc/sudoers.d/90-hvps-admin", "etc/issue.net", "etc/hvps/sample_app.py"})
#: Comment prefix per template where it is not `#` (apt.conf: `//` at the start of a line is always a comment).
COMMENT_PREFIX: Mapping[str, str] = {"etc/apt/apt.conf.d/20auto-upgrades": "//",
                                     "etc/apt/apt.conf.d/52hvps-unattended-upgrades": "//",
                                     "etc/polkit-1/rules.d/50-hvps-admin.rules": "//"}
#: What stays of a file's header on the host: its comment prefix and this marker, so the file says who wrote it.
MANAGED_MARKER = "Managed by hardened-vps."


def without_comment_lines(text: str, prefix: str = "#") -> str:
    """A file without its comment lines: only a `#!` first line and the header's marker stay, shortened to
    `<prefix> Managed by hardened-vps.` (see MANAGED_MARKER). The templates keep their comments for readers of
    the repository; on the host every byte counts against the smallest vendor's 16 KiB user-data limit.
    Only whole comment lines go, and only in files where such a line is never data (see KEEP_COMMENT_LINES)."""
    kept: list[str] = []
    marked = False
    for i, line in enumerate(text.splitlines(keepends=True)):
        stripped = line.lstrip()
        if (i == 0 and line.startswith("#!")) or not stripped.startswith(prefix):
            kept.append(line)
        elif not marked and MANAGED_MARKER in line:
            lead = stripped[:len(stripped) - len(stripped.lstrip(prefix[0]))]  # `#`, `##` or `//`
            kept.append(f"{lead} {MANAGED_MARKER}\n")
            marked = True
    return "".join(kept)


def render_host_file(name: str, values: Mapping[str, object]) -> str:
    """A template rendered as it is written on the host: comment lines dropped but the marker (see above)."""
    text = render_template(name, values)
    if name in KEEP_COMMENT_LINES:
        return text
    if name.endswith(".py") and ('"""' in text or "'''" in text):
        raise TemplateError(f"{name}: a `#` line may be inside a triple-quoted string: add it to KEEP_COMMENT_LINES")
    return without_comment_lines(text, COMMENT_PREFIX.get(name, "#"))
