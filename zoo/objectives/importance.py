"""Importance-sampled estimate of log p(x) for any model that exposes importance weights.

    log p(x) ~= log (1/K) sum_{i=1..K} p(x, z_i) / q(z_i|x),   z_i ~ q(z|x)

(Burda et al. 2016, Sec. 5: K = 5000 on MNIST). The estimate is the IWAE bound L_K, which
tends to log p(x) as K grows. K is streamed in chunks with a running logsumexp, so memory is
O(chunk_size * batch_size * D) whatever K is: K = 5000 fits in memory on any machine.

The model contract is one method::

    model.log_importance_weights(x, num_samples, seed) -> (num_samples, B)

with ``seed`` a stateless seed, shape (2,) int32. The VAE, NVDM and the sentence VAE share it.
"""
import math

import numpy as np
import tensorflow as tf


def log_likelihood(model, x, num_samples=5000, chunk_size=500, batch_size=100, seed=0, progress=None,
                   jit_compile=False):
    """Per-example importance-sampled log-likelihood estimate, in nats.

    Args:
      model: any object with ``log_importance_weights(x, num_samples, seed)``.
      x: array (N, ...) of observations.
      num_samples: K, the number of importance samples per example.
      chunk_size: samples drawn at a time (K is split into ceil(K / chunk_size) chunks).
      batch_size: examples per call.
      seed: integer; the estimate is deterministic for a given seed.
      progress: optional callable(done_examples, total_examples).
      jit_compile: XLA-compile the chunk function (on CPU it is slower: bench/vae_mnist.py).
    Returns: numpy array (N,) of log p(x) estimates; the NLL is ``-result.mean()``.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    x = np.asarray(x)
    if len(x) == 0:
        raise ValueError("log_likelihood needs at least one example, got an empty array")
    chunk_size = min(int(chunk_size), int(num_samples))
    chunks = [chunk_size] * (num_samples // chunk_size)
    if num_samples % chunk_size:
        chunks.append(num_samples % chunk_size)

    @tf.function(reduce_retracing=True, jit_compile=jit_compile)
    def chunk_logsumexp(xb, k, chunk_seed):  # k is a Python int: static shapes, at most two traces
        return tf.reduce_logsumexp(model.log_importance_weights(xb, k, chunk_seed), axis=0)

    out = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[start : start + batch_size], dtype=tf.float32)
        running = None
        for c, k in enumerate(chunks):
            chunk_seed = tf.constant([seed, start * len(chunks) + c], dtype=tf.int32)
            lse = chunk_logsumexp(xb, k, chunk_seed).numpy().astype(np.float64)
            running = lse if running is None else np.logaddexp(running, lse)
        out[start : start + len(xb)] = running - math.log(num_samples)
        if progress is not None:
            progress(min(start + batch_size, len(x)), len(x))
    return out
