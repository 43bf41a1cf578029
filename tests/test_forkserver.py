"""The crash tests' fork server (tests/forkserver.py) ends when the run that started it ends.

It reads its requests from a pipe and would otherwise wait for as long as anything still held
the pipe's other end; after a killed test run, three of them (250 MB each) were still waiting
an hour later.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A test run in miniature: it starts a fork server, and a helper it starts keeps the server's
# request pipe open (as a forked helper of a real run would), so the pipe never closes.
PARENT = """
import os, subprocess, sys, time
server = subprocess.Popen([sys.executable, "-m", "tests.forkserver"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE,
                          env={**os.environ, "SAMSPIL_FORKSERVER_PARENT": str(os.getpid())})
os.set_inheritable(server.stdin.fileno(), True)
holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], close_fds=False)
print(server.pid, holder.pid, flush=True)
time.sleep(300)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's first process may never reap an orphan)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_the_fork_server_ends_when_the_run_that_started_it_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout
    server, holder = map(int, parent.stdout.readline().split())
    try:
        assert _running(server)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 60  # the server may still be importing the bot
        while _running(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(server), "the fork server outlived the run that started it"
        assert _running(holder)  # the pipe was still open: the server did not end on its input's end
    finally:
        for pid in (server, holder):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
