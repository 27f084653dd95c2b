"""Partition functions of restricted Boltzmann machines: annealed importance sampling and exact enumeration.

AIS (Neal 2001; for RBMs Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks",
ICML 2008, Sec. 3-4). Intermediate distributions between a base-rate model p_A (no hidden couplings,
visible biases b_A from the training marginals) and the RBM p_B, at inverse temperatures
0 = beta_0 < beta_1 < ... < beta_K = 1:

    p*_beta(v) = exp((1 - beta) b_A.v) * sum_h exp(-beta E_B(v, h))
               = exp((1 - beta) b_A.v + beta b.v) prod_j (1 + exp(beta (c_j(v) + W_j.v)))

(c_j(v) = c_j for a Bernoulli RBM, N c_j for the Replicated Softmax with N = sum_k v_k). One run:
v_0 ~ p_A, then for k = 1..K: log w += log p*_k(v_{k-1}) - log p*_{k-1}(v_{k-1}) and v_k ~ T_k(v_{k-1}),
one Gibbs sweep (h ~ p_k(h|v), v ~ p_k(v|h)) that leaves p_k invariant. E[w] = Z_B / Z_A, so with M
runs log Z_B ~ log Z_A + log mean_m w_m, and S&M's interval is log(r +- 3 sigma) with sigma the standard
error of the mean weight r (computed here on weights scaled by their mean, so nothing overflows).
The estimate is unbiased in Z, so log Z tends to be underestimated (and log p overestimated) when the
runs are too few or too short: tests hold it to the exact value on small models (``exact_log_partition``).

The schedule of S&M: 14,500 temperatures, 500 uniform in [0, 0.5], 4,000 in [0.5, 0.9] and 10,000 in
[0.9, 1] (``DEFAULT_SCHEDULE``). The whole run is one compiled ``tf.while_loop`` (stateless seeds
(seed, k), so a run is a function of its seed).

The family of intermediate distributions is a small object (``BernoulliFamily``, ``ReplicatedSoftmaxFamily``)
with ``initial(seed) -> v (C, V)``, ``step(v, beta_from, beta_to, seed) -> (log weight increment (C,), v')``
and ``base_log_partition() -> (C,)``: the shared loop ``ais`` never knows which RBM it anneals.
"""
import dataclasses
import math
import time

import numpy as np
import tensorflow as tf

DEFAULT_SCHEDULE = ((0.5, 500), (0.9, 4000), (1.0, 10000))


def inverse_temperatures(schedule=DEFAULT_SCHEDULE):
    """[0, beta_1, ..., 1] (float64, K + 1 values): each (end, count) segment of ``schedule`` adds ``count``
    equally spaced values ending at ``end``. The default gives S&M's K = 14,500 transitions."""
    betas, start = [0.0], 0.0
    for end, count in schedule:
        end, count = float(end), int(count)
        if not start < end <= 1.0 or count < 1:
            raise ValueError(f"schedule segments must increase within (0, 1] with count >= 1; got {schedule}")
        betas.extend(np.linspace(start, end, count + 1)[1:])
        start = end
    if start != 1.0:
        raise ValueError(f"the schedule must end at beta = 1, ends at {start}")
    return np.asarray(betas)


def schedule_of(temperatures):
    """``temperatures``: an int K (K uniform steps in (0, 1]), a schedule of (end, count) segments, or None
    (S&M's 14,500) -> the (K + 1,) inverse temperatures."""
    if temperatures is None:
        return inverse_temperatures()
    if isinstance(temperatures, (int, np.integer)):
        return inverse_temperatures(((1.0, int(temperatures)),))
    return inverse_temperatures(tuple(tuple(s) for s in temperatures))


def base_rate_logits(x, smoothing=0.05):
    """S&M's base-rate visible biases: logit of the training marginals, each clipped away from 0 and 1 by
    ``smoothing`` pseudo-observations (V,)."""
    x = np.asarray(x, np.float64)
    p = (x.sum(0) + smoothing) / (len(x) + 2 * smoothing)
    return np.log(p) - np.log1p(-p)


