"""Recurrent neural network language models (Mikolov et al. 2010; Zaremba, Sutskever & Vinyals 2014;
Karpathy's char-rnn, 2015): p(w_1..w_N) = prod_t softmax(W h_t + b)[w_t], h_t = RNN(embed(w_<t)).

Training is stateful truncated BPTT through ``model.fit`` on the windows of ``zoo.data.streams``: the
model carries its recurrent state from one batch to the next in non-trainable variables (reset by
``model.reset_states()``, which ``ResetStatesEachEpoch`` calls at every epoch and evaluation start),
so each of the B rows is read as one long text. The loss is nats per token. Exact stream metrics
(``measure``: nats and bits per token, perplexity) read a whole stream from the zero state.

Decoding: ``step(tokens, state) -> (logits, state)`` is the ``zoo.decoding`` contract, one token at a time
with the cells' cached state; ``generate`` runs any decoder from a text prompt.

Expected numbers: tiny Shakespeare (90/10 split) validation 1.40 nats/char is the zoo's goal (char-rnn's
README shows 1.395 on its 95/5 split); PTB small (2 x 200, Zaremba et al. 2014) test perplexity 114.5 in the
paper. The shipped models' measured numbers are in their cards.
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.data.reading import excerpt
from zoo.decoding import decode
from zoo.decoding.params import check_all
from zoo.export.endpoint import Endpoint
from zoo.registry import register_model
from zoo.layers.recurrent import RecurrentStack
from zoo.layers.softmax import output_layer
from zoo.models.seeding import step_seed
from zoo.models.token_model import TokenModel, stream_metrics, token_log_probs
from zoo.objectives.replicas import per_replica_loss


@register_model
class RNNLanguageModel(TokenModel, keras.Model):
    """Token ids (B, T) -> next-token logits (B, T, V).

    Args:
      vocab_size: V.
      embedding_dim: E (must equal ``hidden_units`` with ``tie_weights``).
      hidden_units, num_layers, cell ("lstm" | "gru"), dropout: the ``RecurrentStack``.
      tie_weights: the output layer reuses the embedding matrix (Press & Wolf 2017; Inan et al. 2017).
      vocabulary: a ``zoo.data.text.Vocabulary`` config {"tokens", "level"} (set from the data when None).
      max_prompt_tokens: prompts longer than this are refused by ``generate`` and the serving signatures.
      seed: seed of the dropout noise (see ``zoo.models.seeding.step_seed``).
      softmax: None for the plain dense softmax, or an output layer of ``zoo.layers.softmax`` ({"kind":
        "adaptive", "cutoffs": [2000]}, "sampled", "nce", "hierarchical", ...): training uses its (maybe
        sampled) loss; evaluation, decoding and the serving signatures its exact log-probabilities.
    """

    def __init__(self, vocab_size, embedding_dim=128, hidden_units=128, num_layers=2, cell="lstm", dropout=0.0,
                 tie_weights=False, vocabulary=None, max_prompt_tokens=4096, seed=None, softmax=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.embedding_dim, self.hidden_units = int(vocab_size), int(embedding_dim), int(hidden_units)
        self.num_layers, self.cell, self.dropout = int(num_layers), cell, float(dropout)
        self.tie_weights, self.max_prompt_tokens, self.seed = bool(tie_weights), int(max_prompt_tokens), seed
        if self.tie_weights and self.embedding_dim != self.hidden_units:
            raise ValueError(f"tie_weights needs embedding_dim == hidden_units, got {embedding_dim} and {hidden_units}")
        self._init_vocabulary(vocabulary)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, name="embedding")
        self.rnn = RecurrentStack(self.hidden_units, self.num_layers, cell, self.dropout, name="rnn")
        self.output_bias, self.softmax = None, None if softmax is None else dict(softmax)
        if self.softmax is not None and self.tie_weights:
            raise ValueError("tie_weights shares the embedding with a dense softmax; it does not combine with softmax=")
        if self.softmax is not None:
            self.output_layer = output_layer(self.softmax, self.vocab_size)
        else:
            self.output_layer = None if self.tie_weights else keras.layers.Dense(self.vocab_size, name="softmax")
        self.seed_generator = keras.random.SeedGenerator(seed, name="dropout_noise")
        self.loss_tracker = keras.metrics.Mean(name="loss")  # nats per token
        self.build()
        self._carried = self._make_carried_state()  # the TBPTT state (see carried_state)

    # === Layers ===
    def build(self, input_shape=None):
        """Every weight's shape is known from the config: ``__init__`` builds the model, so the stateful
        steps (which bypass ``__call__``) and ``step`` work before any ``call``."""
        if self.built:
            return
        self.embedding.build((None, None))
        self.rnn.build((None, None, self.embedding_dim))
        if self.tie_weights:
            self.output_bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="output_bias")
        else:
            self.output_layer.build((None, self.hidden_units))
        self.built = True

    def logits(self, hidden):
        """hidden (..., H) -> logits (..., V); with a ``softmax`` layer, its exact log-probabilities."""
        if self.tie_weights:
            return tf.matmul(hidden, self.embedding.embeddings, transpose_b=True) + self.output_bias
        if self.softmax is not None:
            flat = tf.reshape(hidden, [-1, self.hidden_units])
            return tf.reshape(self.output_layer.log_probs(flat), tf.concat([tf.shape(hidden)[:-1], [self.vocab_size]], 0))
        return self.output_layer(hidden)

    def hidden_states(self, tokens, initial_state=None, training=False, seed=None, mask=None):
        """tokens (B, T) int -> (top-layer outputs (B, T, H), final state)."""
        x = self.embedding(tokens)
        return self.rnn(x, initial_state=initial_state, mask=mask, training=training, seed=seed)

    def forward(self, tokens, initial_state=None, training=False, seed=None, mask=None):
        """tokens (B, T) int -> (logits (B, T, V), final state)."""
        hidden, state = self.hidden_states(tokens, initial_state, training, seed, mask)
        return self.logits(hidden), state

    def training_loss(self, hidden, targets, seed, mask=None):
        """Mean training loss per token: the output layer's own (maybe sampled) loss, or the exact NLL; over the
        positions where ``mask`` (B, T) bool is true when given (padded sentences)."""
        if self.softmax is None:
            losses = -token_log_probs(targets, self.logits(hidden))
        else:
            flat = tf.reshape(hidden, [-1, self.hidden_units])
            sampler_seed = tf.random.experimental.stateless_fold_in(seed, 7)
            losses = self.output_layer.loss(flat, tf.reshape(targets, [-1]), sampler_seed)
        if mask is None:
            return tf.reduce_mean(losses)
        weights = tf.reshape(tf.cast(mask, tf.float32), tf.shape(losses))
        return tf.reduce_sum(losses * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)

    def call(self, tokens, training=False):
        """Logits (B, T, V) of a batch of token windows read from the zero state."""
        return self.forward(tokens, training=training, seed=self.seed_generator.next() if training else None)[0]

    def initial_state(self, batch_size):
        return self.rnn.zero_state(batch_size)

    def step(self, tokens, state):
        """The decoding contract: tokens (B,) int32, state -> (logits (B, V), new state)."""
        hidden, state = self.rnn.step(self.embedding(tokens), state)
        return self.logits(hidden), state

    # === Stateful truncated BPTT ===
    def carried_state(self):
        """The state variables, each (None, H), made with the model (so under ``strategy.scope()`` there is
        one copy per replica: ``ON_READ`` synchronisation); empty (batch 0) after a reset."""
        return self._carried

    def _make_carried_state(self):
        return [tf.Variable(tf.zeros([0, self.hidden_units]), shape=tf.TensorShape([None, self.hidden_units]),
                            trainable=False, name=f"carried_state_{i}",
                            synchronization=tf.VariableSynchronization.ON_READ,
                            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                for i in range(self.num_layers * self.rnn.states_per_layer)]

    def reset_states(self):
        """Forgets the carried state: the next batch starts from zeros."""
        for variable in self.carried_state():
            variable.assign(tf.zeros([0, self.hidden_units]))

    def _state_for(self, batch_size):
        """The carried state when it matches the batch, else zeros (after a reset or a batch-size change)."""
        state = []
        for variable in self.carried_state():
            value = variable.value()  # under a strategy: this replica's copy
            state.append(tf.cond(tf.equal(tf.shape(value)[0], batch_size), lambda v=value: v,
                                 lambda: tf.zeros([batch_size, self.hidden_units])))
        return tuple(state)

    def _carry(self, state):
        for variable, value in zip(self.carried_state(), state):
            variable.assign(tf.stop_gradient(value))

    def token_loss(self, targets, logits):
        """Mean negative log-likelihood in nats per token: targets (B, T) int, logits (B, T, V)."""
        return -tf.reduce_mean(token_log_probs(targets, logits))

    def train_step(self, data):
        tokens, targets = data
        state = self._state_for(tf.shape(tokens)[0])
        seed = step_seed(self)
        with tf.GradientTape() as tape:
            hidden, final = self.hidden_states(tokens, state, training=True, seed=seed)
            loss = self.training_loss(hidden, targets, seed)
            scaled = per_replica_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self._carry(final)
        return self._update_metrics(loss)

    def test_step(self, data):
        tokens, targets = data
        logits, final = self.forward(tokens, self._state_for(tf.shape(tokens)[0]))
        self._carry(final)
        return self._update_metrics(self.token_loss(targets, logits))

    def _update_metrics(self, loss):
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def training_callbacks(self):
        """Callbacks the training path adds for this model (``zoo.training.train``)."""
        return [ResetStatesEachEpoch()]

    # === Evaluation ===
    def stream_log_probs(self, ids, rows=1, chunk_length=2000):
        """log p(w_t | w_<t) of every token of a stream but the first, read from the zero state.

        ids (N,) int; rows: the stream is cut into ``rows`` equal parts read in parallel (1 = exact, each
        token conditioned on everything before it; more rows is faster and restarts the state per row).
        Returns float64 (rows * (N // rows - 1),).
        """
        ids = np.asarray(ids, np.int32)
        if ids.ndim != 1 or len(ids) < 2:
            raise ValueError(f"expected a stream of at least 2 token ids, got shape {ids.shape}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}), found {ids.min()}..{ids.max()}")
        length = len(ids) // rows
        matrix = ids[: rows * length].reshape(rows, length)
        state, pieces = self.initial_state(rows), []
        for start in range(0, length - 1, chunk_length):
            stop = min(start + chunk_length, length - 1)
            log_probs, state = self._score_chunk(tf.constant(matrix[:, start:stop]),
                                                 tf.constant(matrix[:, start + 1:stop + 1]), state)
            pieces.append(log_probs.numpy().astype(np.float64))
        return np.concatenate(pieces, axis=1).reshape(-1)

    @tf.function(reduce_retracing=True)
    def _score_chunk(self, tokens, targets, state):
        logits, state = self.forward(tokens, state)
        return token_log_probs(targets, logits), state

    def measure(self, ids, rows=1, chunk_length=2000):
        """Exact stream metrics: nats and bits per token, perplexity exp(nats), and the tokens scored."""
        log_probs = self.stream_log_probs(ids, rows, chunk_length)
        return stream_metrics(log_probs.sum(), log_probs.size)

    # === Generation (the same graph code runs eagerly, in ``generate`` and in the serving signatures) ===
    def export_resources(self):
        return [self.lookup_table()]

    def encode_prompts(self, prompts):
        """prompts (B,) strings -> (ids int32 (B, L) right-padded, lengths int32 (B,), unknown int32 (B,)).

        Every prompt is read after the vocabulary's boundary token ("\n" for characters, ``<eos>`` for
        words), so an empty prompt means "the start of a line" and L >= 1. Tokenisation is core TF ops
        (``Vocabulary.graph_tokenize``); unknown tokens become ``<unk>`` (id 0) and are counted in ``unknown``;
        a prompt over ``max_prompt_tokens`` tokens fails with InvalidArgument naming the limit, and so does
        a character prompt that is not UTF-8.
        """
        vocabulary = self._require_vocabulary()
        ids = vocabulary.graph_tokenize(prompts, self.lookup_table())
        unknown = tf.reduce_sum(tf.cast(tf.equal(ids, 0), tf.int32), axis=1)
        prompt_lengths = tf.cast(ids.row_lengths(), tf.int32)
        check = tf.debugging.assert_less_equal(
            prompt_lengths, self.max_prompt_tokens,
            message=f"prompt too long: the limit is max_prompt_tokens={self.max_prompt_tokens} tokens")
        with tf.control_dependencies([check]):
            boundary = tf.fill([tf.shape(prompts)[0], 1], vocabulary.boundary_id)
            ids = tf.concat([boundary, ids], axis=1)
        return ids.to_tensor(0), prompt_lengths + 1, unknown

    def prompt_state(self, prompts):
        """(start tokens (B,), state after every prompt token but the last, unknown (B,)) of a batch of prompts."""
        ids, lengths, unknown = self.encode_prompts(prompts)
        batch = tf.shape(ids)[0]
        start = tf.gather(ids, lengths - 1, batch_dims=1)
        prefix = ids[:, :-1]
        mask = tf.range(tf.shape(prefix)[1])[None, :] < (lengths - 1)[:, None]
        state = tf.cond(tf.shape(prefix)[1] > 0, lambda: self.forward(prefix, mask=mask)[1],
                        lambda: self.initial_state(batch))
        return start, state, unknown

    def decode_prompts(self, prompts, decoder, max_tokens, cap, **params):
        """Runs ``zoo.decoding.decode(decoder, ...)`` from each prompt; at most ``min(max_tokens, cap)`` tokens.

        Returns {"text" (B,) string (without a final end-of-sentence token), "tokens" int32 (B, cap),
        "lengths" int32 (B,), "log_prob" float32 (B,) (log p of the generated tokens, length-penalised for
        beam search), "unknown_tokens" int32 (B,)}.
        """
        start, state, unknown = self.prompt_state(prompts)
        eos_id = self.vocabulary.boundary_id if self.vocabulary.level == "word" else None
        result = decode(decoder, self.step, start, state, cap, eos_id=eos_id, limit=max_tokens, **params)
        keep = tf.range(cap)[None, :] < result["lengths"][:, None]
        if eos_id is not None:
            keep = tf.logical_and(keep, tf.not_equal(result["tokens"], eos_id))
        text = self.vocabulary.graph_detokenize(tf.ragged.boolean_mask(result["tokens"], keep))
        return {"text": text, "tokens": result["tokens"], "lengths": result["lengths"], "log_prob": result["scores"],
                "unknown_tokens": unknown}

    def generate(self, prompts, decoder="sample", max_tokens=200, **params):
        """Continues each prompt (a string or a list of strings) with ``zoo.decoding``'s ``decoder``:
        "greedy", "sample" (``seed``, ``temperature``, ``top_k``, ``top_p``) or "beam" (``beam_width``,
        ``length_penalty``). Returns the dict of ``decode_prompts`` as numpy, text as Python strings."""
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"prompts must be a string or a non-empty list of strings, got {excerpt(prompts)}")
        check_all(max_tokens=max_tokens, **params)
        if decoder == "sample":
            params.setdefault("seed", 0)
        out = self.decode_prompts(tf.constant(prompts), decoder, tf.constant(int(max_tokens)), int(max_tokens),
                                  **params)
        out = {k: v.numpy() for k, v in out.items()}
        out["text"] = [t.decode("utf-8") for t in out["text"]]
        return out

    def score_texts(self, texts):
        """Per-token log-probabilities of texts (B,) strings, each read after the boundary token:
        {"log_probs" float32 (B, L) (0 past the end), "lengths" int32 (B,), "total" float32 (B,),
        "unknown_tokens" int32 (B,)}."""
        ids, lengths, unknown = self.encode_prompts(texts)
        logits = self.forward(ids[:, :-1])[0]
        log_probs = token_log_probs(ids[:, 1:], logits)
        log_probs *= tf.cast(tf.range(tf.shape(log_probs)[1])[None, :] < (lengths - 1)[:, None], tf.float32)
        return {"log_probs": log_probs, "lengths": lengths - 1, "total": tf.reduce_sum(log_probs, axis=1),
                "unknown_tokens": unknown}

    def diagnostics(self, x):
        """Per-epoch TensorBoard text (``zoo.training.callbacks.Diagnostics``): a sample from the start of a line."""
        if self.vocabulary is None:
            return {}
        text = self.generate("", "sample", max_tokens=200, seed=0, temperature=0.8)["text"][0]
        return {"texts": {"sample_temperature_0.8": tf.constant(text)}}

    # === Export ===
    max_generated_tokens = 1000  # the static size of the serving signatures' outputs; max_tokens may be less
    serving_beam_width = 4

    def export_endpoints(self):
        cap, text = self.max_generated_tokens, tf.TensorSpec([None], tf.string, name="prompt")
        max_tokens = tf.TensorSpec([], tf.int32, name="max_tokens")
        prompt = "ROMEO:" if self.vocabulary.level == "char" else "the company said"
        examples = {"prompt": np.array([prompt, ""]), "max_tokens": np.int32(20)}

        def sample_fn(prompts, max_tokens, temperature, top_k, top_p, seed):
            return self.decode_prompts(prompts, "sample", max_tokens, cap, temperature=temperature, top_k=top_k,
                                       top_p=top_p, seed=seed)

        def beam_fn(prompts, max_tokens, length_penalty):
            return self.decode_prompts(prompts, "beam", max_tokens, cap, beam_width=self.serving_beam_width,
                                       length_penalty=length_penalty)

        greedy = Endpoint(lambda prompts, max_tokens: self.decode_prompts(prompts, "greedy", max_tokens, cap),
                          [text, max_tokens], examples, "the greedy (arg-max) continuation of each prompt")
        return {
            "serving_default": greedy,  # what a request without signature_name gets
            "generate_greedy": greedy,
            "generate": Endpoint(
                sample_fn, [text, max_tokens, tf.TensorSpec([], tf.float32, name="temperature"),
                            tf.TensorSpec([], tf.int32, name="top_k"), tf.TensorSpec([], tf.float32, name="top_p"),
                            tf.TensorSpec([], tf.int64, name="seed")],
                {**examples, "temperature": np.float32(0.8), "top_k": np.int32(0), "top_p": np.float32(0.95),
                 "seed": np.int64(7)},
                f"sampled continuations of each prompt (temperature, top-k (0 = off), top-p (1 = off), seed); at "
                f"most min(max_tokens, {cap}) tokens"),
            "generate_beam": Endpoint(
                beam_fn, [text, max_tokens, tf.TensorSpec([], tf.float32, name="length_penalty")],
                {**examples, "length_penalty": np.float32(0.6)},
                f"the best of a width-{self.serving_beam_width} beam search (GNMT length penalty alpha)"),
            "score": Endpoint(
                lambda texts: self.score_texts(texts), [tf.TensorSpec([None], tf.string, name="text")],
                {"text": examples["prompt"]}, "log p of every token of each text, read after the boundary token"),
        }

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_units": self.hidden_units, "num_layers": self.num_layers, "cell": self.cell,
                "dropout": self.dropout, "tie_weights": self.tie_weights,
                "vocabulary": self.vocabulary_config(),
                "max_prompt_tokens": self.max_prompt_tokens, "seed": self.seed, "softmax": self.softmax}


class ResetStatesEachEpoch(keras.callbacks.Callback):
    """Stateful TBPTT: every epoch and every evaluation starts from the zero state."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()

    def on_test_begin(self, logs=None):
        self.model.reset_states()
