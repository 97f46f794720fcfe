"""The zero-downtime witness's verdict (e2e/switch_witness.py) on recorded request sequences: the sequences that
must fail do fail, each for the reason it names. The VM run (`make e2e`) feeds it real ones."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2e.release import release_in_page
from e2e.switch_witness import Sample, SwitchLoop, Window, judge, runs, witness

OLD, NEW = "r-aaaaaaaaaaaa", "r-bbbbbbbbbbbb"


def _loop(versions: Sequence[str | None], start: float = 0.0, step: float = 0.1, status: int = 200) -> list[Sample]:
    return [Sample(start + i * step, 0.01, status, v) for i, v in enumerate(versions)]


def _window(samples: list[Sample], command_start: float, command_end: float) -> Window:
    return Window(samples[0].t, samples[-1].t + samples[-1].duration, command_start, command_end)


GOOD = _loop([OLD] * 30 + [NEW] * 30)            # 6 s at 10 req/s, the switch at 3 s
GOOD_WINDOW = _window(GOOD, 1.0, 4.0)


def test_a_recorded_seamless_switch_passes_with_its_figures() -> None:
    v = judge(GOOD, GOOD_WINDOW, OLD, NEW)
    assert v.ok, v.failures
    assert v.figures["answers"] == {"old": 30, "new": 30, "other": 0}
    assert v.figures["requests"] == 60 and v.figures["failed"] == 0
    assert v.figures["loop_lead_s"] == 1.0 and v.figures["command_s"] == 3.0
    assert v.figures["switch_gap_s"] == 0.1
    assert v.figures["rate_per_s"] >= 10


def test_a_loop_that_started_after_the_command_fails() -> None:
    v = judge(GOOD, _window(GOOD, -0.5, 4.0), OLD, NEW)
    assert not v.ok and v.failures == ("the loop started after the command",)


def test_a_loop_that_stopped_before_the_command_returned_fails() -> None:
    v = judge(GOOD, _window(GOOD, 1.0, 7.0), OLD, NEW)
    assert not v.ok and v.failures == ("the loop ended before the command returned",)


def test_a_loop_that_saw_only_the_new_release_fails() -> None:
    only_new = _loop([NEW] * 60)
    v = judge(only_new, _window(only_new, 1.0, 4.0), OLD, NEW)
    assert not v.ok and v.failures == ("the old version never answered",)


def test_a_loop_that_never_saw_the_new_release_fails() -> None:
    only_old = _loop([OLD] * 60)
    v = judge(only_old, _window(only_old, 1.0, 4.0), OLD, NEW)
    assert not v.ok and v.failures == ("the new version never answered",)


@pytest.mark.parametrize("failure", [Sample(3.05, 10.0, 0, None, "TimeoutError: timed out"),
                                     Sample(3.05, 0.01, 502, None, "status 502"),
                                     Sample(3.05, 0.01, 503, None)])
def test_one_failed_request_fails(failure: Sample) -> None:
    samples = sorted([*GOOD, failure], key=lambda s: s.t)
    v = judge(samples, GOOD_WINDOW, OLD, NEW)
    assert not v.ok and v.failures == ("1 failed request(s)",)


def test_a_loop_slower_than_the_stated_rate_fails() -> None:
    slow = _loop([OLD] * 3 + [NEW] * 3, step=0.5)         # 2 req/s
    v = judge(slow, _window(slow, 0.2, 2.0), OLD, NEW, min_rate=5.0)
    assert not v.ok and len(v.failures) == 1 and v.failures[0].startswith("rate 2.")


def test_an_old_answer_after_the_first_new_one_fails_unless_within_the_stated_overlap() -> None:
    flap = _loop([OLD] * 30 + [NEW] + [OLD] + [NEW] * 28)
    v = judge(flap, _window(flap, 1.0, 4.0), OLD, NEW)
    assert not v.ok and v.failures == ("1 old answer(s) after the first new one (allowed overlap 0.0 s)",)
    assert judge(flap, _window(flap, 1.0, 4.0), OLD, NEW, overlap_s=0.5).ok
    late = _loop([OLD] * 30 + [NEW] * 10 + [OLD] + [NEW] * 19)        # 1 s after the first new answer
    assert not judge(late, _window(late, 1.0, 4.0), OLD, NEW, overlap_s=0.5).ok


def test_new_before_old_and_a_third_version_fail() -> None:
    backwards = _loop([NEW] * 30 + [OLD] * 30)
    assert "the new version answered before the old one" in judge(backwards, GOOD_WINDOW, OLD, NEW).failures
    stranger = _loop([OLD] * 30 + [None] + [NEW] * 29)
    assert judge(stranger, GOOD_WINDOW, OLD, NEW).failures == ("answers from neither version: ['None']",)


def test_the_same_old_and_new_cannot_witness_a_switch() -> None:
    same = _loop([OLD] * 60)
    assert not judge(same, _window(same, 1.0, 4.0), OLD, OLD).ok


def test_runs_compress_the_sequence_and_skip_failures() -> None:
    samples = [*_loop([OLD, OLD]), Sample(0.3, 0.0, 0, None, "refused"), *_loop([NEW], start=0.4)]
    assert runs(samples) == [(OLD, 2), (NEW, 1)]


def test_the_release_is_read_from_the_example_app_page() -> None:
    assert release_in_page(200, {}, f"<p>release {NEW}</p>".encode()) == NEW
    assert release_in_page(200, {}, b"<p>release unknown</p>") is None


def test_the_loop_spans_the_command_and_waits_for_the_new_version() -> None:
    """A real loop against a local server whose version flips while the 'command' runs."""
    state = {"version": OLD}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"release {state['version']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        loop = SwitchLoop(f"http://127.0.0.1:{server.server_address[1]}/", release_in_page, rate=20)

        def command() -> str:
            state["version"] = NEW
            return "done"

        result, window = witness(loop, command, OLD, NEW, lead_s=0.5, tail_s=0.5)
    finally:
        server.shutdown()
    v = judge(loop.samples, window, OLD, NEW)
    assert result == "done" and v.ok, v.failures
    assert window.loop_start < window.command_start and window.loop_end > window.command_end + 0.4
    assert not loop.is_alive()


def test_a_stall_is_reported_and_fails_a_stated_latency_bound() -> None:
    """A restart that queues connections answers every request, late: the slowest answer is a figure, and a
    verdict given a bound fails on it."""
    stalled = [*GOOD[:30], Sample(GOOD[30].t, 4.5, 200, NEW), *GOOD[31:]]
    window = _window(stalled, 1.0, 4.0)
    assert judge(stalled, window, OLD, NEW).figures["max_latency_s"] == 4.5
    assert judge(GOOD, GOOD_WINDOW, OLD, NEW, max_latency_s=1.0).ok
    v = judge(stalled, window, OLD, NEW, max_latency_s=1.0)
    assert not v.ok and v.failures == ("slowest answer took 4.50 s > 1.0 s",)