def base_rate_log_probs(counts, smoothing=0.5):
    """The base-rate model of a Replicated Softmax: log unigram frequencies of the training counts (V,)."""
    counts = np.asarray(counts, np.float64).sum(0) + smoothing
    return np.log(counts / counts.sum())


# === Families of intermediate distributions ===
def _bernoulli(logits, seed):
    return tf.cast(tf.random.stateless_uniform(tf.shape(logits), seed) < tf.sigmoid(logits), logits.dtype)


def sample_counts(logits, lengths, seed):
    """N_d tokens drawn from softmax(logits) per row and counted: logits (C, V), lengths (C,) -> (C, V)
    float32 counts with row sums ``lengths`` (the Replicated Softmax's p(v | h))."""
    logits = tf.convert_to_tensor(logits, tf.float32)
    lengths = tf.cast(tf.round(lengths), tf.int32)
    rows, vocab = tf.shape(logits)[0], tf.shape(logits)[1]
    n_max = tf.maximum(tf.reduce_max(lengths), 1)
    draws = tf.random.stateless_categorical(logits, n_max, seed, dtype=tf.int32)      # (C, n_max)
    keep = tf.cast(tf.range(n_max)[None, :] < lengths[:, None], tf.float32)
    ids = draws + tf.range(rows)[:, None] * vocab
    counts = tf.math.unsorted_segment_sum(tf.reshape(keep, [-1]), tf.reshape(ids, [-1]), rows * vocab)
    return tf.reshape(counts, [rows, vocab])


class BernoulliFamily:
    """Tempered Bernoulli RBMs: kernel W (V, H), visible bias b (V,), hidden bias c (H,), base-rate visible
    logits b_A (V,); ``num_chains`` parallel runs."""

    def __init__(self, kernel, visible_bias, hidden_bias, base_logits, num_chains):
        self.kernel = tf.convert_to_tensor(kernel, tf.float32)
        self.visible_bias = tf.convert_to_tensor(visible_bias, tf.float32)
        self.hidden_bias = tf.convert_to_tensor(hidden_bias, tf.float32)
        self.base_logits = tf.convert_to_tensor(base_logits, tf.float32)
        self.num_chains = int(num_chains)

    def base_log_partition(self):
        """log Z_A = H log 2 + sum_i log(1 + exp(b_A,i)), for every chain (C,)."""
        value = (float(self.kernel.shape[1]) * math.log(2.0)
                 + tf.reduce_sum(tf.cast(tf.nn.softplus(tf.cast(self.base_logits, tf.float64)), tf.float64)))
        return tf.fill([self.num_chains], tf.cast(value, tf.float64))

    def initial(self, seed):
        return _bernoulli(tf.tile(self.base_logits[None, :], [self.num_chains, 1]), seed)

    def _log_unnormalized(self, v, x, beta):
        return tf.linalg.matvec(v, (1.0 - beta) * self.base_logits + beta * self.visible_bias) + tf.reduce_sum(
            tf.nn.softplus(beta * x), axis=1)

    def step(self, v, beta_from, beta_to, seed):
        x = tf.matmul(v, self.kernel) + self.hidden_bias
        increment = self._log_unnormalized(v, x, beta_to) - self._log_unnormalized(v, x, beta_from)
        h = _bernoulli(beta_to * x, tf.stack([seed[0], 2 * seed[1]]))
        logits = (1.0 - beta_to) * self.base_logits + beta_to * (tf.matmul(h, self.kernel, transpose_b=True)
                                                                  + self.visible_bias)
        return increment, _bernoulli(logits, tf.stack([seed[0], 2 * seed[1] + 1]))


