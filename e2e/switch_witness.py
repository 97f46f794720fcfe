"""The zero-downtime witness: one request loop around a switch (an app release, a day-2 converge), and its verdict.

A switch is only proven seamless when the loop watched all of it: it starts before the command is issued and stops
a fixed time after the command returned, and only once it has seen the new state. Every request is recorded (its
start time, status, and which version answered: the release id in the page, the header value a converge changes),
and `judge` (a pure function, unit-tested with recorded sequences) passes only if

  - no request failed (every answer 200, no connection error or timeout; a request may wait 30 s: an answer that
    comes late under the VM's load is latency, reported as `max_latency_s`, not a lost request);
  - the OLD version answered at least once, then the NEW one;
  - no old answer after the first new one (beyond `overlap_s`, which a caller must justify: nginx's reload starts
    its new workers before it tells the old ones to stop accepting, so for that moment either may answer);
  - the loop spanned the whole command: loop start < command start and loop end > command end;
  - the loop achieved at least `min_rate` requests per second over its duration.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

#: Which version answered, from (status, headers, body); None when the answer names none.
Identify = Callable[[int, dict[str, str], bytes], str | None]


@dataclasses.dataclass(frozen=True)
class Sample:
    """One request: when it started (monotonic s), how long it took, its status (0: no answer), who answered."""

    t: float
    duration: float
    status: int
    version: str | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


@dataclasses.dataclass(frozen=True)
class Window:
    """When the loop ran and when the command ran (monotonic s)."""

    loop_start: float
    loop_end: float
    command_start: float
    command_end: float


@dataclasses.dataclass(frozen=True)
class Verdict:
    ok: bool
    failures: tuple[str, ...]
    figures: dict[str, Any]


def runs(samples: Sequence[Sample]) -> list[tuple[str | None, int]]:
    """The versions in the order seen, with how many answers in a row (A, A, B -> [(A, 2), (B, 1)])."""
    out: list[tuple[str | None, int]] = []
    for s in samples:
        if s.ok:
            if out and out[-1][0] == s.version:
                out[-1] = (s.version, out[-1][1] + 1)
            else:
                out.append((s.version, 1))
    return out


def judge(samples: Sequence[Sample], window: Window, old: str, new: str, min_rate: float = 5.0,
          overlap_s: float = 0.0, max_latency_s: float | None = None) -> Verdict:
    """The verdict on one recorded loop (see the module docstring); every rule that failed is named.

    The slowest answer is always reported: a stall (connections queued while the app restarts) is no failed
    request, but it is downtime a user sees. With `max_latency_s`, a slower answer fails the verdict."""
    failures: list[str] = []
    if old == new:
        failures.append(f"old and new version are the same ({old!r}): the switch is not observable")
    failed = [s for s in samples if not s.ok]
    answered = [s for s in samples if s.ok]
    olds = [s.t for s in answered if s.version == old]
    news = [s.t for s in answered if s.version == new]
    others = sorted({str(s.version) for s in answered if s.version not in (old, new)})
    loop_s = window.loop_end - window.loop_start
    rate = len(samples) / loop_s if loop_s > 0 else 0.0
    if failed:
        failures.append(f"{len(failed)} failed request(s)")
    if not olds:
        failures.append("the old version never answered")
    if not news:
        failures.append("the new version never answered")
    if olds and news and min(olds) > min(news):
        failures.append("the new version answered before the old one")
    late_old = [t for t in olds if news and t > min(news) + overlap_s]
    if late_old:
        failures.append(f"{len(late_old)} old answer(s) after the first new one (allowed overlap {overlap_s} s)")
    if others:
        failures.append(f"answers from neither version: {others[:5]}")
    if not window.loop_start < window.command_start:
        failures.append("the loop started after the command")
    if not window.loop_end > window.command_end:
        failures.append("the loop ended before the command returned")
    if rate < min_rate:
        failures.append(f"rate {rate:.1f} req/s < {min_rate} req/s")
    slowest = max((s.duration for s in samples), default=0.0)
    if max_latency_s is not None and slowest > max_latency_s:
        failures.append(f"slowest answer took {slowest:.2f} s > {max_latency_s} s")
    switch_gap = (min(news) - max((t for t in olds if t < min(news)), default=min(news))) if news else None
    figures = {"requests": len(samples), "failed": len(failed),
               "answers": {"old": len(olds), "new": len(news), "other": len(answered) - len(olds) - len(news)},
               "loop_s": round(loop_s, 1), "command_s": round(window.command_end - window.command_start, 1),
               "loop_lead_s": round(window.command_start - window.loop_start, 1),
               "loop_tail_s": round(window.loop_end - window.command_end, 1),
               "switch_gap_s": round(switch_gap, 2) if switch_gap is not None else None,
               "rate_per_s": round(rate, 1), "min_rate_per_s": min_rate, "max_latency_s": round(slowest, 2)}
    return Verdict(not failures, tuple(failures), figures)


class SwitchLoop(threading.Thread):
    """GET `url` at `rate` req/s (one at a time, no catch-up burst) until stopped or `max_s` elapse; records a
    Sample per request. A catch-up burst from the one NAT address would trip nginx's per-IP limit_req (503),
    which is not what this measures."""

    def __init__(self, url: str, identify: Identify, rate: float = 10, max_s: float = 1200, timeout: float = 30):
        super().__init__(daemon=True)
        self.url, self.identify, self.interval, self.max_s, self.timeout = url, identify, 1 / rate, max_s, timeout
        self.samples: list[Sample] = []
        self.started = self.ended = 0.0
        self._halt = threading.Event()

    def _one(self, opener: urllib.request.OpenerDirector) -> Sample:
        t = time.monotonic()
        try:
            with opener.open(self.url, timeout=self.timeout) as r:
                body, status, headers = r.read(), r.status, dict(r.headers.items())
            return Sample(t, time.monotonic() - t, status, self.identify(status, headers, body))
        except urllib.error.HTTPError as exc:
            return Sample(t, time.monotonic() - t, exc.code, None, f"status {exc.code}")
        except (OSError, urllib.error.URLError) as exc:
            return Sample(t, time.monotonic() - t, 0, None, f"{type(exc).__name__}: {exc}"[:200])

    def run(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.started = nxt = time.monotonic()
        while not self._halt.is_set() and time.monotonic() - self.started < self.max_s:
            self.samples.append(self._one(opener))
            nxt = max(nxt + self.interval, time.monotonic())
            self._halt.wait(max(0.0, nxt - time.monotonic()))
        self.ended = time.monotonic()

    def seen(self, version: str, after: float = 0.0) -> bool:
        return any(s.ok and s.version == version and s.t >= after for s in list(self.samples))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=self.timeout + 5)


def witness(loop: SwitchLoop, command: Callable[[], Any], old: str, new: str, lead_s: float = 2.0,
            tail_s: float = 2.0, wait_new_s: float = 60.0) -> tuple[Any, Window]:
    """Run `command` inside `loop`: the loop starts first and must have seen `old` for `lead_s`; after the command
    returns it runs `tail_s` more and until `new` answered (at most `wait_new_s`). (command's result, window)."""
    loop.start()
    deadline = time.monotonic() + lead_s + 60
    while time.monotonic() < deadline and loop.is_alive() and not (
            loop.seen(old) and time.monotonic() - loop.started >= lead_s):
        time.sleep(0.1)
    command_start = time.monotonic()
    try:
        result = command()
    finally:
        command_end = time.monotonic()
        deadline = command_end + max(tail_s, wait_new_s)
        while loop.is_alive() and time.monotonic() < deadline and not (
                time.monotonic() >= command_end + tail_s and loop.seen(new, after=command_start)):
            time.sleep(0.1)
        loop.stop()
    last = loop.samples[-1] if loop.samples else None
    loop_end = last.t + last.duration if last else loop.started
    first = loop.samples[0].t if loop.samples else loop.started
    return result, Window(first, loop_end, command_start, command_end)


def summary(samples: Sequence[Sample], verdict: Verdict, old: str, new: str) -> dict[str, Any]:
    """The evidence for the report: the failures, the run-length sequence of versions, the first errors."""
    names = {old: "old", new: "new"}
    return {"failures": list(verdict.failures), "old": old, "new": new,
            "sequence": [[names.get(v or "", v), n] for v, n in runs(samples)][:20],
            "errors": [f"+{s.t - samples[0].t:.1f}s {s.error or s.status}" for s in samples if not s.ok][:10]}
