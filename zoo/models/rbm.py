"""Restricted Boltzmann machines trained by contrastive divergence (Hinton 2002) and persistent CD
(Tieleman 2008), with log-likelihoods by annealed importance sampling (Salakhutdinov & Murray 2008).

Bernoulli RBM over binary v (V,) and hidden h (H,):

    E(v, h) = -b.v - c.h - v^T W h,   p(v, h) = exp(-E(v, h)) / Z,
    p(h_j = 1 | v) = sigmoid(c_j + W_j.v),   p(v_i = 1 | h) = sigmoid(b_i + W_i.h),
    free energy F(v) = -log sum_h exp(-E(v, h)) = -b.v - sum_j softplus(c_j + W_j.v),
    log p(v) = -F(v) - log Z   (log Z by AIS: ``zoo.objectives.partition``).

Learning (the lecture deck's "update towards (z, x), away from (z', x')"): the log-likelihood gradient
is <v h^T>_data - <v h^T>_model; CD-k estimates the model term with k Gibbs sweeps started at the data,
PCD keeps ``num_chains`` persistent chains (non-trainable variables) that each update moves k sweeps on.
Update with momentum and L2 weight decay as in Hinton's practical guide (UTML TR 2010-003, Secs. 9-10):

    delta <- m delta + lr (<v h>_data - <v h>_model - lambda W),   W <- W + delta

(biases without decay); m = ``initial_momentum`` for the first ``momentum_warmup_steps`` updates,
then ``momentum``; lr is the compiled optimizer's learning rate (so ``ReduceLROnPlateau`` and
``zoo.load``'s optimizer drive it), and its step counter counts the updates. The statistics use
p(h | v) for the hidden units and binary samples for the negative visible units (the guide's Sec. 3).
``train_step`` is overridden: the update is not the gradient of a loss.

Monitored each step (and on validation data): ``free_energy`` (mean F(v)), ``reconstruction_error``
(squared error of p(v | h ~ p(h | v)) summed over pixels; in training, on 16 rows of each batch),
``pseudo_likelihood`` (the stochastic estimate V log sigmoid(F(v~) - F(v)) with one random bit of v flipped,
as scikit-learn's), ``loss`` = -pseudo_likelihood.

Expected on binarised MNIST with 500 hidden units: S&M report -86.34 nats (CD-25, stochastic
binarisation); the shipped model's measured number is in its card.
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.data.validation import assert_binary, check_binary, check_feature_size
from zoo.export.endpoint import Endpoint
from zoo.models.seeding import step_seed
from zoo.objectives.partition import (BernoulliFamily, ais, base_rate_logits, exact_log_partition,
                                      MAX_ENUMERATED_HIDDEN)
from zoo.registry import register_model

MAX_SAMPLES = 10000      # requests of the sample signature: num_samples in [1, MAX_SAMPLES]
MAX_GIBBS_STEPS = 100000  # and steps in [0, MAX_GIBBS_STEPS]
UNROLLED_GIBBS_STEPS = 4  # gibbs() with a Python int of at most this many sweeps unrolls them
TRAINING_METRIC_ROWS = 16  # the training step's reconstruction error is estimated on this many rows of a batch


def _bernoulli(probs, seed):
    return tf.cast(tf.random.stateless_uniform(tf.shape(probs), seed) < probs, tf.float32)


def times_kernel_transposed(h, kernel):
    """h (B, H) @ kernel^T (H, V) -> (B, V), computed as (kernel @ h^T)^T: on this project's 2-core CPU, TF's
    matmul with ``transpose_b`` was several times slower at ``bench/rbm.py``'s 64 x 256 x 2,000 and no faster
    at the MNIST RBM's shapes (issue 12's note has the timings). Not a general rule: at a language model's
    1,280 x 200 x 10,000 the transposed form was slower, so the softmax layers keep ``transpose_b``."""
    return tf.transpose(tf.matmul(kernel, h, transpose_b=True))


def _child(seed, i):
    """A stateless (2,) seed derived from ``seed`` and the integer ``i``."""
    return tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int32), i)


def assert_in_range(value, low, high, name):
    """Core-op assertion that the scalar ``value`` lies in [low, high], naming the input."""
    ok = tf.logical_and(value >= low, value <= high)
    with tf.control_dependencies([tf.debugging.Assert(ok, [f"input '{name}' must lie in [{low}, {high}], got",
                                                          value])]):
        return tf.identity(value)


class RBMBase(keras.Model):
    """What every RBM shares: parameters, Gibbs sampling, the CD / PCD update in ``train_step``, AIS.

    A family implements ``hidden_input(v)`` (B, H) (the pre-sigmoid input of the hidden units),
    ``sample_visible(h, v_like, seed)``, ``free_energy(v)``, ``reconstruction_error(v, seed)``,
    ``ais_family(runs, ...)`` and ``initial_visible(n, seed)``.

    Args:
      visible_size: V. hidden_units: H. cd_steps: k of CD-k / PCD-k. persistent: PCD (``num_chains``
      persistent chains) instead of CD. momentum, initial_momentum, momentum_warmup_steps, weight_decay:
      see the module doc. init_scale: std of the initial weights (0.01, the guide's). decay_steps,
      final_learning_rate_fraction: linear learning-rate decay (``learning_rate_factor``). ais_runs (M),
      ais_temperatures (None: S&M's 14,500; an int K: K uniform steps), ais_seed: of ``measure``.
      seed: of the sampling noise.
    """

    distribution_unsupported = (
        "its train_step applies a contrastive-divergence update to the variables directly (no gradient "
        "for the strategy to all-reduce), and PCD's persistent chains are per-replica state")

    def __init__(self, visible_size, hidden_units=500, cd_steps=1, persistent=False, num_chains=100,
                 momentum=0.9, initial_momentum=0.5, momentum_warmup_steps=0, weight_decay=2e-4, init_scale=0.01,
                 decay_steps=0, final_learning_rate_fraction=0.0,
                 ais_runs=100, ais_temperatures=None, ais_seed=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.visible_size, self.hidden_units = int(visible_size), int(hidden_units)
        if self.visible_size < 1 or self.hidden_units < 1:
            raise ValueError(f"visible_size and hidden_units must be >= 1, got {visible_size}, {hidden_units}")
        self.cd_steps = int(cd_steps)
        if self.cd_steps < 1:
            raise ValueError(f"cd_steps must be >= 1, got {cd_steps}")
        self.persistent, self.num_chains = bool(persistent), int(num_chains)
        self.momentum, self.initial_momentum = float(momentum), float(initial_momentum)
        self.momentum_warmup_steps, self.weight_decay = int(momentum_warmup_steps), float(weight_decay)
        self.init_scale = float(init_scale)
        self.decay_steps, self.final_learning_rate_fraction = int(decay_steps), float(final_learning_rate_fraction)
        self.ais_runs, self.ais_seed = int(ais_runs), int(ais_seed)
        self.ais_temperatures = ais_temperatures if ais_temperatures is None or isinstance(ais_temperatures, int) \
            else [list(s) for s in ais_temperatures]
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="gibbs_noise")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.free_energy_tracker = keras.metrics.Mean(name="free_energy")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_error")
        # the learning-rate decay factor reached: strictly decreasing while it decays, so a recipe monitoring
        # val_learning_rate_factor (mode min) keeps the last epoch (PCD's model is the one at the decayed rate)
        self.decay_tracker = keras.metrics.Mean(name="learning_rate_factor")
        self.build()

    # === Parameters (every shape is known from the config: __init__ builds) ===
    def build(self, input_shape=None):
        if self.built:
            return
        v, h = self.visible_size, self.hidden_units
        rng = np.random.RandomState(self.seed)
        self.kernel = self.add_weight(shape=(v, h), name="kernel", initializer=keras.initializers.Constant(
            rng.normal(0.0, self.init_scale, (v, h)).astype(np.float32)))
        self.visible_bias = self.add_weight(shape=(v,), name="visible_bias", initializer="zeros")
        self.hidden_bias = self.add_weight(shape=(h,), name="hidden_bias", initializer="zeros")
        self.velocities = [self.add_weight(shape=w.shape, name=f"{w.name}_velocity", initializer="zeros",
                                           trainable=False)
                           for w in (self.kernel, self.visible_bias, self.hidden_bias)]
        # PCD's persistent chains (binary / count vectors), and the base-rate model AIS starts from
        self.chains = self.add_weight(shape=(self.num_chains if self.persistent else 1, v), name="chains",
                                      initializer="zeros", trainable=False)
        self.base_visible = self.add_weight(shape=(v,), name="base_visible", initializer="zeros", trainable=False)
        self.build_log_partition()
        self.built = True

    def build_log_partition(self):
        """The family's frozen AIS estimate(s) of log Z (non-trainable weights), read by ``log_prob``."""
        raise NotImplementedError

    def set_base_rates(self, x):
        """Hook of ``prepare_for_data``: the base-rate model from the training data (the family's)."""
        raise NotImplementedError

    # === Conditionals and Gibbs sampling ===
    def free_energy(self, v):
        """F(v) = -b.v - sum_j softplus(x_j), x = ``hidden_input(v)`` (c + W^T v; the RSM scales c by the
        document's length): (B,)."""
        v = tf.convert_to_tensor(v, tf.float32)
        return self.free_energy_from(v, self.hidden_input(v))

    def free_energy_from(self, v, x):
        """F(v) given its hidden input x (B, H)."""
        return -tf.linalg.matvec(v, self.visible_bias) - tf.reduce_sum(tf.nn.softplus(x), 1)

    def hidden_probabilities(self, v):
        """p(h = 1 | v): (B, H)."""
        return tf.sigmoid(self.hidden_input(tf.convert_to_tensor(v, tf.float32)))

    def gibbs_step(self, v, seed):
        """One sweep v -> h ~ p(h|v) -> v' ~ p(v|h): returns v' (B, V)."""
        h = _bernoulli(tf.sigmoid(self.hidden_input(v)), _child(seed, 0))
        return self.sample_visible(h, v, _child(seed, 1))

    def gibbs(self, v, steps, seed):
        """``steps`` sweeps from v (B, V) (a tf.while_loop: ``steps`` may be a tensor): the last v."""
        v = tf.convert_to_tensor(v, tf.float32)
        seed = tf.cast(seed, tf.int32)
        if isinstance(steps, int) and steps <= UNROLLED_GIBBS_STEPS:  # PCD-1's sweep without the loop's overhead
            for i in range(steps):
                v = self.gibbs_step(v, _child(seed, i))
            return v
        _, v = tf.while_loop(lambda i, v: i < steps, lambda i, v: (i + 1, self.gibbs_step(v, _child(seed, i))),
                             (tf.constant(0), v), parallel_iterations=1)
        return v

    def call(self, v, training=False):
        """v (B, V) -> p(h = 1 | v) (B, H): the features."""
        return self.hidden_probabilities(v)

    # === CD-k / PCD-k through model.fit ===
    def statistics(self, v0, seed):
        """The CD / PCD estimate of the log-likelihood gradient w.r.t. (W, b, c) and the negative samples:
        ([dW (V, H), db (V,), dc (H,)], v_negative, the hidden input of v0 (B, H), reused by the metrics)."""
        start = self.chains if self.persistent else v0
        v_neg = self.gibbs(start, self.cd_steps, seed)
        x0 = self.hidden_input(v0)
        p0, pk = tf.sigmoid(x0), self.hidden_probabilities(v_neg)
        n0, nk = tf.cast(tf.shape(v0)[0], tf.float32), tf.cast(tf.shape(v_neg)[0], tf.float32)
        # <v h>_data - <v h>_model as one product: [v0; v_neg]^T [p0 / n0; -pk / nk] (V, H)
        grads = [tf.matmul(tf.concat([v0, v_neg], 0), tf.concat([p0 / n0, -pk / nk], 0), transpose_a=True),
                 tf.reduce_mean(v0, 0) - tf.reduce_mean(v_neg, 0),
                 tf.reduce_mean(p0, 0) - tf.reduce_mean(pk, 0)]
        return grads, v_neg, x0

    def learning_rate_factor(self, step):
        """Linear decay of the learning rate to ``final_learning_rate_fraction`` of it over ``decay_steps``
        updates (PCD needs a decaying rate: Tieleman 2008), constant after; 1 with decay_steps = 0."""
        if not self.decay_steps:
            return tf.constant(1.0)
        progress = tf.minimum(tf.cast(step, tf.float32) / float(self.decay_steps), 1.0)
        return 1.0 - (1.0 - self.final_learning_rate_fraction) * progress

    def apply_update(self, grads, learning_rate, step):
        """delta <- m delta + lr (grad - lambda W) (decay on W only); parameters += delta.

        One fused kernel per parameter (``ResourceApplyKerasMomentum``: accum <- m accum - lr g; var += accum,
        with g = -(grad - lambda W)) instead of five elementwise passes over W."""
        momentum = tf.where(step < self.momentum_warmup_steps, self.initial_momentum, self.momentum)
        for i, (param, velocity, grad) in enumerate(zip((self.kernel, self.visible_bias, self.hidden_bias),
                                                         self.velocities, grads)):
            descent = self.weight_decay * param - grad if i == 0 and self.weight_decay else -grad
            tf.raw_ops.ResourceApplyKerasMomentum(var=param.value.handle, accum=velocity.value.handle,
                                                  lr=learning_rate, grad=descent, momentum=momentum,
                                                  use_locking=False, use_nesterov=False)

    def train_step(self, data):
        v0 = self.checked_batch(data[0] if isinstance(data, (tuple, list)) else data)
        seed = step_seed(self)
        grads, v_neg, x0 = self.statistics(v0, seed)
        if self.persistent:
            self.chains.assign(v_neg)
        step = tf.cast(self.optimizer.iterations, tf.int32)
        self.apply_update(grads, tf.cast(self.optimizer.learning_rate, tf.float32) * self.learning_rate_factor(step),
                          step)
        self.optimizer.iterations.assign_add(1)
        return self.track(v0, _child(seed, 7), x0, reconstruction_rows=TRAINING_METRIC_ROWS)

    def test_step(self, data):
        v0 = self.checked_batch(data[0] if isinstance(data, (tuple, list)) else data)
        return self.track(v0, tf.cast(self.seed_generator.next(), tf.int32))

    def track(self, v, seed, x=None, reconstruction_rows=None):
        """Updates the metrics; x: the hidden input of v if already computed (the training step's).
        reconstruction_rows: estimate the reconstruction error on the batch's first rows only (the training
        step: its product with W^T is a sixth of the step's work; batches are shuffled, so the estimate is
        unbiased); None: every row (validation)."""
        x = self.hidden_input(v) if x is None else x
        if getattr(self, "optimizer", None) is not None:
            self.decay_tracker.update_state(self.learning_rate_factor(tf.cast(self.optimizer.iterations, tf.int32)))
        self.free_energy_tracker.update_state(self.free_energy_from(v, x))
        rows = slice(None) if reconstruction_rows is None else slice(0, reconstruction_rows)
        self.reconstruction_tracker.update_state(self.reconstruction_error(v[rows], _child(seed, 0), x[rows]))
        self.loss_tracker.update_state(self.monitored_loss(v, _child(seed, 1), x))
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.free_energy_tracker, self.reconstruction_tracker, self.decay_tracker]

    # === Partition function and log-likelihood ===
    def exact_log_partition(self, **kwargs):
        """log Z by enumerating the 2^H hidden states (H <= 20)."""
        if self.hidden_units > MAX_ENUMERATED_HIDDEN:
            raise ValueError(f"exact log Z enumerates 2^H states; H = {self.hidden_units} > {MAX_ENUMERATED_HIDDEN}")
        return exact_log_partition(self.kernel.numpy(), self.visible_bias.numpy(), self.hidden_bias.numpy(), **kwargs)

    def _ais_settings(self, runs, temperatures, seed):
        return (self.ais_runs if runs is None else int(runs),
                self.ais_temperatures if temperatures is None else temperatures,
                self.ais_seed if seed is None else int(seed))

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "visible_size": self.visible_size, "hidden_units": self.hidden_units,
                "cd_steps": self.cd_steps, "persistent": self.persistent, "num_chains": self.num_chains,
                "momentum": self.momentum, "initial_momentum": self.initial_momentum,
                "momentum_warmup_steps": self.momentum_warmup_steps, "weight_decay": self.weight_decay,
                "init_scale": self.init_scale, "decay_steps": self.decay_steps,
                "final_learning_rate_fraction": self.final_learning_rate_fraction, "ais_runs": self.ais_runs,
                "ais_temperatures": self.ais_temperatures,
                "ais_seed": self.ais_seed, "seed": self.seed}


