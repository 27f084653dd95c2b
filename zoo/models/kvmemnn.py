"""Key-value memory network (Miller, Fisch, Dodge, Karimi, Bordes & Weston 2016, "Key-Value Memory Networks for
Directly Reading Documents", section 3) on bAbI stories.

Each memory slot is a (key, value) pair with its own feature map: the key is the statement (position-encoded
bag of words plus a temporal encoding), the value is the statement too (``value_feature="sentence"``) or only
its last word (``"last_word"``, e.g. the place in "Mary moved to the bathroom"). With one embedding A shared by
question, keys and values (the paper's Phi features all go through A), H hops and a learned query update R_j:

    q_1 = A Phi_X(question)
    p_h = softmax(q_j . A Phi_K(k_h))            (addressing; key hashing first drops the keys sharing no word
                                                 with the question, words in ``hash_ignore`` not counted)
    o   = sum_h p_h A Phi_V(v_h),   q_{j+1} = R_j (q_j + o)
    a   = softmax(q_{H+1} . B y)                 (B: the answer embedding, over the whole vocabulary)

Key hashing (``key_hashing=True``) is the paper's pre-selection by word overlap; it is off in the bAbI recipe,
because multi-hop tasks need facts that share no word with the question ("Where is the football?" needs
"John went to the kitchen" once "John picked up the football" is found). Training is the MemN2N one
(``zoo.models.babi_qa``). Measured: docs/memory_networks.md.
"""
import keras
import tensorflow as tf

from zoo.layers.memory import (answer_logits, encode_bags, memory_attention, memory_mask, position_encoding,
                               time_indices)
from zoo.models.babi_qa import MEMORY_SIZE, BabiQAModel, base_config
from zoo.models.memn2n import HalvingSchedule
from zoo.registry import register_model

VALUE_FEATURES = ("sentence", "last_word")


def last_words(stories):
    """stories (B, M, L) left-aligned ids -> (B, M, 1): each statement's last word (0 for an empty slot)."""
    length = tf.reduce_sum(tf.cast(tf.not_equal(stories, 0), tf.int32), axis=-1)
    last = tf.gather(stories, tf.maximum(length - 1, 0), batch_dims=2)
    return (last * tf.cast(length > 0, tf.int32))[..., None]


def hashed_keys(stories, questions, ignore):
    """Key hashing: (B, M) bool, True where the statement shares a word (not in ``ignore``) with the question."""
    q = questions
    for word in ignore:
        q = tf.where(tf.equal(q, word), 0, q)
    same = tf.equal(stories[..., :, None], q[:, None, None, :]) & tf.not_equal(stories, 0)[..., None]
    return tf.reduce_any(same, axis=[-2, -1])


@register_model
class KeyValueMemoryNetwork(BabiQAModel, keras.Model):
    """Stories (B, M, L) and questions (B, Lq) int32 -> answer logits (B, V); attention (B, hops, M).

    Args: vocab_size, memory_size, embedding_dim (d), hops (H), value_feature ("sentence" | "last_word"),
      temporal (temporal encoding of keys and values), key_hashing, hash_ignore (word ids that do not count
      as overlap), random_noise (RN), lr_halve_every / lr_halve_until (``HalvingSchedule``), vocabulary,
      loss_reduction, seed, init_stddev.
    """

    def __init__(self, vocab_size, memory_size=MEMORY_SIZE, embedding_dim=50, hops=3, value_feature="sentence",
                 temporal=True, key_hashing=False, hash_ignore=(), random_noise=0.1, lr_halve_every=15,
                 lr_halve_until=60, vocabulary=None, loss_reduction="sum", seed=None, init_stddev=0.1, **kwargs):
        super().__init__(**kwargs)
        if value_feature not in VALUE_FEATURES:
            raise ValueError(f"value_feature must be one of {VALUE_FEATURES}, got {value_feature!r}")
        self.vocab_size, self.memory_size, self.embedding_dim = int(vocab_size), int(memory_size), int(embedding_dim)
        self.hops, self.value_feature, self.temporal = int(hops), value_feature, bool(temporal)
        self.key_hashing, self.hash_ignore = bool(key_hashing), [int(w) for w in hash_ignore]
        self.random_noise, self.init_stddev = float(random_noise), float(init_stddev)
        self.lr_halve_every, self.lr_halve_until = lr_halve_every, lr_halve_until
        self._init_vocabulary(vocabulary)
        self._init_training(loss_reduction, seed)
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        init = keras.initializers.RandomNormal(stddev=self.init_stddev, seed=self.seed)
        shape = (self.vocab_size, self.embedding_dim)
        self.feature_embedding = self.add_weight(shape=shape, initializer=init, name="A")
        self.answer_embedding = self.add_weight(shape=shape, initializer=init, name="B")
        self.key_time = self.add_weight(shape=(self.memory_size, self.embedding_dim), initializer=init,
                                        name="key_temporal") if self.temporal else None
        self.value_time = self.add_weight(shape=(self.memory_size, self.embedding_dim), initializer=init,
                                          name="value_temporal") if self.temporal else None
        self.query_updates = [self.add_weight(shape=(self.embedding_dim, self.embedding_dim),
                                              initializer=keras.initializers.Identity(), name=f"R_{j}")
                              for j in range(self.hops)]
        self.built = True

    def answer_logits(self, stories, questions, training=False, seed=None):
        stories, questions = tf.cast(stories, tf.int32), tf.cast(questions, tf.int32)
        mask = memory_mask(stories)
        if self.key_hashing:
            mask = mask & hashed_keys(stories, questions, self.hash_ignore)
        noise = self.random_noise if training else 0.0
        if noise and seed is None:
            seed = tf.cast(self.seed_generator.next(), tf.int32)
        rows = time_indices(mask, noise, seed, limit=self.memory_size)
        a = self.feature_embedding
        keys = encode_bags(a, stories, "position", position_encoding(stories, self.embedding_dim))
        values = keys if self.value_feature == "sentence" else encode_bags(a, last_words(stories), "bow")
        if self.temporal:
            keys, values = keys + tf.gather(self.key_time, rows), values + tf.gather(self.value_time, rows)
        q = encode_bags(a, questions, "position")
        attentions = []
        for r in self.query_updates:
            p = memory_attention(tf.einsum("bmd,bd->bm", keys, q), mask)
            o = tf.einsum("bm,bmd->bd", p, values)
            q = tf.matmul(q + o, r)
            attentions.append(p)
        return answer_logits(q, self.answer_embedding), tf.stack(attentions, axis=1)

    def training_callbacks(self):
        return [HalvingSchedule(self.lr_halve_every, self.lr_halve_until)] if self.lr_halve_every else []

    def get_config(self):
        return {**super().get_config(), **base_config(self), "embedding_dim": self.embedding_dim, "hops": self.hops,
                "value_feature": self.value_feature, "temporal": self.temporal, "key_hashing": self.key_hashing,
                "hash_ignore": self.hash_ignore, "random_noise": self.random_noise,
                "lr_halve_every": self.lr_halve_every, "lr_halve_until": self.lr_halve_until,
                "init_stddev": self.init_stddev}
