"""The provisioner's reports as data: the progress record and the converge report (components/firstboot/progress.py).
The provisioner writing them is run under stubs in test_provision_script.py; these are the reader's own rules."""

from __future__ import annotations

from components.firstboot import progress


def test_progress_events_keep_their_order_clock_and_text() -> None:
    text = "10.50\tstate\tlocking down\n11.00\tstep\tlockdown: hostname\n12.25\tstate\tfailed: x\ty\n"
    events = progress.parse_progress(text)
    assert events == [progress.Event(10.5, "state", "locking down"), progress.Event(11.0, "step", "lockdown: hostname"),
                      progress.Event(12.25, "state", "failed: x\ty")]     # a tab inside the text stays in it
    assert progress.states(events) == ["locking down", "failed: x\ty"]


def test_lines_that_are_not_events_are_left_out() -> None:
    text = "oops\n12.0\tnote\tx\nnan-ish\tstep\tx\n13.0\tstep\n14.0\tstep\tserve: nginx\n15.0\tst"
    assert progress.parse_progress(text) == [progress.Event(14.0, "step", "serve: nginx")]
    assert progress.parse_progress("") == []


def test_the_converge_report_reads_only_its_own_lines() -> None:
    out = ("hvps-provision: integrity baseline refreshed for what this converge wrote\n"
           "hvps-converge: sysctl: changed: /etc/sysctl.d/90-hvps.conf\n"
           "hvps-converge: nginx: refused: validation failed (previous files kept)\n"
           "hvps-converge: admin-and-ssh: unchanged\n"
           "nginx: [emerg] unknown directive\n"
           "hvps-converge: odd: maybe\n")
    assert progress.parse_converge_report(out) == [
        progress.ConcernOutcome("sysctl", "changed", "/etc/sysctl.d/90-hvps.conf"),
        progress.ConcernOutcome("nginx", "refused", "validation failed (previous files kept)"),
        progress.ConcernOutcome("admin-and-ssh", "unchanged", "")]
