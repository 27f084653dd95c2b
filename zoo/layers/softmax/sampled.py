"""Sampled training objectives over the full softmax's weights (exact ``log_probs`` stay the full softmax's):

* ``SampledSoftmax`` (Jean et al. 2015): softmax over {target} + S sampled words, each logit minus
  log(S Q(w)) (the log-Q correction that makes it consistent), accidental hits (a sample equal to the target)
  removed;
* ``NCE`` (Gutmann & Hyvarinen 2010; Mnih & Teh 2012): logistic regression of data against k = S noise words,
  Delta(w) = s(w) - log(k Q(w)), with the logits s taken as self-normalised log-probabilities;
  -log sigma(Delta(target)) - sum_noise log sigma(-Delta(noise)); accidental hits removed;
* ``NegativeSampling`` (Mikolov et al. 2013): NCE without the correction:
  -log sigma(s(target)) - sum_neg log sigma(-s(neg)); unigram^0.75 negatives by default, shared by the batch
  or drawn for each row (``per_row``, as word2vec);
* ``OneVsEach`` (Titsias 2016): the bound log p(y|h) >= sum_{k != y} log sigma(s(y) - s(k)); its unbiased
  estimator from S uniform draws scales the sampled sum by (V - 1) / S (the exact bound: ``one_vs_each_bound``).
"""
import tensorflow as tf

from zoo.layers.softmax.full import FullSoftmax
from zoo.layers.softmax.samplers import alias_table, draw, draw_per_row, sampler_log_probs


class _Sampled(FullSoftmax):
    default_sampler = "log_uniform"

    def __init__(self, vocab_size, num_sampled=64, sampler=None, counts=None, power=0.75, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.num_sampled, self.sampler, self.power = int(num_sampled), sampler or self.default_sampler, float(power)
        self.counts = None if counts is None else [float(c) for c in counts]
        if not 1 <= self.num_sampled:
            raise ValueError(f"num_sampled must be >= 1, got {num_sampled}")
        self.log_q = tf.constant(sampler_log_probs(self.sampler, self.vocab_size, self.counts, self.power))

    def set_counts(self, counts):
        """New training frequencies for the unigram sampler (e.g. once the data is read)."""
        self.counts = [float(c) for c in counts]
        self.log_q = tf.constant(sampler_log_probs(self.sampler, self.vocab_size, self.counts, self.power))

    def samples(self, seed):
        return draw(self.log_q, self.num_sampled, tf.convert_to_tensor(seed if seed is not None else [0, 0]))

    def corrected_logits(self, hidden, targets, seed):
        """The log-Q-corrected logits s(w) - log(S Q(w)) of each row's target (N,) and of the S draws (N, S),
        and which draws are accidental hits (N, S) bool."""
        ids, log_count = self.samples(seed)
        true = self.target_logits(hidden, targets) - tf.gather(self.log_q, targets) - tf.math.log(float(self.num_sampled))
        return true, self.candidate_logits(hidden, ids) - log_count, tf.equal(targets[:, None], ids[None, :])

    def get_config(self):
        return {**super().get_config(), "num_sampled": self.num_sampled, "sampler": self.sampler,
                "counts": self.counts, "power": self.power}


class SampledSoftmax(_Sampled):
    def loss(self, hidden, targets, seed=None):
        true, sampled, hits = self.corrected_logits(hidden, self.check_targets(targets), seed)
        logits = tf.concat([true[:, None], tf.where(hits, -1e30, sampled)], axis=1)  # accidental hits removed
        return -tf.nn.log_softmax(logits)[:, 0]


class NCE(_Sampled):
    def loss(self, hidden, targets, seed=None):
        true, noise, hits = self.corrected_logits(hidden, self.check_targets(targets), seed)
        return tf.math.softplus(-true) + tf.reduce_sum(tf.where(hits, 0.0, tf.math.softplus(noise)), axis=1)


class NegativeSampling(_Sampled):
    """``per_row`` False: one draw of S negatives shared by the batch; True: S negatives of each row's own
    (word2vec's), by the alias method (``samplers.draw_per_row``). A negative equal to the row's target is
    skipped, as word2vec skips it."""
    default_sampler = "unigram"

    def __init__(self, vocab_size, num_sampled=5, per_row=False, **kwargs):
        super().__init__(vocab_size, num_sampled=num_sampled, **kwargs)
        self.per_row = bool(per_row)
        self._alias = alias_table(self.log_q.numpy())  # numpy arrays: constants of whichever graph reads them

    def set_counts(self, counts):
        super().set_counts(counts)
        self._alias = alias_table(self.log_q.numpy())

    def negatives(self, rows, seed):
        """(rows, S) int32 negatives of each row (``per_row``), or (S,) shared by all rows."""
        seed = tf.convert_to_tensor(seed if seed is not None else [0, 0])
        if not self.per_row:
            return self.samples(seed)[0]
        return draw_per_row(*self._alias, rows, self.num_sampled, seed)

    def loss(self, hidden, targets, seed=None):
        targets = self.check_targets(targets)
        ids = self.negatives(tf.shape(targets)[0], seed)
        # per row: each row's own (N, S) ids, scored as targets of the row; shared: the (S,) ids against every row
        logits = self.target_logits(hidden[:, None, :], ids) if self.per_row else self.candidate_logits(hidden, ids)
        hit = tf.cast(tf.equal(targets[:, None], ids), tf.float32)  # (N, S) both ways, by broadcasting
        return (tf.math.softplus(-self.target_logits(hidden, targets))
                + tf.reduce_sum((1.0 - hit) * tf.math.softplus(logits), axis=1))

    def get_config(self):
        return {**super().get_config(), "per_row": self.per_row}


class OneVsEach(_Sampled):
    default_sampler = "uniform"

    def loss(self, hidden, targets, seed=None):
        """-(estimate of the one-vs-each bound): uniform draws, scaled by (V - 1) / S, the target excluded."""
        targets = self.check_targets(targets)
        ids, _ = self.samples(seed)
        margins = self.target_logits(hidden, targets)[:, None] - self.candidate_logits(hidden, ids)
        keep = tf.cast(tf.not_equal(targets[:, None], ids[None, :]), tf.float32)
        scale = (self.vocab_size - 1) / self.num_sampled
        return -scale * tf.reduce_sum(keep * tf.math.log_sigmoid(margins), axis=1)

    def one_vs_each_bound(self, hidden, targets):
        """The exact bound sum_{k != y} log sigma(s(y) - s(k)) <= log p(y | h): (N,)."""
        targets = self.check_targets(targets)
        logits = self.logits(hidden)
        margins = tf.gather(logits, targets, batch_dims=1)[:, None] - logits
        others = 1.0 - tf.one_hot(targets, self.vocab_size)
        return tf.reduce_sum(others * tf.math.log_sigmoid(margins), axis=1)
