"""End-to-end memory network (Sukhbaatar, Szlam, Weston & Fergus 2015, "End-To-End Memory Networks", NIPS).

For a story x_1..x_n (memory slot i holds the i-th most recent of the last ``memory_size`` = 50 statements) and
a question q, with K hops (section 2):

    u^1 = B q                                           (the question's encoding)
    m_i = A^k x_i + T_A^k(i),  c_i = C^k x_i + T_C^k(i)  (input and output memories, temporal encoding T)
    p^k = softmax(u^k . m_i)                             (attention of hop k over the memories)
    o^k = sum_i p^k_i c_i,  u^{k+1} = u^k + o^k          (or H u^k + o^k with layer-wise tying)
    a   = softmax(W u^{K+1})                             (the answer, over the whole vocabulary)

``A x`` is a bag of words, the sum of the words' embeddings (``encoding="bow"``), or the position encoding
(PE, ``"position"``: each word weighted by l_kj, section 4.1). Weight tying (section 2.2): ``"adjacent"``:
A^{k+1} = C^k, W^T = C^K, B = A^1 (and the same for T); ``"layerwise"``: A^1 = ... = A^K, C^1 = ... = C^K,
u^{k+1} = H u^k + o^k. Training tricks (section 4.2): linear start (LS: the memory softmaxes are removed, the
attention is the raw masked scores, until the validation loss stops falling; ``LinearStart``), random noise
(RN: 10% empty memories inserted at training time, ``zoo.layers.memory.time_indices``), gradient clipping at
norm 40 and the learning rate halved every 25 epochs up to epoch 100 (per task) or every 15 up to 60 (joint)
(``HalvingSchedule``; the recipes give the optimizer). Embeddings start from N(0, 0.1^2).

Paper (bAbI, mean test error over the 20 tasks, best of 10 runs): 1k, PE LS RN joint 12.4% (the official Matlab
code re-run: 12.4% joint, 13.8% per task); 10k, PE LS RN 6.6%, the best variant (with a ReLU) 4.2%.
Measured: docs/memory_networks.md.
"""
import keras
import tensorflow as tf

from zoo.layers.memory import (answer_logits, encode_bags, memory_attention, memory_mask, position_encoding,
                               time_indices)
from zoo.models.babi_qa import MEMORY_SIZE, BabiQAModel, base_config
from zoo.registry import register_model

TYING = ("adjacent", "layerwise")