@register_model
class RBM(RBMBase):
    """Bernoulli RBM over binary vectors (B, ``input_size``); see the module doc.

    Args: input_size: V (784 for MNIST); the rest as ``RBMBase``.
    """

    def __init__(self, input_size=784, hidden_units=500, **kwargs):
        kwargs.pop("visible_size", None)
        self.input_size = int(input_size)
        super().__init__(visible_size=input_size, hidden_units=hidden_units, **kwargs)

    def build_log_partition(self):
        """[log Z, lower, upper] of the last AIS estimate (NaN until ``estimate_log_partition``)."""
        self.log_partition = self.add_weight(shape=(3,), name="log_partition", trainable=False,
                                             initializer=keras.initializers.Constant(np.nan))

    # === Family ===
    def hidden_input(self, v):
        return tf.matmul(v, self.kernel) + self.hidden_bias

    def visible_probabilities(self, h):
        return tf.sigmoid(times_kernel_transposed(h, self.kernel) + self.visible_bias)

    def sample_visible(self, h, v_like, seed):
        return _bernoulli(self.visible_probabilities(h), seed)

    def reconstruction_error(self, v, seed, x=None):
        """sum_i (v_i - p(v_i = 1 | h))^2 with h ~ p(h | v): (B,)."""
        x = self.hidden_input(v) if x is None else x
        h = _bernoulli(tf.sigmoid(x), seed)
        return tf.reduce_sum(tf.square(v - self.visible_probabilities(h)), axis=1)

    def pseudo_likelihood(self, v, seed, x=None):
        """Stochastic pseudo-log-likelihood V log sigmoid(F(v~) - F(v)), v~ = v with one random bit i flipped: (B,).
        F(v~) costs O(H) per example: its hidden input is x + (1 - 2 v_i) W_i."""
        v = tf.convert_to_tensor(v, tf.float32)
        x = self.hidden_input(v) if x is None else x
        flip = tf.random.stateless_uniform([tf.shape(v)[0]], seed, 0, self.input_size, dtype=tf.int32)
        sign = 1.0 - 2.0 * tf.gather(v, flip, axis=1, batch_dims=1)                       # +1: 0 -> 1, -1: 1 -> 0
        x_flipped = x + sign[:, None] * tf.gather(self.kernel, flip)
        free_flipped = (-tf.linalg.matvec(v, self.visible_bias) - sign * tf.gather(self.visible_bias, flip)
                        - tf.reduce_sum(tf.nn.softplus(x_flipped), 1))
        return self.input_size * tf.math.log_sigmoid(free_flipped - self.free_energy_from(v, x))

    def monitored_loss(self, v, seed, x=None):
        return -self.pseudo_likelihood(v, seed, x)

    def initial_visible(self, n, seed):
        """n random starts from the base-rate model (the training marginals): (n, V)."""
        return _bernoulli(tf.tile(tf.sigmoid(self.base_visible)[None, :], [n, 1]), seed)

    def checked_batch(self, v):
        return assert_binary(tf.convert_to_tensor(v, tf.float32), "x")

    def set_base_rates(self, x):
        self.base_visible.assign(base_rate_logits(x).astype(np.float32))

    def prepare_for_data(self, splits):
        """Checks the training data are binary; the visible biases start at log(p / (1 - p)) of the training
        marginals (the guide's Sec. 8), which is also the AIS base-rate model; PCD chains start there."""
        x = check_feature_size(check_binary(splits["train"], "train"), self.input_size, "train")
        self.set_base_rates(x)
        self.visible_bias.assign(self.base_visible)
        if self.persistent:
            self.chains.assign(self.initial_visible(self.num_chains, tf.constant([self.seed or 0, 11])))

    # === Inference (numpy or tensors in) ===
    def _checked(self, x, what="x"):
        return tf.convert_to_tensor(check_feature_size(check_binary(x, what), self.input_size, what), tf.float32)

    def features(self, x):
        """p(h = 1 | x) for binary x (B, V): (B, H)."""
        return self.hidden_probabilities(self._checked(x))

    def sample(self, num_samples=16, steps=1000, seed=0, start=None):
        """Gibbs samples after ``steps`` sweeps, from the base-rate model (``start`` None) or from the binary
        rows of ``start`` (data starts): (samples (N, V), p(v | h) of the last sweep (N, V))."""
        v0 = self.initial_visible(num_samples, tf.constant([seed, 0])) if start is None else self._checked(start)
        out = self._serve_gibbs(v0, tf.constant(steps), tf.constant([seed, 1]))
        return out["samples"].numpy(), out["probs"].numpy()

    def estimate_log_partition(self, runs=None, temperatures=None, seed=None):
        """AIS estimate of log Z (``zoo.objectives.partition.ais``), frozen into the model (log_prob
        signature, card): an ``AISEstimate``."""
        runs, temperatures, seed = self._ais_settings(runs, temperatures, seed)
        family = BernoulliFamily(self.kernel, self.visible_bias, self.hidden_bias, self.base_visible, runs)
        estimate = ais(family, temperatures, seed)
        self.log_partition.assign([estimate.log_z, estimate.lower, estimate.upper])
        return estimate

    def log_prob(self, x):
        """log p(x) = -F(x) - log Z with the frozen AIS log Z (NaN before ``estimate_log_partition``): (B,)."""
        return -self.free_energy(self._checked(x)) - self.log_partition[0]

    def measure(self, x, ais_runs=None, ais_temperatures=None, seed=None, batch_size=1000, num_samples=None):
        """Test metrics (nats per example): AIS log Z with M = ``ais_runs`` runs (default: the model's) and
        its +-3 std interval, the mean log p(x) = -F(x) - log Z and its interval, and the exact values when
        H <= 20. ``num_samples`` is accepted (``zoo evaluate`` passes its importance-sample count) and unused."""
        x = check_feature_size(check_binary(x, "x"), self.input_size, "x")
        estimate = self.estimate_log_partition(ais_runs, ais_temperatures, seed)
        free = np.concatenate([self.free_energy(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)])
        mean_neg_free = float(-free.astype(np.float64).mean())
        metrics = {"log_prob": mean_neg_free - estimate.log_z, "log_prob_lower": mean_neg_free - estimate.upper,
                   "log_prob_upper": mean_neg_free - estimate.lower, "nll": estimate.log_z - mean_neg_free,
                   "mean_free_energy": -mean_neg_free, **estimate.as_dict(), "examples": int(len(x))}
        if self.hidden_units <= MAX_ENUMERATED_HIDDEN:
            exact = self.exact_log_partition()
            metrics.update(exact_log_z=exact, exact_log_prob=mean_neg_free - exact)
        return metrics

    def diagnostics(self, x):
        if self.input_size != 784:
            return {}
        samples, probs = self.sample(16, steps=100, seed=0)
        return {"images": {"gibbs_samples": tf.reshape(probs, (-1, 28, 28, 1))},
                "histograms": {"kernel": self.kernel, "hidden_bias": self.hidden_bias}}

    # === Serving signatures (core TF ops only) ===
    def _serve_gibbs(self, v0, steps, seed):
        v = self.gibbs(v0, steps, seed)
        h = _bernoulli(self.hidden_probabilities(v), _child(seed, -1))
        return {"samples": v, "probs": self.visible_probabilities(h)}

    def _serve_hidden(self, x):
        return {"probs": self.hidden_probabilities(assert_binary(x, "x"))}

    def _serve_free_energy(self, x):
        return {"free_energy": self.free_energy(assert_binary(x, "x"))}

    def _serve_sample(self, num_samples, steps, seed):
        num_samples = assert_in_range(num_samples, 1, MAX_SAMPLES, "num_samples")
        steps = assert_in_range(steps, 0, MAX_GIBBS_STEPS, "steps")
        v0 = self.initial_visible(num_samples, tf.stack([seed, 0]))
        return self._serve_gibbs(v0, steps, tf.stack([seed, 1]))

    def _serve_log_prob(self, x):
        neg_free = -self.free_energy(assert_binary(x, "x"))
        return {"log_prob": neg_free - self.log_partition[0], "log_prob_lower": neg_free - self.log_partition[2],
                "log_prob_upper": neg_free - self.log_partition[1],
                "log_partition": tf.fill(tf.shape(neg_free), self.log_partition[0])}

    def export_endpoints(self):
        rng = np.random.RandomState(0)
        x_example = (rng.uniform(size=(2, self.input_size)) < 0.15).astype(np.float32)
        x = tf.TensorSpec([None, self.input_size], tf.float32, name="x")
        scalar = {name: tf.TensorSpec([], tf.int32, name=name) for name in ("num_samples", "steps", "seed")}
        hidden = Endpoint(self._serve_hidden, [x], {"x": x_example}, "binary x (B, V) -> p(h = 1 | x) (B, H)")
        return {
            "serving_default": hidden,
            "hidden_probabilities": hidden,
            "free_energy": Endpoint(self._serve_free_energy, [x], {"x": x_example},
                                    "binary x -> free energy F(x) = -log sum_h exp(-E(x, h)) (nats)"),
            "sample": Endpoint(self._serve_sample, [scalar["num_samples"], scalar["steps"], scalar["seed"]],
                               {"num_samples": np.int32(3), "steps": np.int32(5), "seed": np.int32(7)},
                               f"num_samples in [1, {MAX_SAMPLES}], steps in [0, {MAX_GIBBS_STEPS}], seed -> Gibbs "
                               "samples after `steps` sweeps from the base-rate model, and p(v | h) of the last"),
            "log_prob": Endpoint(self._serve_log_prob, [x], {"x": x_example},
                                 "binary x -> log p(x) = -F(x) - log Z (nats) with the AIS log Z frozen at export "
                                 "(card: metrics.test_log_z) and its +-3 std interval; NaN if never estimated"),
        }

    def get_config(self):
        config = super().get_config()
        config.pop("visible_size")
        return {**config, "input_size": self.input_size}
