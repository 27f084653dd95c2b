"""The base of every amortised latent-variable model in the zoo: p(x, z) = p(z) p(x|z), q(z|x).

A subclass supplies three things, each returning parameters or ``tfd`` distributions:

    call(x)        -> (loc, scale) of q(z|x)        (a Keras layer output: tensors only)
    prior()        -> p(z)
    likelihood(z)  -> p(x|z), batch shape = z's leading dims

and inherits: ``posterior(x)``, the training objective in ``compute_loss`` (the ELBO, Kingma &
Welling 2014, or the IWAE bound with k samples, Burda et al. 2016), per-term trackers
(reconstruction, KL, ELBO), a KL weight for annealing, and ``log_importance_weights`` for the
importance-sampled log-likelihood (``zoo.objectives.log_likelihood``), and, with ``aggressive_steps > 0``,
He et al. (2019)'s aggressive inference-network updates (``zoo.models.aggressive``) on the variables
``inference_variables()`` names. The VAE, NVDM and the sentence VAE are all such subclasses.
"""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.objectives import active_units, elbo, iwae_bound, kl_term, log_importance_weights, mutual_information
from zoo.models.aggressive import aggressive_train_step, distribution_reason, inference_layer_variables
from zoo.models.seeding import step_seed
from zoo.objectives.replicas import per_replica_loss

tfd = tfp.distributions


