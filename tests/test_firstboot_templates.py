"""First-boot templates: each is used and filled, every placeholder names the language it lands in (an encoder
that keeps a hostile value one intact token, or refuses it), and comment lines stay in the templates, not in the
bytes sent to the host."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace

import pytest

from components import firstboot
from components.config import parse_host_spec
from components.firstboot import describe_first_boot
from tests import firstboot_support
from tests.conftest import raw_config

domain_spec = firstboot_support.domain_spec  # the shared fixture, registered here


def test_no_placeholder_left_unfilled(domain_spec) -> None:
    for f in describe_first_boot(domain_spec).files:
        assert "{{" not in f.content, f.path


def test_every_template_is_used() -> None:
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com", dataVolumeGb=10,
                                      database="postgresql"))
    names = set(firstboot.template_names())
    owned = {f.path.lstrip("/") for c in firstboot.CONCERNS for f in c.files if f.template}
    # the converge's own code belongs to no concern: every converge bundle carries it (converge_code)
    assert names == owned | {firstboot.concerns.CONVERGE_CODE_PATH.lstrip("/")}
    # + the admin's authorized_keys, the pinned host key, the concern manifest and (DigitalOcean with monitoring)
    # do-agent's drop-in; the converge's code is in the converge bundle only (converge_files)
    assert len(describe_first_boot(spec, converge=True).files) == len(names) - 1 + 4
    assert len(firstboot.converge_files(spec).files) == len(names) + 3


# ---------------------------------------------------------------------------------------------------------
# Encoding: every placeholder names the language it lands in, and the renderer fails closed.

def test_every_placeholder_names_a_known_encoder() -> None:
    found: dict[str, set[str]] = {}
    for name in firstboot.template_names():
        for inner in re.findall(r"\{\{(.*?)\}\}", (firstboot.TEMPLATES / name).read_text(), re.DOTALL):
            key, sep, encoder = inner.partition("|")
            assert sep and encoder.strip() in firstboot.ENCODERS, f"{name}: {{{{{inner}}}}}"
            found.setdefault(encoder.strip(), set()).add(key.strip())
    # raw is only for text the renderer builds itself (rule blocks, script steps), never a config value
    assert found["raw"] == {"ssh_rules", "dhcp_rules", "upgrade_origins", "acme_ca_env", "sshd_options",
                            "sysctl_settings", "concern_functions", "postgresql_settings", "database_env"}
    values = firstboot.template_values(parse_host_spec(raw_config(domain="app.example.com",
                                                                  acmeEmail="ops@example.com")))
    assert all(isinstance(values[key], firstboot.Trusted) for key in found["raw"])


@pytest.mark.parametrize("text", ["{{ acme_email }}", "{{ acme_email | shell }}", "{{ nope | sh }}", "{{ x | sh",
                                  "{{ ACME | sh }}"])
def test_renderer_fails_closed(text: str) -> None:
    with pytest.raises(firstboot.TemplateError, match=r"t\.conf: "):
        firstboot.render_text(text, {"acme_email": "ops@example.com", "x": "1"}, "t.conf")


def test_raw_takes_only_trusted_text() -> None:
    with pytest.raises(firstboot.TemplateError, match="raw takes only Trusted"):
        firstboot.render_text("{{ v | raw }}", {"v": "$(id)"})
    assert firstboot.render_text("{{ v | raw }}", {"v": firstboot.Trusted("ok")}) == "ok"


HOSTILE = ["$(touch x)", "a'b\"c", "back`tick`", "semi;colon", "new\nline", "dollar$HOME", "percent%n", "uni-é",
           "sp ace", "tab\t", "\\", "ALL", "#1000", "%sudo"]


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_encoding_is_one_intact_word(value: str) -> None:
    out = subprocess.run(["bash", "-c", "printf '%s\\0' " + firstboot.encode_sh(value)], capture_output=True)
    assert out.stdout == value.encode() + b"\0"
    words = subprocess.run(["bash", "-c", "printf '%s\\0' " + firstboot.encode_sh(("a b", value))],
                           capture_output=True)
    assert words.stdout == b"a b\0" + value.encode() + b"\0"


def test_sh_refuses_nul() -> None:
    with pytest.raises(firstboot.TemplateError, match="NUL"):
        firstboot.encode_sh("a\0b")


@pytest.mark.parametrize("value", HOSTILE)
def test_py_encoding_is_a_literal(value: str) -> None:
    import ast

    assert ast.literal_eval(firstboot.encode_py(value)) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_config_encoders_refuse_or_keep_one_token(value: str) -> None:
    """systemd, sshd, sudoers, nginx and apt.conf: a value stays one token on one line, or is refused."""
    splitting = set(" \t\n\"'\\")
    for name, encoder in firstboot.ENCODERS.items():
        if name in ("sh", "py", "raw"):
            continue
        try:
            out = encoder(value)
        except firstboot.TemplateError:
            continue
        assert "\n" not in out, name
        if name == "nginx":  # one double-quoted token whose escapes undo to the value
            assert out[0] == out[-1] == '"' and "$" not in out
            assert re.sub(r'\\(["\\])', r"\1", out[1:-1]) == value
        elif name == "apt":
            assert out == f'"{value}"' and not set(value) & {'"', "\\"}
        else:
            assert not set(out) & splitting - ({"\\"} if name == "sudoers" else set()), (name, out)
    with pytest.raises(firstboot.TemplateError):
        firstboot.encode_systemd("a\nb")


def test_systemd_escapes_specifiers_and_sudoers_names_one_user() -> None:
    assert firstboot.encode_systemd("50%off") == "50%%off"
    assert firstboot.encode_sudoers("a:b,c") == "a\\:b\\,c"
    for value in ("ALL", "%sudo", "#0", "+admins", "a b"):
        with pytest.raises(firstboot.TemplateError):
            firstboot.encode_sudoers(value)
    for value in ("a b", "x#y", "", "a\nb"):
        with pytest.raises(firstboot.TemplateError):
            firstboot.encode_sshd(value)
    with pytest.raises(firstboot.TemplateError, match=r"'\$'"):
        firstboot.encode_nginx("/srv/$app")


def test_hostile_value_in_a_spec_cannot_reach_a_config_file_unencoded(domain_spec) -> None:
    """A spec built around validation: the renderer still refuses or encodes, never pastes."""
    with pytest.raises(firstboot.TemplateError, match=r"\{\{ app_name \| systemd \}\}: '\\n' cannot"):
        firstboot.render_template("etc/systemd/system/{app_name}.service",
                                  {"app_name": "app\nExecStartPre=/bin/touch /x"})
    with pytest.raises(firstboot.TemplateError, match="90-hvps-admin"):
        describe_first_boot(replace(domain_spec, admin_user="ALL"))
    files = {f.path: f.content for f in describe_first_boot(replace(domain_spec, domain='a"b.example.com')).files}
    assert 'server_name "a\\"b.example.com";' in files["/etc/hvps/nginx-site-https.conf"]


# ---------------------------------------------------------------------------------------------------------
# Comment lines: kept in the templates, left out of the bytes sent.

def test_comment_lines_stay_in_the_templates_not_in_the_bytes_sent(domain_spec) -> None:
    """On the host a file keeps every line but whole comments, of which only a `#!` line and the marker stay;
    the languages where a comment-looking line may be data (sudoers, Python, the banner) keep all."""
    values = firstboot.template_values(domain_spec)
    stripped = 0
    for name in firstboot.template_names():
        full = firstboot.render_template(name, values)
        sent = firstboot.render_host_file(name, values)
        if name in firstboot.KEEP_COMMENT_LINES:
            assert sent == full, name
            continue
        prefix = firstboot.COMMENT_PREFIX.get(name, "#")
        lines = full.splitlines()
        code = [s for i, s in enumerate(lines) if not s.lstrip().startswith(prefix) or (i == 0 and s.startswith("#!"))]
        sent_lines = sent.splitlines()
        markers = [s for s in sent_lines if s.lstrip().startswith(prefix) and not s.startswith("#!")]
        assert [s for s in sent_lines if s not in markers] == code, name
        had_marker = any(firstboot.MANAGED_MARKER in s for s in lines if s.lstrip().startswith(prefix))
        assert markers == ([f"{prefix[0] * (2 if s.startswith('##') else 1) if prefix == '#' else prefix} "
                            f"{firstboot.MANAGED_MARKER}" for s in lines if firstboot.MANAGED_MARKER in s][:1]
                           if had_marker else []), name
        stripped += len(full) - len(sent)
    assert stripped > 2000  # provision.sh alone documents itself in about 2 KB of comments
    assert firstboot.render_host_file("etc/sudoers.d/90-hvps-admin", values).count("\n") == 4


def test_apt_files_lose_their_slash_comments_but_keep_quoted_slashes() -> None:
    """apt.conf comments start with `//`; a `//` inside a value (a URL) is data and stays."""
    text = '// Managed by hardened-vps. Why.\n// more\nAcquire::http::Proxy "http://x:3142";\n  // indented\n'
    assert firstboot.without_comment_lines(text, "//") == \
        '// Managed by hardened-vps.\nAcquire::http::Proxy "http://x:3142";\n'


def test_only_the_marker_of_the_header_stays() -> None:
    text = "#!/bin/bash\n# Managed by hardened-vps. A script.\n# More.\nset -e\n  # indented\necho '#'\n"
    assert firstboot.without_comment_lines(text) == "#!/bin/bash\n# Managed by hardened-vps.\nset -e\necho '#'\n"
    assert firstboot.without_comment_lines("# Managed by hardened-vps.\n# Managed by hardened-vps.\nx\n") == \
        "# Managed by hardened-vps.\nx\n"


def test_a_python_template_with_a_triple_quoted_string_must_keep_its_comment_lines(monkeypatch) -> None:
    """A `#` line inside a Python string is data: such a template fails until it is in KEEP_COMMENT_LINES."""
    monkeypatch.setattr(firstboot.templating, "_template", lambda name: 'X = """\n# data\n"""\n')
    with pytest.raises(firstboot.TemplateError, match="KEEP_COMMENT_LINES"):
        firstboot.render_host_file("new.py", {})
    assert firstboot.render_host_file("new.conf", {}) == 'X = """\n"""\n'