@register_model
class MemN2N(BabiQAModel, keras.Model):
    """Stories (B, M, L) and questions (B, Lq) int32 -> answer logits (B, V); ``answer_logits`` also returns each
    hop's attention (B, hops, M).

    Args:
      vocab_size: V (id 0 is padding). memory_size: M, the memory slots and the temporal encoding's rows.
      embedding_dim: d (paper: 20 per task, 50 joint). hops: K (3).
      encoding: "position" (PE) or "bow". temporal: add the temporal encoding T_A, T_C.
      tying: "adjacent" or "layerwise". linear_start: start in the LS phase (see ``LinearStart``).
      linear_start_max_epochs, linear_start_learning_rate, linear_start_patience: LS runs at its own rate
        (the paper's 0.005) until the validation loss has not fallen for ``patience`` epochs, at most
        ``max_epochs`` (``LinearStart``); the recipe's rate and ``HalvingSchedule`` then count from its end.
      random_noise: probability of an empty memory before each statement at training time (RN; paper 0.1).
      lr_halve_every, lr_halve_until: the paper's schedule (``HalvingSchedule``); None keeps the rate fixed.
      vocabulary: a ``zoo.data.babi.BabiVocabulary`` config (set from the data when None).
      loss_reduction: "sum" over the batch (the official code's) or "mean". seed: the noise's seed.
    """

    def __init__(self, vocab_size, memory_size=MEMORY_SIZE, embedding_dim=20, hops=3, encoding="position",
                 temporal=True, tying="adjacent", linear_start=True, linear_start_max_epochs=20,
                 linear_start_learning_rate=0.005, linear_start_patience=1, random_noise=0.1,
                 lr_halve_every=25, lr_halve_until=100, vocabulary=None, loss_reduction="sum", seed=None,
                 init_stddev=0.1, **kwargs):
        super().__init__(**kwargs)
        if tying not in TYING:
            raise ValueError(f"tying must be one of {TYING}, got {tying!r}")
        if encoding not in ("position", "bow"):
            raise ValueError(f"encoding must be 'position' or 'bow', got {encoding!r}")
        self.vocab_size, self.memory_size, self.embedding_dim = int(vocab_size), int(memory_size), int(embedding_dim)
        self.hops, self.encoding, self.temporal, self.tying = int(hops), encoding, bool(temporal), tying
        self.linear_start, self.linear_start_max_epochs = bool(linear_start), int(linear_start_max_epochs)
        self.linear_start_learning_rate = float(linear_start_learning_rate)
        self.linear_start_patience = int(linear_start_patience)
        self.random_noise, self.init_stddev = float(random_noise), float(init_stddev)
        self.lr_halve_every, self.lr_halve_until = lr_halve_every, lr_halve_until
        self._init_vocabulary(vocabulary)
        self._init_training(loss_reduction, seed)
        self.build()

    # === Layers ===
    def build(self, input_shape=None):
        """Every weight's shape follows from the config, so ``__init__`` builds the model."""
        if self.built:
            return
        init = keras.initializers.RandomNormal(stddev=self.init_stddev, seed=self.seed)
        count = self.hops + 1 if self.tying == "adjacent" else 4  # adjacent: E_0..E_K; layer-wise: A, C, B, W
        self.word_embeddings = [self.add_weight(shape=(self.vocab_size, self.embedding_dim), initializer=init,
                                                name=f"embedding_{i}") for i in range(count)]
        tables = self.hops + 1 if self.tying == "adjacent" else 2
        tables = tables if self.temporal else 0
        self.temporal_embeddings = [self.add_weight(shape=(self.memory_size, self.embedding_dim), initializer=init,
                                                    name=f"temporal_{i}") for i in range(tables)]
        self.query_map = (self.add_weight(shape=(self.embedding_dim, self.embedding_dim), initializer=init,
                                          name="H") if self.tying == "layerwise" else None)
        self.linear = self.add_weight(shape=(), initializer=keras.initializers.Constant(float(self.linear_start)),
                                      trainable=False, name="linear_start")
        self.linear_start_end = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                name="linear_start_end")  # the epoch LS ended (LinearStart)
        self.built = True

    def hop_weights(self, k):
        """(A^k, C^k, T_A^k, T_C^k) of hop k = 0..K-1 under the tying scheme (T entries None without temporal)."""
        if self.tying == "adjacent":
            a, c = self.word_embeddings[k], self.word_embeddings[k + 1]
            ta, tc = (self.temporal_embeddings[k], self.temporal_embeddings[k + 1]) if self.temporal else (None, None)
        else:
            a, c = self.word_embeddings[0], self.word_embeddings[1]
            ta, tc = (self.temporal_embeddings[0], self.temporal_embeddings[1]) if self.temporal else (None, None)
        return a, c, ta, tc

    def question_embedding(self):
        return self.word_embeddings[0] if self.tying == "adjacent" else self.word_embeddings[2]

    def output_embedding(self):
        return self.word_embeddings[-1]  # adjacent: W^T = C^K; layer-wise: its own W

    def answer_logits(self, stories, questions, training=False, seed=None):
        """stories (B, M, L), questions (B, Lq) -> (logits (B, V), attention (B, K, M))."""
        stories, questions = tf.cast(stories, tf.int32), tf.cast(questions, tf.int32)
        mask = memory_mask(stories)
        noise = self.random_noise if training else 0.0
        if noise and seed is None:
            seed = tf.cast(self.seed_generator.next(), tf.int32)
        rows = time_indices(mask, noise, seed, limit=self.memory_size)
        u = encode_bags(self.question_embedding(), questions, self.encoding)
        weights = position_encoding(stories, self.embedding_dim) if self.encoding == "position" else None
        encoded = {}  # one encoding of the stories per distinct matrix (adjacent tying: A^{k+1} = C^k)

        def memories(embedding, table):
            key = id(embedding)
            if key not in encoded:
                encoded[key] = encode_bags(embedding, stories, self.encoding, weights)
            return encoded[key] + tf.gather(table, rows) if table is not None else encoded[key]

        attentions = []
        for k in range(self.hops):
            a, c, ta, tc = self.hop_weights(k)
            m, out = memories(a, ta), memories(c, tc)
            p = memory_attention(tf.einsum("bmd,bd->bm", m, u), mask, self.linear)
            o = tf.einsum("bm,bmd->bd", p, out)
            u = (tf.matmul(u, self.query_map) if self.query_map is not None else u) + o
            attentions.append(p)
        return answer_logits(u, self.output_embedding()), tf.stack(attentions, axis=1)

    def training_callbacks(self):
        """The recipe's learning rate is the one after linear start (``HalvingSchedule``); LS has its own."""
        callbacks = []
        if self.lr_halve_every:
            callbacks.append(HalvingSchedule(self.lr_halve_every, self.lr_halve_until))
        if self.linear_start:
            callbacks.append(LinearStart(self.linear_start_max_epochs, self.linear_start_learning_rate,
                                         self.linear_start_patience))
        return callbacks

    # === Config ===
    def get_config(self):
        return {**super().get_config(), **base_config(self), "embedding_dim": self.embedding_dim, "hops": self.hops,
                "encoding": self.encoding, "temporal": self.temporal, "tying": self.tying,
                "linear_start": self.linear_start, "linear_start_max_epochs": self.linear_start_max_epochs,
                "linear_start_learning_rate": self.linear_start_learning_rate,
                "linear_start_patience": self.linear_start_patience,
                "random_noise": self.random_noise, "lr_halve_every": self.lr_halve_every,
                "lr_halve_until": self.lr_halve_until, "init_stddev": self.init_stddev}