class LatentVariableModel(keras.Model):
    """Base class. Args:

    latent_dim: D, the size of z.
    num_importance_samples: k. 1 trains on the ELBO; k > 1 on the IWAE bound L_k.
    analytic_kl: use the closed-form KL(q || p) in the ELBO (k = 1) where TFP has it.
    seed: seed of the model's own sampling in training (see ``zoo.models.seeding.step_seed``).
    aggressive_steps: 0 trains jointly; N > 0 starts in He et al. (2019)'s aggressive mode, at most N
        encoder-only steps before each decoder step (``zoo.models.aggressive``; theirs: 99), until the
        non-trainable variable ``aggressive`` is set to 0
        (``zoo.training.callbacks.AggressiveUntilInformationPlateaus``). The variable exists only when N > 0, so
        models saved without it load as before.
    """

    def __init__(self, latent_dim, num_importance_samples=1, analytic_kl=True, seed=None, aggressive_steps=0,
                 **kwargs):
        super().__init__(**kwargs)
        if num_importance_samples < 1:
            raise ValueError(f"num_importance_samples must be >= 1, got {num_importance_samples}")
        if aggressive_steps < 0:
            raise ValueError(f"aggressive_steps must be >= 0, got {aggressive_steps}")
        self.latent_dim = int(latent_dim)
        self.num_importance_samples = int(num_importance_samples)
        self.analytic_kl = bool(analytic_kl)
        self.seed = seed
        self.aggressive_steps = int(aggressive_steps)
        self.kl_weight = keras.Variable(1.0, trainable=False, dtype="float32", name="kl_weight")
        if self.aggressive_steps:
            self.aggressive = keras.Variable(1.0, trainable=False, dtype="float32", name="aggressive")
            self.encoder_steps_tracker = keras.metrics.Mean(name="encoder_steps")
        self.seed_generator = keras.random.SeedGenerator(seed, name="training_noise")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")

    # === Distributions ===
    def prior(self):
        """p(z) = N(0, I), event shape (D,)."""
        return tfd.Independent(tfd.Normal(tf.zeros([self.latent_dim]), tf.ones([self.latent_dim])), 1)

    def posterior_from_params(self, params):
        """(loc (B, D), scale (B, D)) -> q(z|x), a diagonal Gaussian with batch shape (B,)."""
        loc, scale = params
        return tfd.Independent(tfd.Normal(loc, scale), 1)

    def posterior(self, x):
        return self.posterior_from_params(self(x))

    def likelihood(self, z):
        raise NotImplementedError

    # === Objective ===
    def objective_terms(self, x, posterior, seed, training=False):
        """Per-example terms, each (B,): reconstruction E_q log p(x|z), kl, elbo, and ``bound``, the
        quantity trained on (the ELBO with the annealed KL weight for k = 1, L_k for k > 1). ``training``
        lets a subclass corrupt its inputs or reshape the trained bound (the sentence VAE's word dropout and
        free bits); the reported ELBO stays the plain one."""
        prior = self.prior()
        k = self.num_importance_samples
        if k == 1:
            z = posterior.sample(seed=seed)
            reconstruction = self.likelihood(z).log_prob(x)
            kl = kl_term(posterior, prior, z, analytic=self.analytic_kl)
            return {"reconstruction": reconstruction, "kl": kl, "elbo": elbo(reconstruction, kl),
                    "bound": elbo(reconstruction, kl, self.kl_weight)}
        z = posterior.sample(k, seed=seed)  # (k, B, D)
        log_px_z = self.likelihood(z).log_prob(x)  # (k, B)
        log_w = log_importance_weights(log_px_z, prior, posterior, z, self.kl_weight)
        reconstruction = tf.reduce_mean(log_px_z, axis=0)
        kl = tf.reduce_mean(posterior.log_prob(z) - prior.log_prob(z), axis=0)
        return {"reconstruction": reconstruction, "kl": kl, "elbo": reconstruction - kl, "bound": iwae_bound(log_w)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-mean(bound) over the batch, plus any layer losses; updates the term trackers."""
        loss, terms = self.trained_loss(x, y_pred, step_seed(self), training)
        loss = per_replica_loss(loss)
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.kl_tracker.update_state(terms["kl"])
        self.elbo_tracker.update_state(terms["elbo"])
        self.track_terms(x, terms)
        return loss

    def trained_loss(self, x, y_pred, seed, training=True):
        """(-mean(bound) of batch x plus any layer losses, the per-example terms): the quantity trained on, from
        the posterior parameters ``y_pred`` = ``self(x)`` and the noise ``seed``; no metric updated."""
        terms = self.objective_terms(x, self.posterior_from_params(y_pred), seed, training=training)
        loss = -tf.reduce_mean(terms["bound"])
        if self.losses:
            loss += tf.add_n(self.losses)
        return loss, terms

    def track_terms(self, x, terms):
        """Hook for a subclass's own metrics of the per-example terms (e.g. NVDM's log perplexity)."""

    # === Training: joint, or aggressive (He et al. 2019) ===
    def train_step(self, data):
        if not self.aggressive_steps:
            return super().train_step(data)
        return aggressive_train_step(self, data)

    def inference_variables(self):
        """The inference network's trainable variables (what q(z|x) alone depends on): the only ones the
        aggressive inner steps update. Default: the layers named ``encoder*`` and ``posterior*``, less any
        variable another layer shares (a subclass with other names overrides this)."""
        return inference_layer_variables(self)

    @property
    def distribution_unsupported(self):
        return distribution_reason(self)

    def log_importance_weights(self, x, num_samples, seed):
        """log p(x, z_i) - log q(z_i|x) for z_i ~ q(z|x): (num_samples, B). ``seed``: (2,) int32."""
        posterior = self.posterior(x)
        z = posterior.sample(num_samples, seed=seed)
        return log_importance_weights(self.likelihood(z).log_prob(x), self.prior(), posterior, z)

    # === Diagnostics (TensorBoard, per epoch) ===
    def diagnostics(self, x):
        """Collapse diagnostics of a batch x: KL(q(z_d|x) || p(z_d)) of each latent dimension d averaged over
        x, the units with KL above 0.01 nats (``active_units``), the active units by the variance of the
        posterior mean (Burda et al. 2016, ``active_units_variance``) and I(x; z) (He et al. 2019)."""
        posterior, prior = self.posterior(x), self.prior()
        kl = tf.reduce_mean(tfd.kl_divergence(posterior.distribution, prior.distribution), axis=0)
        units, variance = active_units(posterior.mean())
        return {"scalars": {"active_units": tf.reduce_sum(tf.cast(kl > 0.01, tf.int32)),
                            "active_units_variance": units,
                            "mutual_information": mutual_information(posterior, tf.constant([0, 11]))},
                "histograms": {"kl_per_dimension": kl, "posterior_mean_variance": variance}}

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "num_importance_samples": self.num_importance_samples, "analytic_kl": self.analytic_kl,
                "seed": self.seed, "aggressive_steps": self.aggressive_steps}
