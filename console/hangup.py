"""Telling that the console's terminal is gone (an SSH connection dropped, a tmux pane killed).

A hung-up terminal does not always signal its processes: SIGHUP goes to the session leader, and a leader
that holds it (make, running `make run`, blocks it while it waits) never passes it on. The console then
runs on with nobody to see it, polling every account it was opened on and keeping its sandbox child
alive. So the app asks once a second whether its terminal is still there, besides taking SIGHUP.
"""

from __future__ import annotations

import errno
import os

EXIT_HANGUP = 129  # 128 + SIGHUP, as a shell reports a process ended by a hang-up


def terminal_gone(fd: int) -> bool:
    """True when `fd` was a terminal and is one no longer: it has been hung up."""
    try:
        if not os.isatty(fd):
            return True
        os.tcgetpgrp(fd)  # EIO once hung up; ENOTTY only says it is not our controlling terminal
    except OSError as exc:
        return exc.errno in (errno.EIO, errno.EBADF, errno.ENXIO)
    return False
