"""A neural n-gram language model (Bengio, Ducharme, Vincent & Jauvin 2003): an order-d Markov model
p(w_t | w_{t-d}..w_{t-1}) = softmax(MLP([embed(w_{t-d}); ...; embed(w_{t-1})])).

Because the next token depends on the last d tokens only, the most probable sequence of a given length is
found exactly by dynamic programming over the V^d contexts (``zoo.decoding.viterbi``) or by A* search
(``zoo.decoding.astar``), both over the (V^d, V) table ``transition_log_probs()``: the "global optimum"
the decoding lecture contrasts with greedy and beam search. It is trained with ``model.fit`` on the
(context, next token) pairs of a token stream (``zoo.data.streams.contexts_and_targets``).
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.decoding import astar, decode, transition_table, viterbi
from zoo.data.validation import Range
from zoo.decoding.params import check_all
from zoo.export.endpoint import Endpoint
from zoo.registry import register_model
from zoo.layers.networks import mlp
from zoo.data.streams import contexts_and_targets
from zoo.models.token_model import TokenModel, stream_metrics, token_log_probs


@register_model
class NGramLanguageModel(TokenModel, keras.Model):
    """Contexts (B, d) int -> next-token logits (B, V).

    Args: vocab_size V; order d (1 or 2 keeps Viterbi's V^d table small); embedding_dim; hidden_units of the
    MLP; activation; vocabulary: a ``Vocabulary`` config (set from the data when None).
    """

    def __init__(self, vocab_size, order=2, embedding_dim=32, hidden_units=(256,), activation="tanh",
                 vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.order, self.embedding_dim = int(vocab_size), int(order), int(embedding_dim)
        self.hidden_units, self.activation = tuple(int(u) for u in hidden_units), activation
        if self.order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self._init_vocabulary(vocabulary)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, name="embedding")
        self.hidden = mlp(self.hidden_units, activation, name="hidden")
        self.output_layer = keras.layers.Dense(self.vocab_size, name="softmax")

    def build(self, input_shape=None):
        self.embedding.build((None, self.order))
        self.hidden.build((None, self.order * self.embedding_dim))
        self.output_layer.build((None, self.hidden_units[-1] if self.hidden_units else self.order * self.embedding_dim))
        self.built = True

    def call(self, contexts, training=False):
        x = tf.reshape(self.embedding(contexts), [-1, self.order * self.embedding_dim])
        return self.output_layer(self.hidden(x, training=training))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean negative log-likelihood in nats per token."""
        return -tf.reduce_mean(token_log_probs(y, y_pred))

    # === The Markov model's tables and decoders ===
    def transition_log_probs(self):
        """(V^d, V) log p(next | context); row = the context's base-V number, oldest token most significant."""
        return transition_table(lambda contexts: self(contexts), self.vocab_size, self.order)

    def step(self, tokens, state):
        """The ``zoo.decoding`` contract; the state is the last d tokens, int32 (B, d)."""
        contexts = tf.concat([state[:, 1:], tf.cast(tokens, tf.int32)[:, None]], axis=1)
        return self(contexts), contexts

    def start_context(self, prompt=""):
        """int32 (d,): the last d tokens of the boundary-prefixed prompt."""
        vocabulary = self.vocabulary
        ids = np.concatenate([np.full(self.order, vocabulary.boundary_id, np.int32), vocabulary.encode(prompt)])
        return ids[-self.order:]

    def best_sequence(self, prompt="", length=20, method="viterbi", table=None):
        """The exact most probable continuation of ``length`` tokens: {"text", "tokens", "log_prob"} (+ "expanded"
        for A*). ``table``: a precomputed ``transition_log_probs()``."""
        table = self.transition_log_probs() if table is None else table
        context = tf.constant(self.start_context(prompt))
        if method == "viterbi":
            result = viterbi(table, context, length, self.order)
            extra = {}
        elif method == "astar":
            result = astar(table, context, length, self.order)
            extra = {"expanded": int(result.expanded), "exact": bool(result.exact)}
        else:
            raise ValueError(f"method must be 'viterbi' or 'astar', got {method!r}")
        tokens = np.asarray(result.tokens).reshape(-1)
        return {"text": self.vocabulary.decode(tokens), "tokens": tokens, "log_prob": float(result.log_prob), **extra}

    def generate(self, prompt="", decoder="greedy", max_tokens=50, **params):
        """Left-to-right decoding from a prompt with ``zoo.decoding.decode``: {"text", "tokens", "log_prob"}."""
        check_all(max_tokens=max_tokens, **params)
        if decoder == "sample":
            params.setdefault("seed", 0)
        context = tf.constant(self.start_context(prompt))[None]
        out = decode(decoder, self.step, context[:, -1], context, max_tokens, **params)
        tokens = out["tokens"].numpy()[0]
        return {"text": self.vocabulary.decode(tokens), "tokens": tokens, "log_prob": float(out["scores"][0])}

    def measure(self, ids, batch_size=4096):
        """Exact stream metrics, each token conditioned on its d predecessors."""
        contexts, targets = contexts_and_targets(ids, self.order, self.vocabulary.boundary_id)
        log_prob_sum = 0.0
        for i in range(0, len(targets), batch_size):
            logits = self(tf.constant(contexts[i:i + batch_size]))
            log_prob_sum += float(tf.reduce_sum(token_log_probs(targets[i:i + batch_size], logits)))
        return stream_metrics(log_prob_sum, len(targets))

    # === Export ===
    def export_endpoints(self):
        def best(context, length):
            table = self.transition_log_probs()
            result = viterbi(table, context, length, self.order)
            return {"tokens": result.tokens, "log_prob": result.log_prob,
                    "text": self.vocabulary.graph_detokenize(result.tokens)}

        # ``length`` fixes the output shape, so the signature decodes a fixed 40 tokens.
        token_ids = Range(int, 0, self.vocab_size - 1)
        return {"viterbi": Endpoint(lambda context: best(context, 40),
                                    [tf.TensorSpec([self.order], tf.int32, name="context")],
                                    {"context": self.start_context("")},
                                    "the exact most probable 40-token continuation of a context of d token ids",
                                    checks={"context": token_ids}, tied_outputs=("tokens", "text")),
                "serving_default": Endpoint(lambda contexts: {"logits": self(contexts)},
                                            [tf.TensorSpec([None, self.order], tf.int32, name="contexts")],
                                            {"contexts": np.stack([self.start_context("")] * 2)},
                                            "next-token logits (B, V) of contexts (B, d)",
                                            checks={"contexts": token_ids})}

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "order": self.order,
                "embedding_dim": self.embedding_dim, "hidden_units": self.hidden_units,
                "activation": self.activation,
                "vocabulary": self.vocabulary_config()}
