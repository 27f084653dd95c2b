"""Server-side batching (zoo.serving.batching): concurrent requests merge into one call, results and
errors go back to the request they belong to."""
import threading
import time

import numpy as np

from zoo.serving.batching import Batcher, batch_rows
from zoo.serving.errors import ServingError


def run_concurrently(client, count):
    """Calls client(0) .. client(count - 1) from as many threads at once and waits for them (30 s each)."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

def make_run(calls, delay=0.02):
    def run(inputs):
        calls.append(len(inputs["x"]))
        time.sleep(delay)
        if (inputs["x"] < 0).any():
            raise ServingError("INVALID_ARGUMENT", "negative input")
        return {"y": inputs["x"] * 2, "n": inputs["x"].sum(axis=1)}
    return run


def test_concurrent_requests_are_merged_and_split_back():
    calls = []
    batcher = Batcher(make_run(calls), max_batch_size=64)
    results = {}

    def client(i):
        results[i] = batcher.submit({"x": np.full((2, 3), i, np.float32)})

    run_concurrently(client, 16)
    batcher.close()
    for i in range(16):
        np.testing.assert_array_equal(results[i]["y"], np.full((2, 3), 2 * i))
        np.testing.assert_array_equal(results[i]["n"], [3 * i, 3 * i])
    assert sum(calls) == 32 and len(calls) < 16  # fewer calls than requests: batches formed
    assert batcher.stats["requests"] == 16 and batcher.stats["max_batch_rows"] > 2


def test_a_failing_request_does_not_fail_its_batch_mates():
    calls = []
    batcher = Batcher(make_run(calls, delay=0.05), max_batch_size=64)
    outcome = {}

    def client(i):
        try:
            outcome[i] = batcher.submit({"x": np.full((1, 2), -1.0 if i == 3 else i, np.float32)})["y"]
        except ServingError as err:
            outcome[i] = err

    run_concurrently(client, 8)
    batcher.close()
    assert isinstance(outcome[3], ServingError) and outcome[3].message == "negative input"
    for i in set(range(8)) - {3}:
        np.testing.assert_array_equal(outcome[i], [[2 * i, 2 * i]])


def test_unbatchable_requests_run_directly():
    calls = []
    batcher = Batcher(make_run(calls, delay=0), max_batch_size=4)
    assert batcher.submit({"x": np.ones((8, 2), np.float32)})["y"].shape == (8, 2)  # bigger than a batch
    batcher.close()
    assert batch_rows({"x": np.ones((2, 3)), "s": np.int32(1)}) is None
    assert batch_rows({"x": np.ones((2, 3)), "z": np.ones((3, 1))}) is None
    assert batch_rows({"x": np.ones((2, 3)), "z": np.ones((2, 1))}) == 2


def test_single_client_waits_only_the_batch_timeout():
    """One client, five requests in a row: with no timeout a batch of one runs at once (five calls in well under
    5 x 20 ms); with a 100 ms timeout each request waits for company about that long, and not much more."""
    for timeout_s, low, high in ((0.0, 0.0, 0.1), (0.1, 0.5, 0.9)):
        batcher = Batcher(make_run([], delay=0), max_batch_size=64, batch_timeout_s=timeout_s)
        start = time.perf_counter()
        for _ in range(5):
            batcher.submit({"x": np.ones((1, 2), np.float32)})
        elapsed = time.perf_counter() - start
        batcher.close()
        assert low <= elapsed < high, (timeout_s, elapsed)
