"""TLS for real: Let's Encrypt's test ACME server (Debian's `pebble`) on the host, real http-01.

- openssl makes a throw-away CA and, signed by it, pebble's HTTPS certificate with SAN IP:10.0.2.2 (the host as
  the guest sees it; slirp maps it to the host's 127.0.0.1, where pebble listens). The CA's PEM becomes the
  stack's `acmeCaCertificate`, and `acmeServer` = https://10.0.2.2:PORT/dir: the product's own keys.
- pebble's validation authority resolves the domain with `-dnsserver` = pebble-challtestsrv on 127.0.0.1 (answers
  every A query with 127.0.0.1, no AAAA) and connects to `httpPort` = the host forward of the guest's :80, so
  certbot's webroot answer on the guest is really fetched. PEBBLE_VA_ALWAYS_VALID is NOT used.
- Outside checks: TLS 1.2 and 1.3 accepted, 1.0 and 1.1 refused by the server, HSTS, HTTP -> HTTPS 308, and a
  forced renewal (`certbot renew --force-renewal` with the environment of the host's own certbot.service)
  makes nginx serve a certificate with a new serial.
Everything listens on 127.0.0.1 only; both daemons are ours (Popen handles) and are killed on exit.
"""
from __future__ import annotations

import json
import os
import shlex
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from components.firstboot import AS_ROOT

from .checks import CheckResult
from .processes import VMError, free_port, log
from .vm import VM


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pebble:
    """pebble + pebble-challtestsrv on 127.0.0.1, with a CA and HTTPS certificate made here."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.mgmt_port = free_port()
        self.dns_port = free_port()
        self.dns_mgmt_port = free_port()
        self.procs: list[subprocess.Popen] = []
        self._files: list = []
        self._make_certs()

    def _make_certs(self) -> None:
        d = self.dir
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                 "-subj", "/CN=hardened-vps e2e pebble CA", "-keyout", "ca.key", "-out", "ca.pem",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=d)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=10.0.2.2",
                 "-keyout", "pebble.key", "-out", "pebble.csr", cwd=d)
        (d / "ext.cnf").write_text("subjectAltName=IP:10.0.2.2,IP:127.0.0.1,DNS:localhost\n"
                                   "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", "pebble.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", "ext.cnf", "-out", "pebble.pem", cwd=d)

    def _log(self, name: str) -> IO[str]:
        f = open(self.dir / name, "w")  # noqa: SIM115 - open as long as the daemon writes to it
        self._files.append(f)
        return f

    @property
    def ca_pem(self) -> str:
        return (self.dir / "ca.pem").read_text()

    @property
    def directory_url(self) -> str:
        return f"https://10.0.2.2:{self.port}/dir"

    def start(self, http_port: int, timeout: float = 30) -> Pebble:
        """http_port: the host port pebble's VA connects to for http-01 (the forward of the guest's :80)."""
        cfg = {"pebble": {"listenAddress": f"127.0.0.1:{self.port}",
                          "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
                          "certificate": str(self.dir / "pebble.pem"), "privateKey": str(self.dir / "pebble.key"),
                          "httpPort": http_port, "tlsPort": free_port(), "ocspResponderURL": "",
                          "externalAccountBindingRequired": False}}
        (self.dir / "pebble.json").write_text(json.dumps(cfg))
        env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
        env.pop("PEBBLE_VA_ALWAYS_VALID", None)
        dns = subprocess.Popen(["pebble-challtestsrv", "-dns01", f"127.0.0.1:{self.dns_port}", "-http01", "",
                                "-https01", "", "-tlsalpn01", "",
                                "-management", f"127.0.0.1:{self.dns_mgmt_port}",
                                "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
                               stdout=self._log("challtestsrv.log"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
        self.procs.append(dns)
        peb = subprocess.Popen(["pebble", "-config", str(self.dir / "pebble.json"),
                                "-dnsserver", f"127.0.0.1:{self.dns_port}"],
                               stdout=self._log("pebble.log"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
        self.procs.append(peb)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    log(f"pebble on 127.0.0.1:{self.port} (VA -> 127.0.0.1:{http_port}), "
                        f"DNS on 127.0.0.1:{self.dns_port}")
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise VMError(f"pebble did not start: {self.logs()}")

    def logs(self, n: int = 30) -> str:
        out = []
        for f in ("pebble.log", "challtestsrv.log"):
            p = self.dir / f
            if p.exists():
                out.append(f"--- {f}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-n:]))
        return "\n".join(out)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        self.procs.clear()
        for f in self._files:
            f.close()
        self._files.clear()


# ------------------------------------------------------------------------------------------------ checks
def _handshake(port: int, sni: str, version: ssl.TLSVersion) -> tuple[bool, str, bytes | None]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE           # the chain is pebble's random root; we check protocol, not trust
    ctx.minimum_version = ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")    # let the CLIENT offer old protocols, so a refusal is the server's
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s, \
                ctx.wrap_socket(s, server_hostname=sni) as t:
            return True, t.version() or "", t.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError) as exc:
        return False, str(exc), None


def _serial(der: bytes | None) -> str | None:
    if not der:
        return None
    p = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=ssl.DER_cert_to_PEM_cert(der),
                       capture_output=True, text=True, timeout=30)
    return p.stdout.strip().partition("=")[2] or None


def tls_protocols(vm: VM, domain: str) -> CheckResult:
    port = vm.ports[443]
    got: dict[str, dict[str, Any]] = {}
    for name, v in (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
                    ("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)):
        ok, detail, _ = _handshake(port, domain, v)
        got[name] = {"accepted": ok, "detail": detail[:160]}
    # a refusal must come from the server (an alert), not from this client lacking the protocol
    client_side = [n for n in ("TLSv1", "TLSv1.1") if "NO_PROTOCOLS_AVAILABLE" in got[n]["detail"].upper()]
    ok = (got["TLSv1.2"]["accepted"] and got["TLSv1.3"]["accepted"] and not got["TLSv1"]["accepted"]
          and not got["TLSv1.1"]["accepted"] and not client_side)
    return CheckResult("tls_protocols", ok, got,
                       figures={k: ("accepted" if v["accepted"] else "refused") for k, v in got.items()})


def _https_get(vm: VM, domain: str, path: str = "/") -> tuple[int, dict[str, str]]:
    """GET over TLS with SNI and Host = domain, through the forward of the guest's :443."""
    import http.client
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    c = http.client.HTTPConnection("127.0.0.1", vm.ports[443], timeout=15)
    try:
        c.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", vm.ports[443]), timeout=15),
                                 server_hostname=domain)
        c.request("GET", path, headers={"Host": domain})
        r = c.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def https_headers(vm: VM, domain: str, health: str) -> CheckResult:
    status, h = _https_get(vm, domain, health)
    hsts = h.get("strict-transport-security", "")
    ok = status == 200 and "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15552000
    return CheckResult("https_hsts", ok, {"status": status, "hsts": hsts, "server": h.get("server")})


