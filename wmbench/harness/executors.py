"""Executors: run independent jobs serially, in local worker processes, or as Ray tasks on a cluster.

A `Job` is a module-level function and its arguments. Everything a job needs travels with it (pickled
through a pipe, or through Ray's object store), and a job *returns* its result: the caller, alone, writes
files. `Executor.completed` yields ``(job, Outcome)`` as jobs finish, in any order; more jobs may be
submitted while it runs.

* `SerialExecutor`: in this process, one job at a time.
* `ProcessExecutor` (``--workers N``): N spawned worker processes on this host, each job pinned to
  ``job.threads`` torch threads; with GPUs, worker *i* sees only GPU ``i mod n_gpus`` as its ``cuda``.
* `RayExecutor` (``--executor ray``): Ray tasks on an existing cluster (``address``) or on a local
  Ray instance, each reserving ``job.threads`` CPUs and ``job.gpus`` GPUs (one unit per GPU by default).

Faults: a job whose worker process or node dies is retried once; if it dies again the outcome carries an
``error`` instead of a value and the run goes on. An exception raised by a job's function is a bug in the
job, not a fault: it propagates to the caller (as ``RuntimeError`` from a worker). Closing an executor (also
on Ctrl-C and SIGTERM) stops its workers, local ones by SIGTERM (a normal exit that releases their
multiprocessing locks, so no "leaked semaphore" warnings) and SIGKILL after ``STOP_GRACE`` seconds;
finished outcomes have already been handed over.

Timing: every outcome records the host the job ran on, its seconds there, and ``concurrent_units``: the most
jobs that ran at the same time on that host while this one ran (1 = alone), tracked by
`PeakConcurrency` (in the driver for local processes, a Ray actor for Ray).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import socket
import sys
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from tqdm import tqdm

EXECUTORS = ("local", "ray")
#: Seconds a local worker has to exit after SIGTERM when the executor closes, before SIGKILL.
STOP_GRACE = 2.0


@dataclass(frozen=True)
class Job:
    """``fn(*args)`` under a unique ``key``, on ``threads`` torch threads (and CPUs) and ``gpus`` GPUs."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    threads: int = 1
    gpus: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """A finished job: its ``value``, or the ``error`` that ended it after its retry (value None)."""

    value: Any
    error: str | None
    host: str
    seconds: float
    concurrent_units: int


class PeakConcurrency:
    """Jobs running on each host, and for each job the most that ran at once on its host while it ran.

    A job that starts again under the same key (its retry) leaves its previous host; a job whose worker died
    is removed with `finish` by whoever notices.
    """

    def __init__(self) -> None:
        self._running: dict[str, set[str]] = {}
        self._host: dict[str, str] = {}
        self._peak: dict[str, int] = {}

    def start(self, host: str, key: str) -> None:
        self.finish(key)
        running = self._running.setdefault(host, set())
        running.add(key)
        self._host[key] = host
        for other in running:
            self._peak[other] = max(self._peak.get(other, 0), len(running))

    def finish(self, key: str) -> tuple[str, int]:
        """Stop tracking ``key``; returns its host and peak (``("unknown", 0)`` if it was not running)."""
        host = self._host.pop(key, None)
        if host is None:
            return "unknown", 0
        self._running[host].discard(key)
        return host, self._peak.pop(key)


class Executor(ABC):
    """Runs jobs and yields their outcomes as they finish (see the module docstring)."""

    #: Jobs run in the caller's process (and may use its files directly).
    in_process = False

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Stop the workers and drop queued jobs (running jobs are abandoned)."""

    def share(self, obj: Any) -> Any:
        """``obj`` as a job argument sent to each worker host once (Ray: an object-store reference) rather
        than once per job; only as a top-level argument of `Job.args`."""
        return obj

    @abstractmethod
    def submit(self, job: Job) -> None:
        """Queue ``job``."""

    @abstractmethod
    def completed(self) -> Iterator[tuple[Job, Outcome]]:
        """``(job, outcome)`` for every submitted job as it finishes, until none is left."""

    def map(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Submit ``jobs`` and yield their outcomes as they finish."""
        for job in jobs:
            self.submit(job)
        yield from self.completed()


def _set_threads(threads: int) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class SerialExecutor(Executor):
    """Jobs in this process, one at a time, in submission order."""

    in_process = True

    def __init__(self) -> None:
        self._queue: deque[Job] = deque()

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def close(self) -> None:
        self._queue.clear()

    def completed(self) -> Iterator[tuple[Job, Outcome]]:
        host = socket.gethostname()
        while self._queue:
            job = self._queue.popleft()
            _set_threads(job.threads)
            start = time.perf_counter()
            value = job.fn(*job.args)
            yield job, Outcome(value, None, host, time.perf_counter() - start, 1)


#: Whether this worker is running a job (SIGTERM then interrupts the job; see `_worker_main`).
_in_job = False


