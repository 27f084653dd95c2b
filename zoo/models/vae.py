"""Variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014) and its
importance-weighted variant (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
ICLR 2016), for binary images.

Generative story: z ~ N(0, I_D); x | z ~ Bernoulli(sigmoid(f(z))), with f an MLP or a
transposed-convolution net. Inference: q(z|x) = N(mu(x), diag(sigma(x)^2)), reparameterised.
Training maximises the ELBO (k = 1) or the IWAE bound L_k (k > 1) with ``model.fit``.

Expected numbers on statically binarised MNIST (test NLL by importance sampling, k = 5000):
Burda et al. report 88.71 (VAE) and 87.10 (IWAE, k = 50) for this binarisation; the measured
numbers of the shipped models are in their cards.
"""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.data.validation import MAX_SERVED_SAMPLES, Binary, Range, check_binary, check_feature_size
from zoo.export.endpoint import Endpoint
from zoo.registry import register_model
from zoo.layers import DiagonalGaussianHead, LogitsHead, conv_decoder, conv_encoder, mlp
from zoo.models.latent import LatentVariableModel
from zoo.objectives import iwae_bound, log_likelihood

tfd = tfp.distributions


@register_model
class VAE(LatentVariableModel):
    """Bernoulli-decoder VAE / IWAE over flat binary vectors x (B, input_size).

    Args:
      input_size: pixels per image (784 for MNIST).
      latent_dim: D (50 in Burda et al.).
      hidden_units: MLP widths of the encoder; the decoder mirrors them (500, 500 in the papers).
      activation: of the hidden layers ("tanh" as in Burda et al.; None with ``gated``).
      gated: MLP blocks are ``GatedDense`` (Tomczak & Welling 2018) instead of Dense.
      architecture: "mlp" or "conv".
      image_shape: (H, W, C) for the conv nets; H * W * C == input_size.
      conv_filters: filters per strided convolution (conv only).
      num_importance_samples, analytic_kl, seed: see ``LatentVariableModel``.
    """

    def __init__(self, input_size=784, latent_dim=50, hidden_units=(500, 500), activation="tanh",
                 architecture="mlp", image_shape=(28, 28, 1), conv_filters=(32, 64), num_importance_samples=1,
                 analytic_kl=True, seed=None, gated=False, **kwargs):
        super().__init__(latent_dim=latent_dim, num_importance_samples=num_importance_samples,
                         analytic_kl=analytic_kl, seed=seed, **kwargs)
        self.input_size = int(input_size)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.architecture = architecture
        self.image_shape = tuple(int(s) for s in image_shape)
        self.conv_filters = tuple(int(f) for f in conv_filters)
        self.gated = bool(gated)
        if architecture == "mlp":
            self.encoder_net = mlp(self.hidden_units, activation, name="encoder", gated=self.gated)
            self.decoder_net = mlp(self.hidden_units[::-1], activation, name="decoder", gated=self.gated)
            self.logits_head = LogitsHead(self.input_size, name="bernoulli_logits")
        elif architecture == "conv":
            if int(np.prod(self.image_shape)) != self.input_size:
                raise ValueError(f"image_shape {self.image_shape} does not hold input_size={self.input_size} pixels")
            self.encoder_net = conv_encoder(self.image_shape, self.conv_filters, self.hidden_units[-1], activation,
                                            name="encoder")
            self.decoder_net = conv_decoder(self.image_shape, self.conv_filters, activation, name="decoder")
            self.logits_head = None
        else:
            raise ValueError(f"architecture must be 'mlp' or 'conv', got {architecture!r}")
        self.posterior_head = DiagonalGaussianHead(self.latent_dim, name="posterior")

    def build(self, input_shape):
        self.encoder_net.build(input_shape)
        self.posterior_head.build(self.encoder_net.compute_output_shape(input_shape))
        self.decoder_net.build((None, self.latent_dim))
        if self.logits_head is not None:
            self.logits_head.build(self.decoder_net.compute_output_shape((None, self.latent_dim)))

    # === Networks ===
    def call(self, x, training=False):
        """x (B, input_size) -> (loc, scale) of q(z|x), each (B, D)."""
        return self.posterior_head(self.encoder_net(x, training=training))

    def decoder_logits(self, z):
        """z (..., D) -> Bernoulli logits (..., input_size); any leading dims (e.g. k samples)."""
        lead = tf.shape(z)[:-1]
        h = self.decoder_net(tf.reshape(z, [-1, self.latent_dim]))
        if self.logits_head is not None:
            h = self.logits_head(h)
        return tf.reshape(h, tf.concat([lead, [self.input_size]], axis=0))

    def likelihood(self, z):
        """p(x|z): independent Bernoulli pixels, batch shape = z's leading dims, event (input_size,)."""
        return tfd.Independent(tfd.Bernoulli(logits=self.decoder_logits(z), dtype=tf.float32), 1)

    # === Inference and generation (numpy or tensors in, tensors out) ===
    def _checked(self, x, what="x"):
        x = check_feature_size(check_binary(x, what), self.input_size, what)
        return tf.convert_to_tensor(x, tf.float32)

    def encode(self, x):
        """Binary images (B, input_size) -> (loc, scale) of q(z|x), each (B, D)."""
        return self(self._checked(x))

    def decode(self, z):
        """Latents (B, D) -> pixel probabilities (B, input_size)."""
        return tf.sigmoid(self.decoder_logits(tf.convert_to_tensor(z, tf.float32)))

    def reconstruct(self, x):
        """Pixel probabilities of p(x | z = posterior mean): (B, input_size)."""
        loc, _ = self.encode(x)
        return self.decode(loc)

    def sample(self, num_samples, seed=0):
        """Pixel probabilities of p(x|z) for z ~ p(z): (num_samples, input_size)."""
        z = self.prior().sample(num_samples, seed=tf.constant([seed, 0], tf.int32))
        return self.decode(z)

    def interpolate(self, x_start, x_end, steps=10):
        """Decodes the straight line between the posterior means of two images: (steps, input_size)."""
        loc, _ = self.encode(np.stack([np.asarray(x_start), np.asarray(x_end)]))
        t = tf.linspace(0.0, 1.0, steps)[:, None]
        return self.decode((1.0 - t) * loc[0] + t * loc[1])

    def measure(self, x, num_samples=5000, chunk_size=500, batch_size=100, seed=0, progress=None):
        """Test metrics in nats per image: the importance-sampled NLL with ``num_samples`` samples
        (Burda et al. 2016's k = 5000 protocol) and the single-sample ELBO, both averaged over x."""
        x = check_feature_size(check_binary(x, "x"), self.input_size, "x")
        log_px = log_likelihood(self, x, num_samples=num_samples, chunk_size=chunk_size, batch_size=batch_size,
                                seed=seed, progress=progress)
        elbos = [self._score(tf.constant(x[i:i + 1000], tf.float32), tf.constant(1), tf.constant(seed))["elbo"]
                 for i in range(0, len(x), 1000)]
        return {"nll": float(-log_px.mean()), "elbo": float(np.concatenate(elbos).mean()),
                "importance_samples": int(num_samples), "examples": int(len(x))}

    def diagnostics(self, x):
        """The base class's KL per dimension, plus 16 prior samples as images."""
        report = super().diagnostics(x)
        if int(np.prod(self.image_shape)) == self.input_size:
            report["images"] = {"prior_samples": tf.reshape(self.sample(16), (-1,) + self.image_shape)}
        return report

    # === Serving signatures (core TF ops only) ===
    def _score(self, x, num_samples, seed):
        posterior = self.posterior(x)
        z = posterior.sample(seed=tf.stack([seed, 1]))
        reconstruction = self.likelihood(z).log_prob(x)
        kl = tfd.kl_divergence(posterior, self.prior())
        log_w = self.log_importance_weights(x, num_samples, tf.stack([seed, 2]))
        return {"elbo": reconstruction - kl, "log_likelihood": iwae_bound(log_w)}

    def _serve_encode(self, x):
        loc, scale = self(x)
        return {"loc": loc, "scale": scale}

    def _serve_decode(self, z):
        logits = self.decoder_logits(z)
        return {"probs": tf.sigmoid(logits), "logits": logits}

    def _serve_reconstruct(self, x):
        loc, _ = self(x)
        return {"probs": tf.sigmoid(self.decoder_logits(loc))}

    def _serve_sample(self, num_samples, seed):
        z = self.prior().sample(num_samples, seed=tf.stack([seed, 0]))
        return {"probs": tf.sigmoid(self.decoder_logits(z)), "z": z}

    def export_endpoints(self):
        rng = np.random.RandomState(0)
        x_example = (rng.uniform(size=(2, self.input_size)) < 0.15).astype(np.float32)
        x = tf.TensorSpec([None, self.input_size], tf.float32, name="x")
        z = tf.TensorSpec([None, self.latent_dim], tf.float32, name="z")
        n = tf.TensorSpec([], tf.int32, name="num_samples")
        seed = tf.TensorSpec([], tf.int32, name="seed")
        images = {"x": Binary()}
        samples = {"num_samples": Range(int, 1, MAX_SERVED_SAMPLES)}
        encode = Endpoint(self._serve_encode, [x], {"x": x_example}, "binary images -> loc, scale of q(z|x)",
                          checks=images)
        return {
            "serving_default": encode,
            "encode": encode,
            "decode": Endpoint(self._serve_decode, [z], {"z": rng.normal(size=(2, self.latent_dim)).astype(np.float32)},
                               "latents -> Bernoulli pixel probabilities and logits"),
            "reconstruct": Endpoint(self._serve_reconstruct, [x], {"x": x_example},
                                    "binary images -> pixel probabilities at the posterior mean", checks=images),
            "sample": Endpoint(self._serve_sample, [n, seed], {"num_samples": np.int32(3), "seed": np.int32(7)},
                               "num_samples, seed -> prior samples z and their pixel probabilities", checks=samples),
            "score": Endpoint(self._score, [x, n, seed], {"x": x_example, "num_samples": np.int32(16),
                                                          "seed": np.int32(7)},
                              "binary images -> per-image ELBO and importance-sampled log p(x) (nats)",
                              checks={**images, **samples}),
        }

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "input_size": self.input_size, "hidden_units": list(self.hidden_units),
                "activation": self.activation, "architecture": self.architecture,
                "image_shape": list(self.image_shape), "conv_filters": list(self.conv_filters), "gated": self.gated}