class LinearStart(keras.callbacks.Callback):
    """Linear start (section 4.2): while the model's ``linear`` switch is 1 (no memory softmax) the learning rate is
    ``learning_rate`` (the paper's 0.005); the switch goes to 0 for good when the validation loss has not fallen
    for ``patience`` epochs, or after ``max_epochs``, and the model's ``linear_start_end`` weight records the
    epoch, from which ``HalvingSchedule`` then counts. Both are model weights: they survive a resumed run."""

    def __init__(self, max_epochs=30, learning_rate=0.005, patience=1, monitor="val_loss"):
        super().__init__()
        self.max_epochs, self.learning_rate, self.patience, self.monitor = max_epochs, learning_rate, patience, monitor
        self.best, self.waited = None, 0

    def active(self):
        return float(self.model.linear.numpy()) != 0.0

    def on_epoch_begin(self, epoch, logs=None):
        if self.active():
            self.model.optimizer.learning_rate.assign(self.learning_rate)

    def on_epoch_end(self, epoch, logs=None):
        if not self.active():
            return
        value = (logs or {}).get(self.monitor)
        if value is not None and (self.best is None or value < self.best):
            self.best, self.waited = value, 0
        else:
            self.waited += 1
        if self.waited >= self.patience or epoch + 1 >= self.max_epochs:
            self.model.linear.assign(0.0)
            self.model.linear_start_end.assign(float(epoch + 1))
            print(f"LinearStart: softmax re-inserted after epoch {epoch + 1} ({self.monitor} {value})")


class HalvingSchedule(keras.callbacks.Callback):
    """The paper's schedule: ``learning_rate`` (the recipe's, 0.01 in the paper), halved every ``every`` epochs until
    ``until`` epochs have passed (25 and 100 per task, 15 and 60 joint), counted from the end of linear start
    (the model's ``linear_start_end`` weight, if it has one; the epoch count before it belongs to ``LinearStart``)."""

    def __init__(self, every, until=None, learning_rate=None):
        super().__init__()
        self.every, self.until, self.learning_rate = int(every), until, learning_rate

    def factor(self, epoch):
        last = epoch if self.until is None else min(epoch, int(self.until) - 1)
        return 0.5 ** (max(last, 0) // self.every)

    def on_train_begin(self, logs=None):
        if self.learning_rate is None:
            self.learning_rate = float(self.model.optimizer.learning_rate.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        if float(getattr(self.model, "linear", tf.constant(0.0)).numpy()) != 0.0:
            return  # linear start sets the rate
        start = float(getattr(self.model, "linear_start_end", tf.constant(0.0)).numpy())
        self.model.optimizer.learning_rate.assign(self.learning_rate * self.factor(epoch - int(start)))
