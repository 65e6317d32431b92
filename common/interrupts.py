"""Ctrl-C and SIGTERM that cannot be lost: handlers that only note the signal, and checks
that raise `Interrupted` where that is safe (a batch's end, a wait for data).

Two ways an interrupt used to vanish in training:
- A process started from a background job of a non-interactive shell (`cmd &` in a
  script, and everything it starts: a test runner's subprocesses, nohup jobs) inherits
  SIGINT as *ignored*, and Python then installs no KeyboardInterrupt handler at all: Ctrl-C
  or `kill -INT` did nothing and training went on. `install` sets the handlers explicitly,
  whatever the process inherited.
- An exception raised by a signal handler while Python runs a destructor (an NDArray's
  `__del__`, say) is printed as "Exception ignored" and dropped. These handlers raise
  nothing; `check` raises from ordinary code.
"""
import faulthandler
import signal


class Interrupted(Exception):
    """Training was asked to stop by a signal, named in args[0] (e.g. 'SIGINT')."""


class Interrupts:
    """The signals received so far; `check` raises Interrupted once one arrived."""

    def __init__(self):
        self.received = None

    def install(self, signals=(signal.SIGINT, signal.SIGTERM)):
        """Note `signals` instead of acting on them; SIGUSR1 prints every thread's Python
        stack to stderr (faulthandler), to see where a run that seems stuck is."""
        for signum in signals:
            signal.signal(signum, self._note)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        return self

    def _note(self, signum, frame):
        self.received = self.received or signal.Signals(signum).name

    def check(self, *args):
        """Raise Interrupted if a signal arrived; takes and ignores the arguments MXNet
        passes to its callbacks, so it can be one."""
        if self.received:
            raise Interrupted(self.received)
