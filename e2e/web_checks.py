"""What answers from outside the e2e VM: the HTTP headers, and the service banners through the NAT."""

from __future__ import annotations

import contextlib
import re
import subprocess
import xml.etree.ElementTree as ET

from .check_result import CheckResult
from .vm import VM

# OWASP secure-headers (names are matched case-insensitively); X-XSS-Protection must NOT be sent.
REQUIRED_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy")



FORBIDDEN_HEADERS = ("X-XSS-Protection", "X-Powered-By")



def http_headers(vm: VM, guest_port: int = 80, path: str = "/", host: str | None = None,
                 expect_status: tuple[int, ...] = (200,)) -> CheckResult:
    """The app answers through nginx with the OWASP headers and no server version."""
    status, headers, _ = vm.http_get(guest_port, path, host_header=host)
    h = {k.lower(): v for k, v in headers.items()}
    missing = [x for x in REQUIRED_HEADERS if x.lower() not in h]
    forbidden = [x for x in FORBIDDEN_HEADERS if x.lower() in h]
    server = h.get("server", "")
    version_leak = bool(re.search(r"\d", server))
    ok = status in expect_status and not missing and not forbidden and not version_leak
    return CheckResult(f"http_headers:{guest_port}{path}", ok,
                       {"status": status, "server": server, "missing": missing, "forbidden": forbidden})



def service_banners(vm: VM) -> CheckResult:
    """Host-side `nmap -sT -sV` of the forwarded ports ONLY. Through slirp this shows which services answer
    and that they leak no versions; it is NOT a firewall test (see module docstring)."""
    ports = ",".join(str(vm.ports[g]) for g in sorted(vm.ports))
    p = subprocess.run(["nmap", "-Pn", "-sT", "-sV", "--version-light", "-oX", "-", "-p", ports, "127.0.0.1"],
                       capture_output=True, text=True, timeout=300)
    back = {h: g for g, h in vm.ports.items()}
    rows = []
    with contextlib.suppress(ET.ParseError):
        for port in ET.fromstring(p.stdout).iter("port"):
            state, svc = port.find("state"), port.find("service")
            sv = svc.attrib if svc is not None else {}
            rows.append({"guest_port": back.get(int(port.get("portid", 0))),
                         "state": state.get("state") if state is not None else None,
                         "service": sv.get("name"), "product": sv.get("product"), "version": sv.get("version"),
                         "extrainfo": sv.get("extrainfo")})
    # OpenSSH's banner always carries its version; nginx's must not (server_tokens off)
    by_port = {r["guest_port"]: r for r in rows}
    ok = (p.returncode == 0 and by_port.get(22, {}).get("state") == "open" and by_port[22].get("service") == "ssh"
          and by_port.get(80, {}).get("state") == "open" and by_port[80].get("service") == "http"
          and not by_port[80].get("version"))
    return CheckResult("service_banners_through_nat", ok, rows)
