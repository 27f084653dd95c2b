"""Server-side batching: concurrent requests to one signature run as one call.

A :class:`Batcher` owns one worker thread per signature. A request waits in its queue; the
worker takes the first waiting request and every other one already queued (up to
``max_batch_size`` rows, optionally waiting ``batch_timeout_s`` for more), concatenates their
inputs along axis 0, runs the signature once and hands each request its slice of the outputs.
With one client nothing waits (a batch of one runs at once); under load the batch fills while the
previous one runs. If a merged run fails, each request runs alone so errors reach the request
that caused them. Only signatures the registry found batch-safe get a Batcher (see
``registry.Servable``): every input and output has a leading batch dimension, and the warm-up
request gives the same rows run alone and run inside a bigger batch.
"""
import queue
import threading
import time

import numpy as np

from zoo.serving.errors import ServingError


class _Pending:
    __slots__ = ("inputs", "rows", "done", "result", "error")

    def __init__(self, inputs, rows):
        self.inputs, self.rows = inputs, rows
        self.done = threading.Event()
        self.result = self.error = None


def batch_rows(inputs):
    """The common leading dimension of ``inputs`` or None (a scalar input, or inputs that disagree)."""
    sizes = {np.shape(v)[0] if np.ndim(v) else None for v in inputs.values()}
    return sizes.pop() if len(sizes) == 1 and None not in sizes else None


class Batcher:
    """Batches calls of ``run({name: array}) -> {name: array}``; ``submit`` is thread-safe and blocking."""

    def __init__(self, run, max_batch_size=64, batch_timeout_s=0.0, name="batcher"):
        self.run = run
        self.max_batch_size = max_batch_size
        self.batch_timeout_s = batch_timeout_s
        self.stats = {"requests": 0, "batches": 0, "max_batch_rows": 0}
        self._queue = queue.Queue()
        self._carry = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, inputs):
        rows = batch_rows(inputs)
        if rows is None or rows == 0 or rows >= self.max_batch_size:
            return self.run(inputs)
        pending = _Pending(inputs, rows)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def close(self):
        self._queue.put(None)
        self._thread.join(timeout=5)

    # === Worker ===
    def _next(self, timeout):
        if self._carry is not None:
            item, self._carry = self._carry, None
            return item
        if timeout is None:
            return self._queue.get()
        if timeout <= 0:
            return self._queue.get_nowait()
        return self._queue.get(timeout=timeout)

    def _loop(self):
        while True:
            first = self._next(None)
            if first is None:
                return
            batch, rows = [first], first.rows
            deadline = time.monotonic() + self.batch_timeout_s
            while rows < self.max_batch_size:
                try:
                    item = self._next(deadline - time.monotonic())
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                if rows + item.rows > self.max_batch_size:
                    self._carry = item
                    break
                batch.append(item)
                rows += item.rows
            self._execute(batch, rows)

    def _execute(self, batch, rows):
        self.stats["requests"] += len(batch)
        self.stats["batches"] += 1
        self.stats["max_batch_rows"] = max(self.stats["max_batch_rows"], rows)
        if len(batch) > 1 and self._compatible(batch):
            try:
                merged = {k: np.concatenate([p.inputs[k] for p in batch]) for k in batch[0].inputs}
                outputs = self.run(merged)
                if all(np.ndim(v) and np.shape(v)[0] == rows for v in outputs.values()):
                    start = 0
                    for p in batch:
                        p.result = {k: v[start:start + p.rows] for k, v in outputs.items()}
                        start += p.rows
                        p.done.set()
                    return
            except ServingError:
                pass  # run each request alone below, so each gets its own error
            except Exception:  # noqa: BLE001
                pass
        for p in batch:
            try:
                p.result = self.run(p.inputs)
            except Exception as err:  # noqa: BLE001  (handed to the waiting request thread)
                p.error = err
            p.done.set()

    @staticmethod
    def _compatible(batch):
        first = batch[0].inputs
        for p in batch[1:]:
            if set(p.inputs) != set(first):
                return False
            for k, v in p.inputs.items():
                if v.dtype != first[k].dtype or v.shape[1:] != first[k].shape[1:]:
                    return False
        return True
