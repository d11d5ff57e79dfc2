"""Where trials run: local worker processes (`LocalPool`) or Ray tasks (`RayPool`), behind one small contract.

runcard schedules nothing across machines itself: with Ray, the cluster does; every worker writes its run to
the same store URL. The driver submits at most ``workers`` trials at a time, waits for any to end, and on
Ctrl-C calls `stop` (cancel what has not started, interrupt what runs) and then `close`.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import signal
from typing import Any, Protocol

from runcard.errors import InputError
from runcard.sweep.trial import TrialOutcome, TrialSpec, ignore_sigint, run_trial

#: Seconds a running trial is given to end by itself after Ctrl-C before its worker is sent SIGINT (a terminal's
#: Ctrl-C already reached it), and then to write its failed status before its process is killed.
GRACE = 2.0
SETTLE = 30.0


class Pool(Protocol):
    """What the sweep driver needs from an executor."""

    def submit(self, spec: TrialSpec) -> Any: ...

    def wait(self, handles: list[Any]) -> list[Any]: ...

    def outcome(self, handle: Any, trial: int) -> TrialOutcome: ...

    def stop(self, handles: list[Any]) -> list[Any]: ...

    def close(self) -> None: ...


def _crashed(trial: int, exc: BaseException) -> TrialOutcome:
    return TrialOutcome(trial, None, "failed", None, 0.0, f"worker failed: {type(exc).__name__}: {exc}")


class LocalPool:
    """``workers`` local processes (spawned: no state forked from the driver), each opening the store by URL."""

    def __init__(self, workers: int) -> None:
        self._executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=ignore_sigint)
        self._processes: list[Any] = []

    def submit(self, spec: TrialSpec) -> cf.Future[TrialOutcome]:
        future = self._executor.submit(run_trial, spec)
        # the pool's processes, kept to interrupt and reap them (the executor drops its list on shutdown)
        known = {p.pid for p in self._processes}
        self._processes += [p for p in (getattr(self._executor, "_processes", None) or {}).values()
                            if p.pid not in known]
        return future

    def wait(self, handles: list[Any]) -> list[Any]:
        done, _ = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def outcome(self, handle: Any, trial: int) -> TrialOutcome:
        try:
            return handle.result()
        except cf.CancelledError as exc:
            return TrialOutcome(trial, None, "cancelled", None, 0.0, str(exc) or "cancelled")
        except BaseException as exc:  # noqa: BLE001 -- a worker that died (BrokenProcessPool) or was interrupted
            return _crashed(trial, exc)

    def stop(self, handles: list[Any]) -> list[Any]:
        """Cancel pending trials, interrupt running ones; return the handles that have ended."""
        running = [f for f in handles if not f.cancel()]
        _, left = cf.wait(running, timeout=GRACE)
        if left:
            for process in self._processes:
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGINT)  # idle workers ignore it; a running trial ends, failed
            cf.wait(left, timeout=SETTLE)
        return [f for f in handles if f.done()]

    def close(self) -> None:
        """Shut the pool down and reap its processes (killing any that does not end within SETTLE seconds)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        try:
            for process in self._processes:
                process.join(timeout=SETTLE)
        finally:
            for process in self._processes:
                if process.is_alive():
                    process.kill()
                    process.join(timeout=5)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'runcard[ray]' (ray>=2.9).") from None
    return ray


class RayPool:
    """Trials as Ray tasks (one CPU each) on the cluster at ``address`` (``auto``, ``ray://host:10001``, or
    ``local`` to start one here); an already initialised Ray is used as it is."""

    def __init__(self, address: str | None) -> None:
        ray = self._ray = _ray()
        self._started = False
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            self._started = True
        self._remote = ray.remote(num_cpus=1)(run_trial)

    def submit(self, spec: TrialSpec) -> Any:
        return self._remote.remote(spec)

    def wait(self, handles: list[Any]) -> list[Any]:
        ready, _ = self._ray.wait(handles, num_returns=1)
        return list(ready)

    def outcome(self, handle: Any, trial: int) -> TrialOutcome:
        try:
            return self._ray.get(handle)
        except self._ray.exceptions.TaskCancelledError:
            return TrialOutcome(trial, None, "cancelled", None, 0.0, "cancelled")
        except Exception as exc:  # noqa: BLE001 -- the worker died, or the task failed outside the recipe
            return _crashed(trial, exc)

    def stop(self, handles: list[Any]) -> list[Any]:
        """Cancel every trial (pending: dropped; running: KeyboardInterrupt in the task, its run ends failed);
        return the handles that have ended."""
        for ref in handles:
            self._ray.cancel(ref)
        if not handles:
            return []
        ready, _ = self._ray.wait(handles, num_returns=len(handles), timeout=SETTLE)
        return list(ready)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
