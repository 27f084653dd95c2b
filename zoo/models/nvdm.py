"""Neural Variational Document Model (Miao, Yu & Blunsom, "Neural Variational Inference for Text
Processing", ICML 2016), a ``LatentVariableModel`` over bags of words.

Generative story: h ~ N(0, I_D); each word w_i of document d ~ softmax(R h + b) (eq. 4, 5), so
log p(d | h) = sum_w n_dw log softmax(R h + b)_w: the token-sequence probability, with no multinomial
coefficient (``zoo.models.documents.BagOfWordsLikelihood``), exactly the authors' ``recons_loss``.
Inference: q(h | d) = N(mu(d), diag sigma(d)^2) from an MLP over the counts (500 units, one layer).
Training maximises the ELBO with the analytic KL (or L_k with k samples), jointly, or alternating
encoder and decoder updates as in the paper (``alternating=True``; Sec. 3.1: "we alternately optimise
the generative model and the inference network by fixing the parameters of one while optimising the
parameters of the other").

Perplexity (``measure``), as the paper (Sec. 4.1): exp(mean_d -log p(d) / N_d) with the ELBO in
place of log p(d) (``perplexity``); beside it the importance-sampled estimate of log p(d), a tighter
bound (``is_perplexity``), and the corpus-level figures exp(-sum log p(d) / sum N_d).

Expected on 20News (2,000 words; test 7,505 documents): paper NVDM-50 836, NVDM-200 852; the
zoo's goals are <= 800 and <= 820. Measured with the shipped recipes: NVDM-50 860.8 (importance-sampled
790.5), NVDM-200 905.0 (795.1): the goals are missed on the paper's ELBO protocol; docs/documents.md.

Speed: what matters on CPU is many steps per compiled call (``steps_per_execution`` in the recipes:
8.6 vs 17.2 ms per step of 64 documents at one step per call, bench/documents.py). A sparse first
encoder layer (``sparse_input=True``: about 100 non-zeros of 2,000 per document) computes the same
numbers but was slower than oneDNN's dense matmul here (17.3 ms), so the default is dense; the shipped
artifacts were trained with it on (their configs keep it: same numbers).
"""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.data.validation import MAX_SERVED_SAMPLES, Range
from zoo.registry import register_model
from zoo.layers import DiagonalGaussianHead, mlp
from zoo.models.aggressive import split_variables
from zoo.models.documents import BagOfWordsLikelihood, DocumentModel
from zoo.models.latent import LatentVariableModel
from zoo.objectives import iwae_bound, kl_term, log_likelihood

tfd = tfp.distributions


