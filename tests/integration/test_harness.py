"""The harness itself: a fake that never comes up fails its test in bounded time, naming
the fake and what it wrote to stderr, instead of hanging the suite."""

import threading
import time

import pytest

from harness import PY, start_ready

# Writes to stderr, never prints READY, and exits on its own after a while (so that a
# harness that waits for the line forever still gets its EOF, and this test cannot hang).
SILENT = [PY, "-c", "import sys, time; print('binding 127.0.0.1:0 failed: no', file=sys.stderr, flush=True); time.sleep(40)"]


def test_a_fake_that_never_prints_ready_fails_within_its_timeout():
    outcome = {}

    def start():
        t0 = time.monotonic()
        try:
            start_ready(SILENT, "silent fake", timeout=2)
            outcome["result"] = "started"
        except pytest.fail.Exception as e:
            outcome["result"] = str(e)
        outcome["seconds"] = time.monotonic() - t0

    worker = threading.Thread(target=start, daemon=True)
    worker.start()
    worker.join(15)
    assert not worker.is_alive(), "start_ready(timeout=2) was still waiting after 15 s"
    message = outcome["result"]
    assert outcome["seconds"] < 10, outcome
    assert message.startswith("silent fake did not print READY within 2 s"), message
    assert "binding 127.0.0.1:0 failed: no" in message, message


def test_a_fake_that_exits_before_ready_fails_at_once_with_its_stderr():
    t0 = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as e:
        start_ready([PY, "-c", "import sys; sys.exit('port taken')"], "dying fake", timeout=20)
    assert time.monotonic() - t0 < 10
    assert str(e.value).startswith("dying fake exited with code 1 before printing READY"), str(e.value)
    assert "port taken" in str(e.value)
