"""Dynamic batching: concurrent requests' texts predicted together, each caller given its own rows.

A `Batcher` belongs to one model. Callers `await submit(texts)`; a loop on the event loop gathers
waiting requests until they hold `max_batch_size` texts or the oldest has waited `max_wait_ms`,
then runs one predict call for all of them in a worker thread (so the event loop keeps reading and
answering other clients meanwhile), and hands each caller the rows of its own texts, in order.
The wait ends sooner when no other request for the model is on its way (callers announce theirs
with `arriving()` while they read the body): a lone request is not held back for company that
is not coming, and under load the requests that arrive during one predict call form the next batch.

A request's texts are never split across predict calls: a batch takes whole requests while they
fit, and a request larger than `max_batch_size` is predicted alone. With `max_batch_size=1` every
request is predicted alone, which is serving without batching. When a predict call raises, every
request of that batch gets the exception (the server answers those 503) and the loop goes on.
"""

import asyncio
import collections
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


class BatchFailed(Exception):
    """The predict call of the batch a request was in raised; the message says what it raised."""


@dataclass
class _Pending:
    texts: list
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """Gathers `submit`ted texts into batches for `predict(texts) -> (len(texts), n) array`.

    `predict` is read at each batch, so replacing it (a model reload) takes effect at the next
    batch while the current one finishes on the old one. `on_batch(size, seconds, error)` hears of
    each predict call (metrics).
    """

    def __init__(self, predict, *, max_batch_size, max_wait_ms, on_batch=None, name="model"):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size {max_batch_size}: must be at least 1")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms {max_wait_ms}: must be at least 0")
        self.predict = predict
        self.max_batch_size = int(max_batch_size)
        self.max_wait = float(max_wait_ms) / 1000
        self.on_batch = on_batch
        self._pending = collections.deque()
        self._arriving = set()
        self._arrival = None
        self._task = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"predict-{name}")
        self.busy = threading.Event()  # set while a predict call runs (tests and metrics)

    def start(self):
        """Start the batching loop on the running event loop."""
        if self._task is None:
            self._arrival = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self):
        """Answer what is waiting, then stop the loop and the worker thread."""
        if self._task is None:
            return
        while self._pending and not self._task.done():
            await asyncio.sleep(0.01)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        self._executor.shutdown(wait=True)

    @contextlib.contextmanager
    def arriving(self):
        """Announce a request being read (pass what this yields to `submit`): while any is, an open
        batch waits for it, up to max_wait_ms."""
        token = object()
        self._arriving.add(token)
        try:
            yield token
        finally:
            if token in self._arriving:
                self._arriving.discard(token)
                if self._arrival is not None:
                    self._arrival.set()  # one fewer to wait for

    async def submit(self, texts, arrival=None):
        """The predicted rows of `texts` (a list of str), once their batch has run."""
        if self._task is None:
            raise RuntimeError("Batcher.submit before start()")
        self._arriving.discard(arrival)
        future = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(list(texts), future))
        self._arrival.set()
        return await future

    def _take(self):
        """Whole requests from the front while they fit in max_batch_size (at least one)."""
        taken, size = [], 0
        while self._pending:
            n = len(self._pending[0].texts)
            if taken and size + n > self.max_batch_size:
                break
            taken.append(self._pending.popleft())
            size += n
        return taken

    def _waiting_texts(self):
        return sum(len(p.texts) for p in self._pending)

    async def _loop(self):
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:  # (a request that ends before submitting also wakes us)
                self._arrival.clear()
                await self._arrival.wait()
            deadline = self._pending[0].arrived + self.max_wait
            while self._waiting_texts() < self.max_batch_size and self._arriving:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrival.clear()
                try:
                    await asyncio.wait_for(self._arrival.wait(), timeout=left)
                except asyncio.TimeoutError:
                    break
            batch = [p for p in self._take() if not p.future.done()]  # done: the caller went away
            if not batch:
                continue
            texts = [text for p in batch for text in p.texts]
            started = time.perf_counter()
            error = None
            self.busy.set()
            try:
                rows = await loop.run_in_executor(self._executor, self.predict, texts)
            except Exception as exc:  # the batch fails, the server goes on
                error = exc
            finally:
                self.busy.clear()
            if self.on_batch is not None:
                self.on_batch(len(texts), time.perf_counter() - started, error)
            start = 0
            for p in batch:
                if not p.future.done():
                    if error is not None:
                        p.future.set_exception(BatchFailed(f"{type(error).__name__}: {error}"))
                    else:
                        p.future.set_result(rows[start:start + len(p.texts)])
                start += len(p.texts)
