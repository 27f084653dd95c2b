"""An LSTM language model of single sentences: the same-size baseline of the sentence VAE (Bowman et al.,
"Generating Sentences from a Continuous Space", CoNLL 2016, Table 2: RNNLM test NLL 100 per sentence, PPL 116
on PTB, against the VAE's 101 (KL 2) / 119).

It is ``RNNLanguageModel`` read the way the VAE's decoder reads: each sentence from the zero state, after the
``<eos>`` boundary token, on padded sentence batches (``zoo.data.sentences``, the "sentences" layout) instead
of TBPTT streams; the VAE's decoder without z. Generation, scoring and the serving signatures are the RNN LM's.

Inputs: (B, L) token ids padded with -1 after each sentence's ``<eos>`` (float32, like every "rows" array).
Training loss: nats per token over the sentences' tokens, ``<eos>`` included. ``measure``: NLL per sentence
and the word perplexity with ``<eos>`` counted, as the paper reports them (``sentence_metrics``).
"""
import numpy as np
import tensorflow as tf

from zoo.data.pipeline import length_sorted_batches
from zoo.data.sentences import PAD
from zoo.models.rnn_lm import RNNLanguageModel
from zoo.models.seeding import step_seed
from zoo.models.token_model import (padded_ids_and_mask, sentence_metrics, teacher_forcing_inputs, token_log_probs,
                                    trim_padding)
from zoo.registry import register_model
from zoo.objectives.replicas import per_replica_loss


@register_model
class SentenceLanguageModel(RNNLanguageModel):
    """Padded sentences (B, L) -> next-token logits (B, L, V), each sentence read from the zero state.

    Args: those of ``RNNLanguageModel`` (Bowman's baseline: one LSTM layer of 191 units, 353-dimensional
    embeddings).
    """

    def _inputs_and_targets(self, x):
        targets, mask = padded_ids_and_mask(trim_padding(x))
        return teacher_forcing_inputs(targets, self._require_vocabulary().boundary_id), targets, mask

    def train_step(self, data):
        inputs, targets, mask = self._inputs_and_targets(data)
        seed = step_seed(self)
        with tf.GradientTape() as tape:
            hidden, _ = self.hidden_states(inputs, training=True, seed=seed)
            loss = self.training_loss(hidden, targets, seed, mask)
            scaled = per_replica_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._update_metrics(loss)

    def test_step(self, data):
        return self._update_metrics(-self._mean_log_prob(data))

    def _mean_log_prob(self, x):
        log_probs, mask = self.sentence_log_probs(x)
        return tf.reduce_sum(log_probs) / tf.maximum(tf.reduce_sum(tf.cast(mask, tf.float32)), 1.0)

    def sentence_log_probs(self, x):
        """x (B, L) padded ids -> (log p of each token (B, L') with 0 at padding, mask (B, L')), L' the
        longest row."""
        inputs, targets, mask = self._inputs_and_targets(x)
        log_probs = token_log_probs(targets, self.forward(inputs)[0]) * tf.cast(mask, tf.float32)
        return log_probs, mask

    def training_callbacks(self):
        return []  # no carried state: every sentence starts from zeros

    def measure(self, x, batch_size=100):
        """Exact test figures of padded sentences x (N, L): NLL per sentence, perplexity with ``<eos>``
        counted, nats per token (``sentence_metrics``)."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or not len(x):
            raise ValueError(f"expected padded sentences (N, L), got shape {x.shape}")
        score = tf.function(lambda batch: tf.reduce_sum(self.sentence_log_probs(batch)[0]), reduce_retracing=True)
        total = sum(float(score(batch)) for batch in length_sorted_batches(x, batch_size, PAD))
        return sentence_metrics(total, len(x), (x > PAD).sum())
