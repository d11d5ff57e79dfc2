"""The console entry point: Ctrl-C at any moment, even while the commands are being imported, ends with one line
and exit code 130, never a traceback; once a command has ended, Ctrl-C no longer interrupts the interpreter's
shutdown (which would kill the process by the signal after its work was done and reported)."""

from __future__ import annotations

import signal
import sys


def main(argv: list[str] | None = None) -> None:
    try:
        # imported here: an interrupt during the import is caught too
        from runcard.cli.app import main as run

        run(argv)
    except KeyboardInterrupt:
        sys.stderr.write("runcard: interrupted\n")
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