@register_model
class NVDM(DocumentModel, LatentVariableModel):
    """NVDM over (B, vocab_size) word counts.

    Args:
      vocab_size: V (2,000 for the NVDM 20News files).
      latent_dim: D (50 or 200 in the paper).
      hidden_units: encoder MLP widths ((500,) in the paper).
      activation: of the encoder ("relu"; the authors' code uses tanh).
      vocabulary: the V words (for topics and the text signature); set from the data when training.
      alternating: the paper's alternating updates: ``alternate_steps`` optimizer steps on the decoder
        only, then as many on the encoder only, and so on; False: joint updates of both.
      encoder_dropout: dropout on the encoder's hidden layer in training (0 = none).
      input_dropout: dropout on the encoder's input (word features) in training (0 = none); the
        reconstruction term still scores every word, so the bound is unchanged at evaluation.
      sparse_input: the first encoder layer as a sparse-dense matmul (same numbers; slower than the dense
        matmul on this machine's CPU, see the module doc).
      log_input: the encoder reads log(1 + n_dw) instead of the raw counts n_dw (the paper's), which keeps
        long documents from saturating it; the decoder and the bound are unchanged.
      num_importance_samples, analytic_kl, seed: see ``LatentVariableModel``.
    """

    topic_label = "dim"
    encode_doc = "bag of words (B, V) counts -> loc, scale of q(h|d)"

    def __init__(self, vocab_size=2000, latent_dim=50, hidden_units=(500,), activation="relu", vocabulary=None,
                 alternating=False, alternate_steps=1000, encoder_dropout=0.0, input_dropout=0.0, sparse_input=False,
                 log_input=False,
                 num_importance_samples=1, analytic_kl=True, seed=None, **kwargs):
        super().__init__(latent_dim=latent_dim, num_importance_samples=num_importance_samples,
                         analytic_kl=analytic_kl, seed=seed, **kwargs)
        self._init_vocabulary(vocab_size, vocabulary)
        if not hidden_units:
            raise ValueError("NVDM needs at least one encoder layer (hidden_units=(500,) in the paper)")
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.alternating = bool(alternating)
        self.alternate_steps = int(alternate_steps)
        self.encoder_dropout = float(encoder_dropout)
        self.sparse_input = bool(sparse_input)
        self.log_input = bool(log_input)
        self.encoder_input = keras.layers.Dense(self.hidden_units[0], activation=activation, name="encoder_input")
        self.encoder_net = mlp(self.hidden_units[1:], activation, name="encoder") if len(self.hidden_units) > 1 else None
        self.dropout = keras.layers.Dropout(self.encoder_dropout, seed=seed) if self.encoder_dropout else None
        self.input_dropout = float(input_dropout)
        self.word_dropout = keras.layers.Dropout(self.input_dropout, seed=seed) if self.input_dropout else None
        self.posterior_head = DiagonalGaussianHead(self.latent_dim, name="posterior")
        self.decoder = keras.layers.Dense(self.vocab_size, name="decoder")  # R (D, V) and b (V,)
        # mean over documents of -ELBO_d / N_d: exp of it is the paper's perplexity (val_log_perplexity
        # picks the best epoch on held-out training documents)
        self.log_perplexity_tracker = keras.metrics.Mean(name="log_perplexity")

    def build(self, input_shape):
        self.encoder_input.build(input_shape)
        width = self.hidden_units[0]
        if self.encoder_net is not None:
            self.encoder_net.build((None, width))
            width = self.hidden_units[-1]
        self.posterior_head.build((None, width))
        self.decoder.build((None, self.latent_dim))

    def prepare_for_data(self, splits):
        """Vocabulary from the data, and the decoder bias set to the log unigram frequencies of train
        (the softmax starts at the maximum-likelihood unigram model; R starts near 0 as usual)."""
        super().prepare_for_data(splits)
        if not self.built:
            self.build((None, self.vocab_size))
        frequencies = np.asarray(splits["train"], np.float64).sum(0) + 1.0
        self.decoder.bias.assign(np.log(frequencies / frequencies.sum()).astype(np.float32))

    # === Networks ===
    def call(self, x, training=False):
        """x (B, V) counts -> (loc, scale) of q(h|d), each (B, D)."""
        x = tf.convert_to_tensor(x, tf.float32)
        if self.log_input:
            x = tf.math.log1p(x)
        if self.word_dropout is not None:  # the encoder's input only; the bound still reconstructs every word
            x = self.word_dropout(x, training=training)
        if self.sparse_input:
            layer = self.encoder_input
            h = tf.sparse.sparse_dense_matmul(tf.sparse.from_dense(x), layer.kernel) + layer.bias
            h = keras.activations.get(self.activation)(h)
        else:
            h = self.encoder_input(x)
        if self.encoder_net is not None:
            h = self.encoder_net(h, training=training)
        if self.dropout is not None:
            h = self.dropout(h, training=training)
        return self.posterior_head(h)

    def decoder_logits(self, z):
        """z (..., D) -> softmax logits over the vocabulary (..., V)."""
        lead = tf.shape(z)[:-1]
        logits = self.decoder(tf.reshape(z, [-1, self.latent_dim]))
        return tf.reshape(logits, tf.concat([lead, [self.vocab_size]], axis=0))

    def likelihood(self, z):
        """p(d|h): ``BagOfWordsLikelihood`` (sequence probability), batch shape = z's leading dims."""
        return BagOfWordsLikelihood(self.decoder_logits(z))

    def topic_word_scores(self):
        """R (D, V): row j is latent dimension j's direction in word-logit space."""
        return tf.convert_to_tensor(self.decoder.kernel)

    def track_terms(self, x, terms):
        self.log_perplexity_tracker.update_state(-terms["elbo"] / tf.maximum(tf.reduce_sum(x, axis=-1), 1.0))

    # === Training: joint or alternating updates ===
    def train_step(self, data):
        if not self.alternating:
            return super().train_step(data)
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y_pred=y_pred, training=True)
        encoder, decoder = split_variables(self)
        grads = tape.gradient(loss, encoder + decoder)
        encoder_grads, decoder_grads = grads[:len(encoder)], grads[len(encoder):]
        if not self.optimizer.built:  # both groups' slots, before either branch applies
            self.optimizer.build(encoder + decoder)
        phase = (self.optimizer.iterations // self.alternate_steps) % 2

        def update(grads_, vars_):
            def fn():
                self.optimizer.apply(grads_, vars_)
                return tf.constant(0)
            return fn

        tf.cond(tf.equal(phase, 0), update(decoder_grads, decoder), update(encoder_grads, encoder))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, None, y_pred)

    # === Inference (numpy or tensors in) ===
    def encode(self, x):
        """Counts (B, V) -> (loc, scale) of q(h|d)."""
        return self(self._counts(x))

    def document_bounds(self, x, num_samples=1, elbo_samples=1, seed=0):
        """Per-document, for counts x (B, V): "elbo" (analytic KL; reconstruction averaged over
        ``elbo_samples`` draws: the same expectation, less noise) and "log_likelihood", the IS estimate
        L_k with k = ``num_samples``; (B,) tensors, nats."""
        return self._bounds(tf.convert_to_tensor(x, tf.float32), tf.constant(num_samples), tf.constant(elbo_samples),
                            tf.constant(seed))

    def _bounds(self, x, num_samples, elbo_samples, seed):
        posterior = self.posterior(x)
        z = posterior.sample(elbo_samples, seed=tf.stack([seed, 1]))
        reconstruction = tf.reduce_mean(self.likelihood(z).log_prob(x), axis=0)
        kl = kl_term(posterior, self.prior(), z)  # analytic where TFP has it, else averaged over the samples
        elbo = reconstruction - (tf.reduce_mean(kl, axis=0) if kl.shape.rank == 2 else kl)
        return {"elbo": elbo, "log_likelihood": iwae_bound(self.log_importance_weights(x, num_samples,
                                                                                      tf.stack([seed, 2])))}

    def posterior_mean(self, x):
        """E_q[h | d] (B, D): the posterior means the active-unit count reads."""
        return self.posterior(x).mean()

    def refined_elbo(self, x, steps=100, learning_rate=0.05, elbo_samples=20, seed=0):
        """The ELBO with q(h|d) refined per document: starting from the encoder's (loc, scale), ``steps``
        Adam steps on the document's own one-sample ELBO (Krishnan et al. 2018's iterative refinement;
        LDA's E-step does the same for its q(theta)). Still a lower bound on log p(d), tighter than the
        amortised one; (B,) tensor. The model's weights are untouched."""
        x = tf.convert_to_tensor(x, tf.float32)
        loc0, scale0 = self(x)
        loc = tf.Variable(loc0)
        raw = tf.Variable(tf.math.log(tf.math.expm1(tf.maximum(scale0 - self.posterior_head.min_scale, 1e-6))))
        optimizer = keras.optimizers.Adam(learning_rate)

        def posterior():
            return tfd.Independent(tfd.Normal(loc, tf.nn.softplus(raw) + self.posterior_head.min_scale), 1)

        @tf.function
        def step(i):
            with tf.GradientTape() as tape:
                q = posterior()
                z = q.sample(seed=tf.stack([seed, i]))
                loss = -tf.reduce_sum(self.likelihood(z).log_prob(x) - tfd.kl_divergence(q, self.prior()))
            optimizer.apply(tape.gradient(loss, [loc, raw]), [loc, raw])

        for i in range(steps):
            step(tf.constant(i))
        q = posterior()
        z = q.sample(elbo_samples, seed=tf.stack([seed, -1]))
        return tf.reduce_mean(self.likelihood(z).log_prob(x), axis=0) - tfd.kl_divergence(q, self.prior())

    def measure(self, x, labels=None, num_samples=100, elbo_samples=20, chunk_size=100, batch_size=500, seed=0,
                coherence_words=10, refine_steps=0, progress=None):
        """Test metrics on counts x (N, V):

        perplexity / corpus_perplexity: the paper's protocol, exp(mean_d -ELBO_d / N_d), and
          exp(-sum ELBO / sum N);
        is_perplexity / is_corpus_perplexity: the same with the importance-sampled log p(d)
          (k = ``num_samples``), a tighter bound;
        elbo, log_likelihood: mean nats per document; npmi: coherence of the top words of every latent
        dimension on x; active_units: dimensions whose posterior mean varies (Cov > 0.01, Burda et al.).
        refined_perplexity (with ``refine_steps`` > 0): the ELBO with q refined per document
          (``refined_elbo``), a third, tighter bound; not the paper's protocol, named apart.
        ``labels`` is accepted and unused (the training path passes it to every document model).
        """
        x, lengths = self._test_documents(x)
        elbos, means = [], []
        for start in range(0, len(x), batch_size):
            xb = tf.constant(x[start:start + batch_size])
            elbos.append(self.document_bounds(xb, 1, elbo_samples, seed + start)["elbo"].numpy())
            means.append(self.posterior_mean(xb).numpy())
        elbo = np.concatenate(elbos).astype(np.float64)
        log_px = log_likelihood(self, x, num_samples=num_samples, chunk_size=chunk_size, batch_size=batch_size,
                                seed=seed, progress=progress)
        means = np.concatenate(means)
        refined = {}
        if refine_steps:
            values = np.concatenate([self.refined_elbo(x[s:s + batch_size], refine_steps, seed=seed + s).numpy()
                                     for s in range(0, len(x), batch_size)]).astype(np.float64)
            refined = {**self.perplexity_metrics(values, lengths, "refined_"), "refined_elbo": float(values.mean()),
                       "refine_steps": int(refine_steps)}
        return {**refined, **self.perplexity_metrics(elbo, lengths), **self.perplexity_metrics(log_px, lengths, "is_"),
                "elbo": float(elbo.mean()), "log_likelihood": float(log_px.mean()),
                "importance_samples": int(num_samples), "documents": int(len(x)), "tokens": int(lengths.sum()),
                "active_units": int((means.var(0) > 0.01).sum()),
                **{k: v for k, v in self.coherence(x, coherence_words).items() if k == "npmi"}}

    # === Serving signatures (core TF ops only) ===
    def _serve_encode(self, counts):
        loc, scale = self(counts)
        return {"loc": loc, "scale": scale}

    def _serve_score(self, counts, num_samples, seed):
        bounds = self._bounds(counts, num_samples, tf.constant(1), seed)
        length = tf.reduce_sum(counts, axis=1)
        return {"elbo": bounds["elbo"], "log_likelihood": bounds["log_likelihood"], "length": length,
                "perplexity": tf.exp(-bounds["elbo"] / length),
                "is_perplexity": tf.exp(-bounds["log_likelihood"] / length)}

    def export_endpoints(self):
        return self.document_endpoints(
            self.encode_doc,
            "bag of words -> per-document ELBO and importance-sampled log p(d) (nats), length, and the "
            "per-document perplexities exp(-bound / N_d)",
            score_inputs=((tf.TensorSpec([], tf.int32, name="num_samples"), np.int32(8)),
                          (tf.TensorSpec([], tf.int32, name="seed"), np.int32(3))),
            score_checks={"num_samples": Range(int, 1, MAX_SERVED_SAMPLES)})

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "hidden_units": list(self.hidden_units),
                "activation": self.activation, "vocabulary": list(self.vocabulary) if self.vocabulary else None,
                "alternating": self.alternating, "alternate_steps": self.alternate_steps,
                "encoder_dropout": self.encoder_dropout, "input_dropout": self.input_dropout,
                "sparse_input": self.sparse_input,
                "log_input": self.log_input}
