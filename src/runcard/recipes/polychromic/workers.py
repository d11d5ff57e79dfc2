"""The polychromic arms on several local processes (``rl.workers``), one arm at a time each.

Every arm is seeded on its own and trains on ``rl.threads`` torch threads wherever it runs, so an arm writes
the same weights in a worker as in the driver: the workers change the wall time, never the weights or pass@k
(embedding-based diversity can differ in the last digits: a text's embedding is computed in another batch). Workers are spawned (nothing
forked from the driver's torch state); each receives the shared pieces once (corpus, prompts, the
calibrated checker), reloads the supervised model from the store by hash, and opens the store by URL.
Their progress comes back on a queue, so the driver draws one bar over every arm's RL steps and prints
each arm's line as it ends. The first arm that fails stops the others (their runs are marked failed) and
its error is raised, as in a sequential run.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import queue as queues
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runcard.recipes.polychromic.arm import ArmOutcome, Setup, run_arm
from runcard.recipes.polychromic.config import PolyArm, PolyConfig
from runcard.recipes.polychromic.held_out import embedder
from runcard.recipes.polychromic.lm import load_lm, modules
from runcard.recipes.progress import Reporter
from runcard.runs import load_checkpoint
from runcard.store import Store, open_store

#: Seconds between two looks at the progress queue while arms run.
POLL = 0.5


@dataclass(frozen=True, eq=False)
class Shared:
    """The picklable part of `Setup`: everything but the embedding function (rebuilt in each worker)."""

    setup: dict[str, Any]
    config: PolyConfig
    base: str
    store: str


class QueueBar:
    """A progress bar whose steps go to the driver."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def advance(self, n: int, **fields: float) -> None:
        """Send ``n`` steps; ``fields`` (one arm's running figures) are dropped: the driver's bar spans every arm."""
        self._queue.put(("advance", n))


class QueueReporter(Reporter):
    """A worker's console: lines and progress are sent to the driver, which prints them."""

    def __init__(self, queue: Any) -> None:
        super().__init__(quiet=True)
        self._queue = queue

    def line(self, text: str) -> None:
        self._queue.put(("line", text))

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[QueueBar]:  # type: ignore[override]
        yield QueueBar(self._queue)


_worker: dict[str, Any] = {}


def _init(shared: Shared, queue: Any) -> None:
    """Worker initializer: rebuild the `Setup` (reloading the supervised model by hash) and keep it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what to stop
    torch, _, _ = modules()
    torch.set_num_threads(shared.config.rl.threads)
    store = open_store(shared.store)
    reference, codec, _, centre = load_lm(load_checkpoint(shared.setup["supervised_run"], store=store))
    embed = embedder(reference, codec, centre, shared.config.model.n_positions)
    _worker.update(setup=Setup(**shared.setup, embed=embed), shared=shared, store=store,
                   say=QueueReporter(queue))


def _run(arm: PolyArm) -> ArmOutcome:
    """One arm in a worker; Ctrl-C (or the driver's SIGINT) while it runs ends it, its run marked failed."""
    shared: Shared = _worker["shared"]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run_arm(shared.config, Path(shared.base), _worker["store"], _worker["setup"], arm, _worker["say"])
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_arms(config: PolyConfig, base: Path, store: Store, setup: Setup, arms: list[PolyArm],
             say: Reporter) -> list[ArmOutcome]:
    """Every arm, in ``config.workers`` processes (in this one when it is 1); outcomes in the order of ``arms``."""
    workers = min(config.rl.workers, len(arms))
    if workers <= 1:
        torch, _, _ = modules()
        torch.set_num_threads(config.rl.threads)
        try:
            return [run_arm(config, base, store, setup, arm, say) for arm in arms]
        finally:
            torch.set_num_threads(config.threads)
    fields = {k: getattr(setup, k) for k in ("corpus", "rl_prompts", "heldout_prompts", "filed", "checker",
                                             "supervised_run")}
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                                      initargs=(Shared(fields, config, str(base), store.url), queue))
    futures = [executor.submit(_run, arm) for arm in arms]
    say.line(f"{len(arms)} arms on {workers} worker processes ({config.rl.threads} torch thread(s) each)")
    try:
        with say.progress(f"RL, {len(arms)} arms", total=len(arms) * config.rl.steps) as bar:
            _follow(futures, queue, bar, say)
        outcomes = [f.result() for f in futures]
        for outcome in outcomes:  # the summary scores these samples again: no need to embed them twice
            setup.embed.add(outcome.samples.texts, outcome.embeddings)
        return outcomes
    except BaseException:
        for f in futures:
            f.cancel()
        _interrupt(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        queue.close()


def _interrupt(executor: cf.ProcessPoolExecutor) -> None:
    """SIGINT to each live worker: the arm it runs ends and its run is marked failed (idle workers ignore it)."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGINT)


def _follow(futures: list[cf.Future[Any]], queue: Any, bar: Any, say: Reporter) -> None:
    """Show the workers' progress until every arm has ended; raise the first arm's error at once."""
    pending = set(futures)
    while pending:
        cf.wait(pending, timeout=POLL, return_when=cf.FIRST_COMPLETED)
        _drain(queue, bar, say)
        for future in [f for f in pending if f.done()]:
            pending.discard(future)
            error = future.exception()
            if error is not None:
                raise error
    _drain(queue, bar, say, wait=POLL)  # what the last arms sent just before they returned


def _drain(queue: Any, bar: Any, say: Reporter, wait: float = 0.0) -> None:
    """Print the lines and advance the bar by the steps the workers have sent so far (waiting up to ``wait``
    seconds for each next message)."""
    while True:
        try:
            kind, *payload = queue.get(timeout=wait) if wait > 0 else queue.get_nowait()
        except queues.Empty:
            return
        if kind == "line":
            say.line(payload[0])
        else:
            bar.advance(payload[0])
