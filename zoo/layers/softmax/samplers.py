"""Candidate samplers of the sampled objectives: draws of ``num_sampled`` word ids, shared by a batch, with
replacement, and the expected count of each id in a draw (S Q(w)), whose log the objectives subtract
("log-Q correction": Jean et al. 2015, Sec. 3; Mnih & Teh 2012).

* ``log_uniform`` (Zipf): Q(w) = (log(w + 2) - log(w + 1)) / log(V + 1), for ids sorted by falling frequency
  (the zoo's vocabularies are);
* ``unigram`` with a power: Q(w) proportional to count(w)^power (0.75 for word2vec's negatives, Mikolov et al.
  2013); ``counts`` are the training frequencies;
* ``uniform``.

``draw`` makes one shared draw for a batch (TensorFlow's sampled losses); ``draw_per_row`` gives every row its
own draws (word2vec's negatives), by Walker's alias method (Walker 1977; Vose 1991): an exact sample in O(1) per
draw from a (V,) probability and a (V,) alias table built once (``alias_table``), two uniform draws each, core
ops only (``tf.random.stateless_categorical`` costs O(V) per draw).
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


def alias_table(log_q):
    """Walker's alias table of Q (Vose's construction): (accept float32 (V,), alias int32 (V,)); a draw picks a
    column i uniformly and keeps i with probability accept[i], else takes alias[i]."""
    q = np.exp(np.asarray(log_q, np.float64))
    v = len(q)
    scaled = q / q.sum() * v
    accept, alias = np.ones(v, np.float64), np.arange(v, dtype=np.int32)
    small = [i for i in range(v) if scaled[i] < 1.0]
    large = [i for i in range(v) if scaled[i] >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], l
        scaled[l] -= 1.0 - scaled[s]
        (small if scaled[l] < 1.0 else large).append(l)
    return accept.astype(np.float32), alias  # what is left (rounding) keeps its own column: accept 1


def draw_per_row(accept, alias, rows, num_sampled, seed):
    """(rows, num_sampled) int32 ids, each drawn from Q independently (``alias_table``'s arrays)."""
    seed = tf.convert_to_tensor(seed)
    shape = tf.stack([rows, num_sampled])
    column = tf.random.stateless_uniform(shape, seed, maxval=tf.shape(accept)[0], dtype=tf.int32)
    coin = tf.random.stateless_uniform(shape, seed + 1)
    return tf.where(coin < tf.gather(accept, column), column, tf.gather(alias, column))
