"""Inbound rules, one model for every vendor's cloud firewall: what a rule lets in (protocol, ports, sources).
Each vendor folder reads its own firewall into this model; the policy pack judges the model. No SDK."""

from __future__ import annotations

from dataclasses import dataclass

#: The only ports a host may open to anyone (TCP): SSH, HTTP, HTTPS.
ALLOWED_TCP_PORTS = (22, 80, 443)
SSH_PORT = 22
ALL_PORTS = (0, 65535)
ANYWHERE = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Opening:
    """One inbound allowance: protocol ('tcp', 'udp', 'icmp', 'all', ...), port range (None: no ports, e.g.
    ICMP), the sources it admits and where it is written (for messages)."""

    protocol: str
    ports: tuple[int, int] | None
    sources: tuple[str, ...]
    where: str

    def includes_port(self, port: int) -> bool:
        return self.protocol in ("tcp", "all") and self.ports is not None and self.ports[0] <= port <= self.ports[1]

    def describe_ports(self) -> str:
        if self.ports is None:
            return self.protocol.upper()
        lo, hi = self.ports
        if lo <= 1 and hi >= 65535:
            return "every port of every protocol" if self.protocol == "all" else f"every {self.protocol.upper()} port"
        span = str(lo) if lo == hi else f"{lo}-{hi}"
        return f"port {span} of every protocol" if self.protocol == "all" else f"{self.protocol.upper()} port {span}"

    @property
    def allowed(self) -> bool:
        return (self.protocol == "tcp" and self.ports is not None and self.ports[0] == self.ports[1]
                and self.ports[0] in ALLOWED_TCP_PORTS)


def port_span(spec: str) -> tuple[int, int] | None:
    """'22' -> (22, 22); '80-443' -> (80, 443); '' / 'all' -> every port; garbage -> every port (fail closed)."""
    spec = spec.strip().lower()
    if spec in ("", "all", "*", "any"):
        return ALL_PORTS
    lo, _, hi = spec.partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        return ALL_PORTS
    return (min(first, last), max(first, last))