class ReplicatedSoftmaxFamily:
    """Tempered Replicated Softmax models (Salakhutdinov & Hinton 2009): W (V, H), word biases a (V,),
    hidden biases c (H,) scaled by the length N, base-rate log word probabilities (V,); one group of
    ``runs`` chains per document length in ``lengths`` (G,): C = G * runs chains, group-major."""

    def __init__(self, kernel, visible_bias, hidden_bias, base_log_probs, lengths, runs):
        self.kernel = tf.convert_to_tensor(kernel, tf.float32)
        self.visible_bias = tf.convert_to_tensor(visible_bias, tf.float32)
        self.hidden_bias = tf.convert_to_tensor(hidden_bias, tf.float32)
        self.base_log_probs = tf.convert_to_tensor(base_log_probs, tf.float32)
        self.chain_lengths = tf.repeat(tf.constant(np.asarray(lengths, np.float32)), int(runs))
        self.num_chains = int(len(lengths) * runs)

    def base_log_partition(self):
        """log Z_A(N) = H log 2 + N log sum_k exp(base_k) = H log 2 (the base log-probabilities sum to one;
        the sum is computed anyway, for rounding): (C,)."""
        log_sum = tf.cast(tf.reduce_logsumexp(self.base_log_probs), tf.float64)
        return (float(self.kernel.shape[1]) * math.log(2.0)
                + tf.cast(self.chain_lengths, tf.float64) * log_sum)

    def initial(self, seed):
        logits = tf.tile(self.base_log_probs[None, :], [self.num_chains, 1])
        return sample_counts(logits, self.chain_lengths, seed)

    def _log_unnormalized(self, v, x, beta):
        return tf.linalg.matvec(v, (1.0 - beta) * self.base_log_probs + beta * self.visible_bias) + tf.reduce_sum(
            tf.nn.softplus(beta * x), axis=1)

    def step(self, v, beta_from, beta_to, seed):
        x = tf.matmul(v, self.kernel) + self.chain_lengths[:, None] * self.hidden_bias
        increment = self._log_unnormalized(v, x, beta_to) - self._log_unnormalized(v, x, beta_from)
        h = _bernoulli(beta_to * x, tf.stack([seed[0], 2 * seed[1]]))
        logits = (1.0 - beta_to) * self.base_log_probs + beta_to * (tf.matmul(h, self.kernel, transpose_b=True)
                                                                     + self.visible_bias)
        return increment, sample_counts(logits, self.chain_lengths, tf.stack([seed[0], 2 * seed[1] + 1]))


# === The shared AIS loop ===
@dataclasses.dataclass
class AISEstimate:
    """log Z with S&M's +-3 standard-error interval; per group when the runs were grouped (RSM lengths).

    log_z, lower, upper: floats, or (G,) arrays. log_weights: (G, M) or (M,) final log w + log Z_A.
    """

    log_z: object
    lower: object
    upper: object
    log_weights: np.ndarray
    runs: int
    temperatures: int
    seconds: float

    def as_dict(self):
        def plain(v):
            return v.tolist() if isinstance(v, np.ndarray) else float(v)
        return {"log_z": plain(self.log_z), "log_z_lower": plain(self.lower), "log_z_upper": plain(self.upper),
                "ais_runs": self.runs, "ais_temperatures": self.temperatures, "ais_seconds": round(self.seconds, 1)}


def log_mean_with_interval(log_weights, stds=3.0):
    """(log mean_m w_m, log(mean - stds * se), log(mean + stds * se)) along the last axis, float64, stably:
    the weights are divided by their mean before the standard error of the mean is taken. The lower end is
    -inf when the interval reaches 0 (too few runs)."""
    lw = np.asarray(log_weights, np.float64)
    m = lw.shape[-1]
    top = lw.max(axis=-1, keepdims=True)
    log_mean = top[..., 0] + np.log(np.mean(np.exp(lw - top), axis=-1))
    scaled = np.exp(lw - log_mean[..., None])                     # mean 1
    se = (np.std(scaled, axis=-1, ddof=1) if m > 1 else np.full(log_mean.shape, np.inf)) / math.sqrt(m)
    with np.errstate(divide="ignore"):
        lower = log_mean + np.log(np.maximum(1.0 - stds * se, 0.0))
    return log_mean, lower, log_mean + np.log1p(stds * se)


