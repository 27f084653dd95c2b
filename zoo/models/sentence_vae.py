"""Sentence VAE (Bowman, Vilnis, Vinyals, Dai, Jozefowicz & Bengio, "Generating Sentences from a Continuous
Space", CoNLL 2016), a ``LatentVariableModel`` over sentences.

Generative story: z ~ N(0, I_D); the decoder LSTM starts from a state computed from z (and, as an option,
reads z beside every input word) and emits the sentence word by word, ``<eos>`` last:
log p(x | z) = sum_t log p(x_t | x_<t, z). Inference: q(z | x) = N(mu(x), diag sigma(x)^2) from the encoder
LSTM's last state. Training: the ELBO with teacher forcing, and the posterior-collapse toolkit, each a config
value backed by shared code: KL annealing (``zoo.objectives`` linear / logistic / cyclical schedules through the
recipe's ``kl_schedule``), word dropout on the decoder inputs (``zoo.objectives.word_dropout``; rate 1 is the
inputless decoder), free bits per dimension, per dimension of each example or in total
(``zoo.objectives.free_bits_kl``), aggressive inference-network updates (He, Spokoyny, Neubig & Berg-Kirkpatrick,
ICLR 2019: ``aggressive_steps``, ``zoo.models.aggressive``; the inference network is the encoder LSTM and the
posterior head, the shared embedding stays with the decoder) and autoencoder pre-training (Li, He, Neubig,
Berg-Kirkpatrick & Yang, EMNLP 2019: recipes ``sentence_ae_ptb`` then ``sentence_vae_ptb``, whose
``init_from`` / ``reinitialize`` keep the autoencoder's encoder and re-draw the decoder).

Inputs: (B, L) token ids padded with -1 (``zoo.data.sentences``), float32 as every "rows" array.
Evaluation (``measure``): per-sentence NLL by importance sampling (the shared ``log_likelihood``), KL, ELBO,
and the word perplexity exp(sum NLL / sum tokens), ``<eos>`` counted as a token (Bowman's Table 2: RNNLM test
NLL 100 / PPL 116; VAE NLL 101 with KL 2 / PPL 119, on PTB).

Shipped ``sentence-vae-ptb-bowman`` (``recipes/sentence_vae_ptb_bowman.py``, Bowman's sizes, float16 weights): test
NLL 104.15 (k=100), KL 3.98, PPL 115.8; ``bench/results/sentence_vae.json``, docs/sentence_vae.md.
"""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.data.pipeline import length_order
from zoo.data.sentences import PAD
from zoo.data.text import END_OF_SENTENCE
from zoo.data.validation import MAX_SERVED_SAMPLES, Range
from zoo.decoding import decode
from zoo.decoding.params import check_all
from zoo.export.endpoint import Endpoint
from zoo.layers import DiagonalGaussianHead
from zoo.layers.recurrent import RecurrentStack
from zoo.models.latent import LatentVariableModel
from zoo.models.token_model import (TokenModel, padded_ids_and_mask, sentence_metrics, teacher_forcing_inputs,
                                    token_log_probs, trim_padding)
from zoo.objectives import active_units, free_bits_kl, log_likelihood, set_mutual_information, word_dropout
from zoo.objectives.free_bits import MODES as FREE_BITS_MODES
from zoo.registry import register_model

tfd = tfp.distributions


class SentenceLikelihood:
    """p(x | z) of a batch of sentences under the decoder, by teacher forcing: ``log_prob(x)`` with x (B, L)
    padded ids and z (..., B, D) gives (..., B) summed token log-probabilities (padding excluded)."""

    def __init__(self, model, z):
        self.model, self.z = model, z

    def log_prob(self, x):
        z = tf.convert_to_tensor(self.z)
        lead = tf.shape(z)[:-2]  # the sample dims in front of the batch
        flat_z = tf.reshape(z, [-1, self.model.latent_dim])
        ids, mask = self.model.ids_and_mask(x)
        copies = tf.shape(flat_z)[0] // tf.shape(ids)[0]
        tiled_ids, tiled_mask = tf.tile(ids, [copies, 1]), tf.tile(mask, [copies, 1])
        logits = self.model.decoder_logits(flat_z, self.model.decoder_inputs(tiled_ids))
        log_probs = token_log_probs(tiled_ids, logits) * tf.cast(tiled_mask, tf.float32)
        return tf.reshape(tf.reduce_sum(log_probs, axis=1), tf.concat([lead, tf.shape(ids)[:1]], 0))


