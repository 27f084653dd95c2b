"""Candidate samplers of the sampled objectives: draws of ``num_sampled`` word ids, shared by a batch, with
replacement, and the expected count of each id in a draw (S Q(w)), whose log the objectives subtract
("log-Q correction": Jean et al. 2015, Sec. 3; Mnih & Teh 2012).

* ``log_uniform`` (Zipf): Q(w) = (log(w + 2) - log(w + 1)) / log(V + 1), for ids sorted by falling frequency
  (the zoo's vocabularies are);
* ``unigram`` with a power: Q(w) proportional to count(w)^power (0.75 for word2vec's negatives, Mikolov et al.
  2013); ``counts`` are the training frequencies;
* ``uniform``.
"""
import numpy as np
import tensorflow as tf

SAMPLERS = ("log_uniform", "unigram", "uniform")


def sampler_log_probs(kind, vocab_size, counts=None, power=0.75):
    """log Q(w) over the V ids, as a float32 numpy array."""
    ids = np.arange(vocab_size, dtype=np.float64)
    if kind == "log_uniform":
        q = (np.log(ids + 2) - np.log(ids + 1)) / np.log(vocab_size + 1)
    elif kind == "unigram":
        if counts is None or len(counts) != vocab_size:
            raise ValueError(f"the unigram sampler needs counts for all {vocab_size} words")
        weights = np.maximum(np.asarray(counts, np.float64), 0.0) ** power
        if weights.sum() <= 0:
            raise ValueError("the unigram sampler needs some positive counts")
        q = weights / weights.sum()
    elif kind == "uniform":
        q = np.full(vocab_size, 1.0 / vocab_size)
    else:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {kind!r}")
    return np.log(np.maximum(q, 1e-30)).astype(np.float32)


def draw(log_q, num_sampled, seed):
    """``num_sampled`` ids drawn from Q with replacement (int32 (S,)) and log of their expected counts
    log(S Q(w)) (float32 (S,))."""
    ids = tf.random.stateless_categorical(log_q[None, :], num_sampled, seed=seed, dtype=tf.int32)[0]
    return ids, tf.gather(log_q, ids) + tf.math.log(float(num_sampled))


def expected_log_count(log_q, ids, num_sampled):
    return tf.gather(log_q, ids) + tf.math.log(float(num_sampled))