def _ais_loop(family, betas, seed):
    v = family.initial(tf.stack([seed, -1]))
    log_w = tf.zeros([family.num_chains], tf.float64)

    def body(k, v, log_w):
        increment, v = family.step(v, tf.cast(betas[k - 1], tf.float32), tf.cast(betas[k], tf.float32),
                                   tf.stack([seed, k]))
        return k + 1, v, log_w + tf.cast(increment, tf.float64)

    _, _, log_w = tf.while_loop(lambda k, v, w: k < tf.shape(betas)[0], body, (tf.constant(1), v, log_w),
                                parallel_iterations=1)
    return log_w + family.base_log_partition()


def ais(family, temperatures=None, seed=0, groups=None):
    """Runs AIS on ``family`` (see the module doc): ``family.num_chains`` runs at once, K transitions.

    temperatures: see ``schedule_of`` (None: S&M's 14,500). groups: G to read the chains as G groups of
    C / G runs each (one log Z per group, e.g. per document length), None for one group.
    """
    betas = schedule_of(temperatures)
    start = time.time()
    loop = tf.function(lambda b, s: _ais_loop(family, b, s))  # one compiled while_loop per family
    log_w = loop(tf.constant(betas, tf.float64), tf.constant(int(seed), tf.int32)).numpy()
    seconds = time.time() - start
    if groups is not None:
        log_w = log_w.reshape(int(groups), -1)
    log_z, lower, upper = log_mean_with_interval(log_w)
    return AISEstimate(log_z, lower, upper, log_w, int(log_w.shape[-1]), len(betas) - 1, seconds)


# === Exact values by enumeration (small models) ===
MAX_ENUMERATED_HIDDEN = 20


def hidden_states(num_hidden, start=0, stop=None):
    """Rows start..stop-1 of the 2^H binary hidden configurations (float64, (n, H))."""
    stop = 2 ** num_hidden if stop is None else stop
    codes = np.arange(start, stop, dtype=np.int64)[:, None]
    return ((codes >> np.arange(num_hidden, dtype=np.int64)) & 1).astype(np.float64)


def exact_log_partition(kernel, visible_bias, hidden_bias, length=None, chunk=1 << 14):
    """log Z by enumerating the 2^H hidden states (H <= 20), in float64:

    Bernoulli RBM (``length`` None): log sum_h exp(c.h + sum_i softplus(b_i + W_i.h));
    Replicated Softmax (documents of ``length`` N): log sum_h exp(N c.h + N logsumexp_k(a_k + W_k.h))
    (the sum over token sequences of length N, no multinomial coefficient).
    """
    w = np.asarray(kernel, np.float64)
    b, c = np.asarray(visible_bias, np.float64), np.asarray(hidden_bias, np.float64)
    h_count = w.shape[1]
    if h_count > MAX_ENUMERATED_HIDDEN:
        raise ValueError(f"exact log Z enumerates 2^H hidden states; H = {h_count} > {MAX_ENUMERATED_HIDDEN}")
    parts = []
    for start in range(0, 2 ** h_count, chunk):
        h = hidden_states(h_count, start, min(start + chunk, 2 ** h_count))
        visible = h @ w.T + b                                          # (n, V)
        if length is None:
            terms = h @ c + np.logaddexp(0.0, visible).sum(1)
        else:
            top = visible.max(1)
            terms = length * (h @ c + top + np.log(np.exp(visible - top[:, None]).sum(1)))
        parts.append(terms)
    terms = np.concatenate(parts)
    top = terms.max()
    return float(top + np.log(np.exp(terms - top).sum()))