@register_model
class SentenceVAE(TokenModel, LatentVariableModel):
    """Sentences (B, L) padded ids -> (loc, scale) of q(z | x).

    Args:
      vocab_size: V (10,000 for PTB).
      latent_dim: D (Bowman's language-modelling configuration: 13).
      embedding_dim, hidden_units, num_layers: of the shared embedding and both LSTMs (Bowman: 353, 191, 1).
      z_to_inputs: also feed z beside every decoder input embedding (the initial state always comes from z).
      word_dropout: rate of replacing decoder inputs by ``<unk>`` in training (0 ... 1).
      dropout: rate of (Zaremba et al. 2014) dropout on the decoder LSTM's input embeddings and its output
        before the softmax, in training (the later PTB literature's 0.5; Bowman's configuration: 0).
      free_bits: lambda nats of KL that cost nothing in training; free_bits_mode "dimension", "total" or
        "example_dimension" (``zoo.objectives.free_bits``).
      vocabulary: a ``zoo.data.text.Vocabulary`` config (word level; set from the data when None).
      max_tokens: the longest sentence the serving signatures read or write.
      num_importance_samples, analytic_kl, seed, aggressive_steps: see ``LatentVariableModel``.
    """

    def __init__(self, vocab_size, latent_dim=13, embedding_dim=353, hidden_units=191, num_layers=1,
                 z_to_inputs=False, word_dropout=0.0, dropout=0.0, free_bits=0.0, free_bits_mode="dimension",
                 vocabulary=None, max_tokens=100, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)
        if not 0.0 <= word_dropout <= 1.0:
            raise ValueError(f"word_dropout must be in [0, 1], got {word_dropout}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if free_bits < 0 or free_bits_mode not in FREE_BITS_MODES:
            raise ValueError(f"free_bits must be >= 0 and free_bits_mode one of {FREE_BITS_MODES}, got "
                             f"{free_bits}, {free_bits_mode!r}")
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.hidden_units, self.num_layers, self.z_to_inputs = int(hidden_units), int(num_layers), bool(z_to_inputs)
        self.word_dropout, self.free_bits, self.free_bits_mode = float(word_dropout), float(free_bits), free_bits_mode
        self.dropout, self.max_tokens = float(dropout), int(max_tokens)
        self._init_vocabulary(vocabulary)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, name="embedding")
        self.encoder = RecurrentStack(self.hidden_units, self.num_layers, name="encoder")
        self.posterior_head = DiagonalGaussianHead(self.latent_dim, name="posterior")
        self.decoder = RecurrentStack(self.hidden_units, self.num_layers, dropout=self.dropout, name="decoder")
        self.initial_state_layer = keras.layers.Dense(2 * self.num_layers * self.hidden_units, activation="tanh",
                                                      name="z_to_state")
        self.output_layer = keras.layers.Dense(self.vocab_size, name="softmax")
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.embedding.build((None, None))
        self.encoder.build((None, None, self.embedding_dim))
        self.posterior_head.build((None, self.hidden_units))
        self.decoder.build((None, None, self.embedding_dim + (self.latent_dim if self.z_to_inputs else 0)))
        self.initial_state_layer.build((None, self.latent_dim))
        self.output_layer.build((None, self.hidden_units))
        self.built = True

    # === Inputs ===
    ids_and_mask = staticmethod(padded_ids_and_mask)
    trim_padding = staticmethod(trim_padding)

    @property
    def start_id(self):
        """The decoder's first input: ``<eos>`` (the boundary a sentence starts after, as in the LMs)."""
        return self._require_vocabulary().ids[END_OF_SENTENCE]

    def decoder_inputs(self, ids):
        """Teacher forcing: the start token, then every target but the last. ids (B, L) -> (B, L)."""
        return teacher_forcing_inputs(ids, self.start_id)

    # === Networks ===
    def call(self, x, training=False):
        """(loc, scale) of q(z | x): the encoder LSTM's top-layer output at each sentence's last token."""
        ids, mask = self.ids_and_mask(x)
        hidden, _ = self.encoder(self.embedding(ids), training=training)  # no mask: positions <= t read only x_<=t
        last = tf.maximum(tf.reduce_sum(tf.cast(mask, tf.int32), axis=1) - 1, 0)
        return self.posterior_head(tf.gather(hidden, last, batch_dims=1))

    def initial_state(self, z):
        """z (B, D) -> the decoder's state tuple ((h, c) per layer)."""
        return tuple(tf.split(self.initial_state_layer(z), 2 * self.num_layers, axis=-1))

    def _decoder_input(self, ids, z):
        x = self.embedding(ids)
        if not self.z_to_inputs:
            return x
        if x.shape.rank == 2:  # one step: (B, E)
            return tf.concat([x, z], axis=-1)
        return tf.concat([x, tf.tile(z[:, None, :], [1, tf.shape(x)[1], 1])], axis=-1)

    def decoder_logits(self, z, inputs, training=False, seed=None):
        """z (B, D), input ids (B, L) -> next-token logits (B, L, V); ``training`` with a (2,) ``seed`` applies
        the decoder's dropout."""
        hidden, _ = self.decoder(self._decoder_input(inputs, z), initial_state=self.initial_state(z),
                                 training=training, seed=seed)
        return self.output_layer(hidden)

    def likelihood(self, z):
        return SentenceLikelihood(self, z)

    def inference_variables(self):
        """The encoder LSTM and the posterior head. The word embedding, shared with the decoder, counts with the
        generative model, so aggressive inner steps leave p(x | z) exactly as it was (He et al.'s encoder has an
        embedding of its own)."""
        return self.encoder.trainable_variables + self.posterior_head.trainable_variables

    def log_importance_weights(self, x, num_samples, seed):
        return super().log_importance_weights(self.trim_padding(x), num_samples, seed)

    # === Objective ===
    def objective_terms(self, x, posterior, seed, training=False):
        """The ELBO terms (``LatentVariableModel``), with word dropout on the decoder inputs and free bits in
        the trained bound when training; the reported ELBO is always the plain one."""
        if self.num_importance_samples > 1 or not training:
            return super().objective_terms(x, posterior, seed, training)
        z = posterior.sample(seed=tf.random.experimental.stateless_fold_in(seed, 1))
        ids, mask = self.ids_and_mask(x)
        inputs = word_dropout(self.decoder_inputs(ids), self.word_dropout,
                              tf.random.experimental.stateless_fold_in(seed, 2))
        logits = self.decoder_logits(z, inputs, training=True, seed=tf.random.experimental.stateless_fold_in(seed, 3))
        log_probs = token_log_probs(ids, logits) * tf.cast(mask, tf.float32)
        reconstruction = tf.reduce_sum(log_probs, axis=1)
        kl_per_dimension = tfd.kl_divergence(posterior.distribution, self.prior().distribution)  # (B, D)
        kl = tf.reduce_sum(kl_per_dimension, axis=1)
        trained_kl = free_bits_kl(kl_per_dimension, self.free_bits, self.free_bits_mode)
        # mean(bound) = mean(reconstruction) - beta * trained_kl: free bits act on the batch-mean KL
        bound = reconstruction - self.kl_weight * (kl - tf.reduce_mean(kl) + trained_kl)
        return {"reconstruction": reconstruction, "kl": kl, "elbo": reconstruction - kl, "bound": bound}

    # === Evaluation ===
    def measure(self, x, num_samples=1000, chunk_size=50, batch_size=10, seed=0, progress=None):
        """Bowman's Table 2 figures on padded sentences x (N, L): NLL per sentence by importance sampling
        (``num_samples``), ELBO and KL per sentence, the word perplexity exp(sum NLL / sum tokens), and the
        collapse diagnostics: I(x; z) (He et al.'s estimator with the aggregate posterior over all of x,
        ``set_mutual_information``: batches of ``batch_size`` would cap it at log ``batch_size``) and the active
        units (Burda et al.). ``progress``: as in ``zoo.objectives.log_likelihood``.
        Memory: each chunk holds chunk_size x batch_size x L x V logits (50 x 10 x 83 x 10,000 floats, 1.7 GB, for
        PTB's longest sentences). The old defaults, 250 x 100, went past 2^31 elements, and TensorFlow's CPU
        softmax then read out of bounds and crashed the process (``zoo evaluate`` used them until it took the
        card's settings)."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or not len(x):
            raise ValueError(f"expected padded sentences (N, L), got shape {x.shape}")
        x = x[length_order(x, PAD)]  # batches of similar lengths: less padding
        log_px = log_likelihood(self, x, num_samples=num_samples, chunk_size=chunk_size, batch_size=batch_size,
                                seed=seed, progress=progress)
        return {**sentence_metrics(log_px.sum(), len(x), (x > PAD).sum()),
                **self.set_figures(x, batch_size=batch_size, seed=seed), "importance_samples": num_samples}

    def set_figures(self, x, batch_size=10, seed=0):
        """The posterior's figures over a whole set of padded sentences x (N, L), without importance sampling (the
        test figures; ``diagnostics``, inherited, is the per-epoch TensorBoard report of one batch): mean ELBO and KL
        per sentence, I(x; z) over the whole set (``set_mutual_information``) and the active units (Burda et
        al. 2016). The KL is exact; the ELBO and I(x; z) are one-draw estimates, fixed by ``seed`` (each batch's
        draws folded in from its position, so they are independent across batches: one seed for every batch of 10
        drew the same 10 noise vectors 376 times, and the shipped card's ELBO, -105.45, sat 0.45 nats below the
        estimate of independent draws)."""
        x = np.asarray(x, np.float32)
        x = x[length_order(x, PAD)]
        elbo, kl, means, scales = [], [], [], []
        for start in range(0, len(x), batch_size):
            batch = self.trim_padding(tf.constant(x[start:start + batch_size]))
            posterior = self.posterior(batch)
            batch_seed = tf.random.experimental.stateless_fold_in(tf.constant([seed, 7]), start)
            terms = super().objective_terms(batch, posterior, batch_seed)
            elbo.append(terms["elbo"].numpy())
            kl.append(terms["kl"].numpy())
            means.append(posterior.mean().numpy())
            scales.append(posterior.stddev().numpy())
        means = np.concatenate(means)
        units, _ = active_units(means)
        information = float(set_mutual_information(means, np.concatenate(scales), tf.constant([seed, 11])))
        return {"elbo": float(np.concatenate(elbo).mean()), "kl": float(np.concatenate(kl).mean()),
                "mutual_information": information, "active_units": int(units)}

    # === Generation ===
    def _step(self, tokens, state):
        """The decoding contract; the state is (decoder states..., z)."""
        *rnn_state, z = state
        hidden, rnn_state = self.decoder.step(self._decoder_input(tokens, z), tuple(rnn_state))
        return self.output_layer(hidden), (*rnn_state, z)

    def decode_latent(self, z, decoder="greedy", max_tokens=None, **params):
        """z (B, D) -> {"text" (B,) strings, "tokens", "lengths", "log_prob"} decoded by ``zoo.decoding``
        ("greedy", "sample" or "beam"), stopping at ``<eos>``; core TF ops only."""
        max_tokens = self.max_tokens if max_tokens is None else max_tokens
        z = tf.convert_to_tensor(z, tf.float32)
        start = tf.fill([tf.shape(z)[0]], self.start_id)
        result = decode(decoder, self._step, start, (*self.initial_state(z), z), max_tokens, eos_id=self.start_id,
                        **params)
        keep = tf.logical_and(tf.range(max_tokens)[None, :] < result["lengths"][:, None],
                              tf.not_equal(result["tokens"], self.start_id))
        text = self.vocabulary.graph_detokenize(tf.ragged.boolean_mask(result["tokens"], keep))
        return {"text": text, "tokens": result["tokens"], "lengths": result["lengths"], "log_prob": result["scores"]}

    def encode_text(self, sentences):
        """Strings (B,) -> padded ids (B, L) float32 with ``<eos>`` appended (graph-side, core ops)."""
        ids = self.vocabulary.graph_tokenize(sentences, self.lookup_table())
        eos = tf.fill([ids.nrows(), 1], self.start_id)
        ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        check = tf.debugging.assert_less_equal(tf.cast(ids.row_lengths(), tf.int32), self.max_tokens,
                                               message=f"sentence too long: the limit is {self.max_tokens} tokens")
        with tf.control_dependencies([check]):
            return tf.cast(ids.to_tensor(PAD), tf.float32)

    def reconstruct(self, sentences, decoder="greedy", **params):
        """Each sentence decoded from its posterior mean (Bowman's Table 3)."""
        loc, _ = self(self.encode_text(tf.constant(list(sentences))))
        return [t.decode("utf-8") for t in self.decode_latent(loc, decoder, **params)["text"].numpy()]

    def sample_sentences(self, num, seed=0, decoder="greedy", **params):
        """Sentences decoded from z ~ p(z)."""
        check_all(**params)
        z = self.prior().sample(int(num), seed=tf.constant([seed, 0]))
        return [t.decode("utf-8") for t in self.decode_latent(z, decoder, **params)["text"].numpy()]

    def homotopy(self, first, second, steps=5, decoder="greedy", max_tokens=None):
        """Sentences decoded (greedy) along the line between the posterior means of two sentences (Bowman's
        Table 8): ``steps`` + 2 points, the ends included."""
        z = self.line_between(tf.constant(first), tf.constant(second), steps)
        return [t.decode("utf-8") for t in self.decode_latent(z, decoder, max_tokens)["text"].numpy()]

    def line_between(self, first, second, steps):
        """Two sentences (scalar strings) -> (steps + 2, D) latents evenly spaced from the first's posterior
        mean to the second's."""
        loc, _ = self(self.encode_text(tf.stack([first, second])))
        weights = tf.linspace(0.0, 1.0, steps + 2)[:, None]
        return (1.0 - weights) * loc[0] + weights * loc[1]

    # === Export ===
    def export_resources(self):
        return [self.lookup_table()]

    def export_endpoints(self):
        text = tf.TensorSpec([None], tf.string, name="sentences")
        z = tf.TensorSpec([None, self.latent_dim], tf.float32, name="z")
        count = tf.TensorSpec([], tf.int32, name="num_samples")
        seed = tf.TensorSpec([], tf.int32, name="seed")
        words = self.vocabulary.tokens[1:]
        sentences = np.array([" ".join(words[:6]), " ".join(words[3:5])], dtype=object)
        zeros = np.zeros((2, self.latent_dim), np.float32)

        def texts(out):
            return {"text": out["text"], "log_prob": out["log_prob"]}

        def encode(sentences):
            loc, scale = self(self.encode_text(sentences))
            return {"loc": loc, "scale": scale}

        def sample(num_samples, seed):
            z = self.prior().sample(num_samples, seed=tf.stack([seed, 0]))
            return {**texts(self.decode_latent(z, "greedy")), "z": z}

        def interpolate(first, second, steps):
            z = self.line_between(first, second, steps)
            return {**texts(self.decode_latent(z, "greedy")), "z": z}

        def score(sentences, num_samples, seed):
            x = self.encode_text(sentences)
            ids, mask = self.ids_and_mask(x)
            posterior = self.posterior(x)
            terms = LatentVariableModel.objective_terms(self, x, posterior, tf.stack([seed, 1]))
            log_w = self.log_importance_weights(x, num_samples, tf.stack([seed, 2]))
            at_mean = token_log_probs(ids, self.decoder_logits(posterior.mean(), self.decoder_inputs(ids)))
            return {"elbo": terms["elbo"], "kl": terms["kl"], "tokens": tf.reduce_sum(tf.cast(mask, tf.int32), 1),
                    "log_likelihood": tf.reduce_logsumexp(log_w, 0) - tf.math.log(tf.cast(num_samples, tf.float32)),
                    "token_log_probs_at_mean": at_mean * tf.cast(mask, tf.float32)}

        samples = Range(int, 1, MAX_SERVED_SAMPLES)
        encode_endpoint = Endpoint(encode, [text], {"sentences": sentences},
                                   "sentences -> loc, scale of q(z|x) (words outside the vocabulary read as <unk>)")
        return {
            "serving_default": encode_endpoint, "encode": encode_endpoint,
            "decode": Endpoint(lambda z: texts(self.decode_latent(z, "greedy")), [z], {"z": zeros},
                               f"latents -> the greedy sentence (at most {self.max_tokens} tokens) and its log p"),
            "decode_beam": Endpoint(lambda z: texts(self.decode_latent(z, "beam", beam_width=4)), [z], {"z": zeros},
                                    "latents -> the width-4 beam-search sentence and its log p"),
            "sample": Endpoint(sample, [count, seed], {"num_samples": np.int32(2), "seed": np.int32(1)},
                               "num_samples, seed -> sentences decoded (greedy) from z ~ p(z), and z",
                               checks={"num_samples": Range(int, 1, 1000)}),
            "interpolate": Endpoint(interpolate, [tf.TensorSpec([], tf.string, name="first"),
                                                  tf.TensorSpec([], tf.string, name="second"),
                                                  tf.TensorSpec([], tf.int32, name="steps")],
                                    {"first": sentences[0], "second": sentences[1], "steps": np.int32(3)},
                                    "two sentences, steps -> the greedy sentences along the line between their "
                                    "posterior means (steps + 2 points, ends included)",
                                    checks={"steps": Range(int, 0, 100)}),
            "score": Endpoint(score, [text, count, seed], {"sentences": sentences, "num_samples": np.int32(8),
                                                           "seed": np.int32(3)},
                              "sentences -> ELBO, KL, importance-sampled log p(x) (nats), tokens with <eos>, and "
                              "each token's log p under the decoder at the posterior mean",
                              checks={"num_samples": samples})}

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_units": self.hidden_units, "num_layers": self.num_layers, "z_to_inputs": self.z_to_inputs,
                "word_dropout": self.word_dropout, "dropout": self.dropout, "free_bits": self.free_bits,
                "free_bits_mode": self.free_bits_mode, "vocabulary": self.vocabulary_config(),
                "max_tokens": self.max_tokens}
