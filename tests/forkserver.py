"""A fork server for starting real bot processes quickly.

Importing aiogram costs seconds on a small machine; a crash test that kills the
bot fifty times would spend minutes importing. This server imports everything
once, then forks a fresh process for each start: a real, separate process that
the test kills with SIGKILL like any other.

Protocol on stdin/stdout, one line each: `start <json env>` -> `<pid>`.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys

import bot.app  # noqa: F401  (imported once, shared by every fork)
import bot.cli
import bot.webhook  # noqa: F401

PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: signal.Signals, parent: int) -> None:
    """Have the kernel send `sig` when the parent ends: a test run that is killed (or dies) must
    not leave fork servers and bots behind waiting for a parent that is gone (they did: 250 MB
    each, an hour later). Linux only; elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before the request took effect
        os.kill(os.getpid(), sig)


def _child(env: dict[str, str], log_path: str) -> None:
    os.environ.update(env)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    try:
        bot.cli.main(env.get("SAMSPIL_ARGS", "run").split())
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    os._exit(0)


def main() -> None:
    _die_with_parent(signal.SIGTERM, int(os.environ.get("SAMSPIL_FORKSERVER_PARENT", os.getppid())))
    # Children are reaped by the kernel as they die; the test watches their pids.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        cmd, _, rest = line.strip().partition(" ")
        if cmd != "start":
            continue
        request = json.loads(rest)
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            _die_with_parent(signal.SIGKILL, server)  # a bot does not outlive its fork server
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            asyncio.set_event_loop_policy(None)
            _child(request["env"], request["log"])
        print(pid, flush=True)


if __name__ == "__main__":
    main()