def _stop(signum: int, frame: Any) -> None:
    # In a job, KeyboardInterrupt: the harness turns a planner's SystemExit into error rows, not this.
    # Between jobs (or after the last one), SystemExit: multiprocessing ends it quietly, no traceback.
    raise KeyboardInterrupt if _in_job else SystemExit(0)


def _worker_main(conn: Connection, env: dict[str, str]) -> None:
    """A local worker: run jobs from ``conn`` until it closes; Ctrl-C is the driver's to handle, and SIGTERM
    (how the driver stops it) ends it through a normal exit, which releases its multiprocessing locks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    try:
        _serve(conn, env)
    except KeyboardInterrupt:
        return
    finally:  # exiting anyway: a late SIGTERM must not raise inside the interpreter's exit handlers
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _serve(conn: Connection, env: dict[str, str]) -> None:
    global _in_job
    os.environ.update(env)
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:  # the driver is gone
            return
        start = time.perf_counter()
        _in_job = True
        try:
            job = pickle.loads(message)
            _set_threads(job.threads)
            reply = ("ok", job.fn(*job.args), time.perf_counter() - start)
        except Exception as exc:
            reply = ("raised", f"{type(exc).__name__}: {exc}", 0.0)
        finally:
            _in_job = False
        try:
            conn.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("raised", f"its result cannot be sent back ({type(exc).__name__}: {exc})", 0.0))


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use (``CUDA_VISIBLE_DEVICES`` entries, else indices)."""
    import torch

    n = torch.cuda.device_count()
    visible = [s.strip() for s in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if s.strip()]
    return visible[:n] if visible else [str(i) for i in range(n)]


class ProcessExecutor(Executor):
    """``workers`` spawned processes on this host, one job each at a time (started on first use).

    A worker that dies mid-job (killed, out of memory, a crash in native code) is replaced and its job is
    retried once. ``gpus``: device ids to pin workers to, round-robin (``CUDA_VISIBLE_DEVICES``).
    """

    def __init__(self, workers: int, gpus: list[str] | None = None):
        if workers < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        self.workers = workers
        self._gpus = list(gpus or [])
        self._context = multiprocessing.get_context("spawn")
        self._host = socket.gethostname()
        self._queue: deque[tuple[Job, int]] = deque()
        self._idle: list[_Worker] = []
        self._busy: dict[_Worker, tuple[Job, int]] = {}
        self._spawned = 0
        self._peaks = PeakConcurrency()

    def submit(self, job: Job) -> None:
        self._queue.append((job, 0))

    def _spawn(self) -> _Worker:
        env = {"CUDA_VISIBLE_DEVICES": self._gpus[self._spawned % len(self._gpus)]} if self._gpus else {}
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, env), daemon=True,
                                        name=f"wmbench-worker-{self._spawned}")
        process.start()
        child.close()
        self._spawned += 1
        return _Worker(process, parent)

    def _dispatch(self) -> None:
        while self._queue and len(self._busy) < self.workers:
            worker = self._idle.pop() if self._idle else self._spawn()
            job, attempt = self._queue.popleft()
            try:  # plain pickle: tensors travel by value, never through shared memory
                worker.conn.send_bytes(pickle.dumps(job))
            except (BrokenPipeError, ConnectionResetError):  # it died while idle: replace it
                self._queue.appendleft((job, attempt))
                self._stop(worker)
                continue
            self._busy[worker] = (job, attempt)
            self._peaks.start(self._host, job.key)

    def completed(self) -> Iterator[tuple[Job, Outcome]]:
        while self._queue or self._busy:
            self._dispatch()
            handles = {h: w for w in self._busy for h in (w.conn, w.process.sentinel)}
            ready = {handles[h] for h in wait(list(handles))}
            for worker in ready:
                outcome = self._collect(worker)
                if outcome is not None:
                    yield outcome

    def _collect(self, worker: _Worker) -> tuple[Job, Outcome] | None:
        job, attempt = self._busy.pop(worker)
        try:
            status, value, seconds = worker.conn.recv()
        except (EOFError, OSError):
            _, peak = self._peaks.finish(job.key)
            code = self._stop(worker)
            if attempt == 0:
                tqdm.write(f"wmbench: worker process died (exit code {code}) while running {job.key}; "
                           "retrying it once", file=sys.stderr)
                self._queue.appendleft((job, 1))
                return None
            return job, Outcome(None, f"worker process died twice (exit code {code})", self._host, 0.0, peak)
        _, peak = self._peaks.finish(job.key)
        self._idle.append(worker)
        if status == "raised":
            raise RuntimeError(f"{job.key} failed in a worker process: {value}")
        return job, Outcome(value, None, self._host, seconds, peak)

    @staticmethod
    def _stop(worker: _Worker, grace: float = 0.0) -> int | None:
        """Stop ``worker`` and reap it; its exit code. With a ``grace``, SIGTERM first (the worker exits
        normally, releasing what it holds), then SIGKILL if it is still running after ``grace`` seconds."""
        if grace and worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(timeout=grace)
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        return worker.process.exitcode

    def close(self) -> None:
        for worker in self._idle:  # idle workers exit on their own once their pipe closes
            worker.conn.close()
        for worker in [*self._busy, *self._idle]:
            self._stop(worker, STOP_GRACE)
        self._busy.clear()
        self._idle.clear()
        self._queue.clear()


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ``RuntimeError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("--executor ray needs Ray: pip install wmbench[ray]") from None
    return ray