def http_redirects(vm: VM, domain: str) -> CheckResult:
    status, headers, _ = vm.http_get(80, "/some/path?q=1", host_header=domain)
    loc = {k.lower(): v for k, v in headers.items()}.get("location", "")
    ok = status == 308 and loc == f"https://{domain}/some/path?q=1"
    return CheckResult("http_redirects_to_https", ok, {"status": status, "location": loc})


def renewal_reloads_nginx(vm: VM, admin: str, key: Path, domain: str) -> CheckResult:
    """Forced renewal with the host's own certbot.service environment; the deploy hook must reload nginx."""
    before = _serial(_handshake(vm.ports[443], domain, ssl.TLSVersion.TLSv1_3)[2])
    cmd = ("env $(systemctl show -p Environment --value certbot.service) "
           "certbot renew --force-renewal --no-random-sleep-on-renew 2>&1 | tail -n 5")
    p = vm.ssh(admin, key, f"{AS_ROOT} bash -c " + shlex.quote(cmd), timeout=300)
    after, t0 = before, time.monotonic()
    while time.monotonic() - t0 < 30 and after == before:
        time.sleep(1)
        after = _serial(_handshake(vm.ports[443], domain, ssl.TLSVersion.TLSv1_3)[2])
    ok = before is not None and after is not None and after != before
    return CheckResult("renewal_reloads_nginx", ok, {"serial_before": before, "serial_after": after,
                                                     "certbot": p.stdout.strip().splitlines()[-5:]},
                       figures={"serial_changed": after != before})


def wait_certificate(vm: VM, domain: str, timeout: float = 600) -> float:
    t0 = time.monotonic()
    last = ""
    while time.monotonic() - t0 < timeout:
        ok, detail, der = _handshake(vm.ports[443], domain, ssl.TLSVersion.TLSv1_3)
        if ok and der:
            return vm.since_power_on()
        last = detail
        if not vm.running():
            raise VMError("qemu exited while waiting for the certificate")
        time.sleep(3)
    raise VMError(f"no HTTPS on :443 within {timeout:.0f}s (last: {last})")
