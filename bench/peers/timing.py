"""The peers' one timing loop: ``warmup`` untimed steps, then the wall seconds of ``steps`` more.

``step(i)`` runs training step i (i counts on from the warm-up, so each step can read its own batch).
"""
import time


def seconds_of_steps(step, warmup, steps):
    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(warmup, warmup + steps):
        step(i)
    return time.perf_counter() - start