def _ray_job(fn: Callable[..., Any], key: str, peaks: Any, threads: int, *args: Any
             ) -> tuple[Any, str, float, int]:
    """The body of a Ray task: ``fn(*args)`` with its host, seconds and peak concurrency."""
    import ray

    _set_threads(threads)
    host = socket.gethostname()
    peaks.start.remote(host, key)  # a caller's calls to an actor run in order: no need to wait
    start = time.perf_counter()
    try:
        value = fn(*args)
    finally:
        seconds = time.perf_counter() - start
        _, peak = ray.get(peaks.finish.remote(key))
    return value, host, seconds, peak


class RayExecutor(Executor):
    """Jobs as Ray tasks (``max_retries=1``: Ray reruns a task whose worker or node died, once).

    Connects to the cluster at ``address``, or starts a local Ray instance when ``address`` is None; an
    already initialised Ray is used as it is (and left running on `close`). At most ``workers`` jobs
    run at once (default: as many as the cluster's CPUs and GPUs allow, re-read as it grows).
    """

    def __init__(self, address: str | None = None, workers: int | None = None):
        if workers is not None and workers < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        ray = self._ray = import_ray()
        self._owned = not ray.is_initialized()
        if self._owned:
            try:
                ray.init(address=address, include_dashboard=False, logging_level="WARNING")
            except (ConnectionError, ray.exceptions.AuthenticationError) as exc:
                raise RuntimeError(f"cannot connect to the Ray cluster at {address!r} ({exc}); start one "
                                   "with `ray start --head` or fix --ray-address; a cluster with token "
                                   "authentication needs RAY_AUTH_MODE=token and its token (see the README)"
                                   ) from None
        self.workers = workers
        self._peaks = ray.remote(num_cpus=0)(PeakConcurrency).remote()
        self._task = ray.remote(_ray_job)
        self._queue: deque[Job] = deque()
        self._pending: dict[Any, Job] = {}

    def share(self, obj: Any) -> Any:
        return self._ray.put(obj)

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def _capacity(self, job: Job) -> int:
        """How many jobs like ``job`` to keep in flight: ``workers``, or what the cluster runs at once."""
        resources = self._ray.cluster_resources()
        if job.gpus > resources.get("GPU", 0):
            raise RuntimeError(f"{job.key} needs {job.gpus:g} GPU(s) but the Ray cluster has "
                               f"{resources.get('GPU', 0):g}; add GPU nodes or run on the CPU")
        if self.workers is not None:
            return self.workers
        slots = resources.get("CPU", 1) // job.threads
        if job.gpus:
            slots = min(slots, resources.get("GPU", 0) // job.gpus)
        return max(int(slots), 1)

    def _dispatch(self) -> None:
        while self._queue and len(self._pending) < self._capacity(self._queue[0]):
            job = self._queue.popleft()
            options = {"num_cpus": job.threads, "num_gpus": job.gpus, "max_retries": 1,
                       "retry_exceptions": False}
            ref = self._task.options(**options).remote(job.fn, job.key, self._peaks, job.threads, *job.args)
            self._pending[ref] = job

    def completed(self) -> Iterator[tuple[Job, Outcome]]:
        ray = self._ray
        while self._queue or self._pending:
            self._dispatch()
            (ref,), _ = ray.wait(list(self._pending), num_returns=1)
            job = self._pending.pop(ref)
            try:
                value, host, seconds, peak = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if exc.cause is not None else exc
                raise RuntimeError(f"{job.key} failed in a Ray task: {type(cause).__name__}: "
                                   f"{str(cause).splitlines()[0] if str(cause) else ''}") from None
            except ray.exceptions.RayError as exc:  # its worker or node died, and again on the retry
                host, peak = ray.get(self._peaks.finish.remote(job.key))
                reason = (str(exc).strip() or "-").splitlines()[0][:300]
                yield job, Outcome(None, f"Ray task died twice ({type(exc).__name__}: {reason})", host, 0.0,
                                   peak)
                continue
            yield job, Outcome(value, None, host, seconds, peak)

    def close(self) -> None:
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        self._queue.clear()
        self._ray.kill(self._peaks)
        if self._owned:
            self._ray.shutdown()


def make_executor(executor: str = "local", workers: int | None = None, ray_address: str | None = None
                  ) -> Executor:
    """The executor the CLI options ask for: ``local`` with ``workers`` > 1 (default 1) -> local processes,
    ``local`` with one worker -> serial, ``ray`` -> Ray tasks (``ray_address`` or a local Ray instance)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {EXECUTORS}")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if executor == "ray":
        return RayExecutor(ray_address, workers)
    if ray_address is not None:
        raise ValueError("--ray-address needs --executor ray")
    if workers is None or workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers, visible_gpus())
