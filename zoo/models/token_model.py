"""What the token-sequence models share (``RNNLanguageModel``, ``NGramLanguageModel``, the sentence models): the
vocabulary that travels in their config, its serving lookup table, per-token log-probabilities, padded-sentence
inputs, and the stream and sentence metrics built from them (nats and bits per token, perplexity).
"""
import numpy as np
import tensorflow as tf

from zoo.data.text import Vocabulary


def token_log_probs(targets, logits):
    """log p(target) at every position: targets (...,) int, logits (..., V) -> float32 (...,)."""
    return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(targets, tf.int32), logits=logits)


def padded_ids_and_mask(x, pad=-1):
    """x (B, L) float or int ids padded with ``pad`` after each row -> (ids int32 (B, L) with padding as 0,
    mask bool (B, L)). The sentence models' input format (``zoo.data.sentences``)."""
    x = tf.cast(x, tf.int32)
    mask = x > pad
    return tf.where(mask, x, 0), mask


def trim_padding(x, pad=-1):
    """x (B, L) padded ids -> (B, L') cut after the longest row (L' <= L): the same scores, less work."""
    width = tf.reduce_max(tf.reduce_sum(tf.cast(x > pad, tf.int32), axis=1))
    return x[:, :width]


def teacher_forcing_inputs(ids, start_id):
    """The inputs that predict ids (B, L): the start token, then every target but the last."""
    start = tf.fill([tf.shape(ids)[0], 1], tf.cast(start_id, ids.dtype))
    return tf.concat([start, ids[:, :-1]], axis=1)


def sentence_metrics(log_prob_sum, sentences, tokens):
    """Bowman et al.'s (2016) figures from summed log-probabilities: NLL per sentence, and the word perplexity
    exp(NLL / tokens) with every ``<eos>`` counted as a token."""
    nll = -float(log_prob_sum)
    return {"nll": nll / sentences, "perplexity": float(np.exp(nll / tokens)), "nats_per_token": nll / tokens,
            "sentences": int(sentences), "tokens": int(tokens)}


def stream_metrics(log_prob_sum, tokens):
    """Metrics of a stream from the sum of its tokens' log-probabilities: nats and bits per token, perplexity
    exp(nats), and the tokens scored."""
    nats = -float(log_prob_sum) / tokens
    return {"nats_per_token": nats, "bits_per_token": nats / np.log(2.0), "perplexity": float(np.exp(nats)),
            "tokens_scored": int(tokens)}


class TokenModel:
    """Mixin: the class using it sets ``self.vocab_size`` and calls ``_init_vocabulary(vocabulary)`` (a
    ``vocabulary_class`` instance, its config dict, or None to take it from the data in ``prepare_for_data``)."""

    vocabulary_class = Vocabulary  # any class with __len__, lookup_table() and get_config() (bAbI has its own)

    def _init_vocabulary(self, vocabulary):
        self.vocabulary, self._table = None, None
        if vocabulary is not None:
            kind = self.vocabulary_class
            self.set_vocabulary(vocabulary if isinstance(vocabulary, kind) else kind(**vocabulary))

    def prepare_for_data(self, splits):
        """The training path's hook (``zoo.training.run``): takes the vocabulary from the loader's output."""
        if splits.get("vocabulary") is not None:
            self.set_vocabulary(splits["vocabulary"])

    def set_vocabulary(self, vocabulary):
        if len(vocabulary) != self.vocab_size:
            raise ValueError(f"vocabulary has {len(vocabulary)} tokens, expected vocab_size={self.vocab_size}")
        self.vocabulary, self._table = vocabulary, None

    def _require_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError("this model has no vocabulary: train it through zoo.training or pass vocabulary=")
        return self.vocabulary

    def lookup_table(self):
        """The vocabulary's ``StaticHashTable``, made once (outside any graph being traced)."""
        if self._table is None:
            with tf.init_scope():
                self._table = self._require_vocabulary().lookup_table()
        return self._table

    def vocabulary_config(self):
        return None if self.vocabulary is None else self.vocabulary.get_config()
