"""A bidirectional-LSTM reader for bAbI: the baseline of the lecture deck's "Project 3 Results" slide (hidden
size 32, batch 16, 10 epochs), in the spirit of the LSTM baseline of Weston et al. (2015) and Sukhbaatar et al.
(2015, Table 1, "LSTM": 51.3% mean error on 1k, 36.4% on 10k, both per task).

The story (its statements oldest first, the words of each in order, padding removed) and the question are
each read by a bidirectional LSTM; the two final states of each (forward and backward, 2H each) are
concatenated and the answer is a softmax over the whole vocabulary (the answer softmax of the memory networks,
``zoo.layers.memory.answer_logits``, over its own output embedding). No attention: ``answer`` returns the
answer, its probability and the unknown words only. Measured: docs/memory_networks.md.
"""
import keras
import tensorflow as tf

from zoo.layers.memory import answer_logits
from zoo.models.babi_qa import MEMORY_SIZE, BabiQAModel, base_config
from zoo.registry import register_model


def story_words(stories):
    """stories (B, M, L), memory slot 0 the most recent -> (B, T) the story's words oldest first, padding (0)
    only at the end (T: the longest story of the batch)."""
    flat = tf.reshape(tf.reverse(stories, axis=[1]), [tf.shape(stories)[0], -1])
    words = tf.ragged.boolean_mask(flat, tf.not_equal(flat, 0)).to_tensor(0)
    return tf.pad(words, [[0, 0], [0, tf.maximum(1 - tf.shape(words)[1], 0)]])  # at least one (padding) step


@register_model
class BiLSTMReader(BabiQAModel, keras.Model):
    """Stories (B, M, L) and questions (B, Lq) int32 -> answer logits (B, V).

    Args: vocab_size, memory_size (the statements read: the most recent ones of the batch's memory slots; fewer
      than the data's 50 make long stories much cheaper to read), embedding_dim, hidden_units (H, per
      direction), dropout (on the embeddings and the concatenated states), vocabulary, loss_reduction, seed.
    """

    has_attention = False

    def __init__(self, vocab_size, memory_size=MEMORY_SIZE, embedding_dim=32, hidden_units=32, dropout=0.0,
                 vocabulary=None, loss_reduction="mean", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.memory_size = int(vocab_size), int(memory_size)
        self.embedding_dim, self.hidden_units, self.dropout = int(embedding_dim), int(hidden_units), float(dropout)
        self._init_vocabulary(vocabulary)
        self._init_training(loss_reduction, seed)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, mask_zero=True, name="embedding")
        self.story_reader = keras.layers.Bidirectional(keras.layers.LSTM(self.hidden_units, seed=seed), name="story")
        self.question_reader = keras.layers.Bidirectional(keras.layers.LSTM(self.hidden_units, seed=seed),
                                                          name="question")
        self.drop = keras.layers.Dropout(self.dropout, seed=seed)
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.embedding.build((None, None))
        self.story_reader.build((None, None, self.embedding_dim))
        self.question_reader.build((None, None, self.embedding_dim))
        self.output_embedding = self.add_weight(shape=(self.vocab_size, 4 * self.hidden_units),
                                                initializer="glorot_uniform", name="answer_embedding")
        self.built = True

    def answer_logits(self, stories, questions, training=False, seed=None):
        words = story_words(tf.cast(stories, tf.int32)[:, : self.memory_size])  # the memory_size most recent
        questions = tf.cast(questions, tf.int32)
        story_state = self.story_reader(self.drop(self.embedding(words), training=training),
                                        mask=tf.not_equal(words, 0), training=training)
        question_state = self.question_reader(self.drop(self.embedding(questions), training=training),
                                              mask=tf.not_equal(questions, 0), training=training)
        state = self.drop(tf.concat([story_state, question_state], axis=-1), training=training)
        return answer_logits(state, self.output_embedding), None

    def get_config(self):
        return {**super().get_config(), **base_config(self), "embedding_dim": self.embedding_dim,
                "hidden_units": self.hidden_units, "dropout": self.dropout}
