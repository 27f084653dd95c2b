"""A stack of LSTM or GRU layers with explicit state, for language models and sequence decoders.

Dropout sits on the non-recurrent connections only (Zaremba, Sutskever & Vinyals 2014): on the stack's
input, between layers and on its output. It is drawn from an explicit stateless seed, so a training
step's noise is a function of (model seed, optimizer step) and a resumed run repeats it exactly
(``zoo.models.seeding.step_seed``).

State: a flat tuple of (B, H) tensors, (h, c) per LSTM layer, (h,) per GRU layer, bottom layer first;
``zero_state(B)`` makes it. ``call`` runs whole sequences (B, T, E) -> (B, T, H); ``step`` runs one
position (B, E) -> (B, H) with the cells directly (cached one-token decoding).

Speed: unmasked LSTM sequences (training, TBPTT windows, scoring) run ``zoo.layers.fused_lstm`` over the Keras
layers' own weights: the same numbers, about 1.5-1.8x faster forward and backward on this CPU
(bench/recurrent_speed.py); masked ones (prompts of unequal length) and GRUs run Keras' loop.
"""
import keras
import tensorflow as tf

from zoo.layers.fused_lstm import lstm_sequence

CELLS = {"lstm": (keras.layers.LSTM, 2), "gru": (keras.layers.GRU, 1)}


def stateless_dropout(x, rate, seed, salt):
    """Inverted dropout of ``x`` with a (2,) int32 ``seed`` folded with ``salt`` (one stream per site)."""
    if not rate:
        return x
    seed = tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int32), salt)
    return tf.nn.experimental.stateless_dropout(x, rate=rate, seed=seed)


class RecurrentStack(keras.layers.Layer):
    """``num_layers`` recurrent layers of ``units`` each.

    cell: "lstm" (Hochreiter & Schmidhuber 1997) or "gru" (Cho et al. 2014); dropout: rate on the
    non-recurrent connections (0 for none); fused: unmasked LSTM sequences take ``lstm_sequence`` (False:
    always Keras' loop, the reference the tests compare with). Not a config value: weights and numbers are
    the same either way.
    """

    def __init__(self, units, num_layers=1, cell="lstm", dropout=0.0, fused=True, **kwargs):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.units, self.num_layers, self.cell, self.dropout = int(units), int(num_layers), cell, float(dropout)
        self.fused = bool(fused)
        self.supports_masking = True  # ``call`` takes a mask: masked steps keep the state (prompts of unequal length)
        layer_class, self.states_per_layer = CELLS[cell]
        self.rnns = [layer_class(self.units, return_sequences=True, return_state=True, name=f"{cell}_{i}")
                     for i in range(self.num_layers)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = shape[:-1] + (self.units,)

    def zero_state(self, batch_size, dtype=tf.float32):
        """The all-zero state of a batch: tuple of num_layers * states_per_layer (B, H) tensors."""
        return tuple(tf.zeros([batch_size, self.units], dtype) for _ in range(self.num_layers * self.states_per_layer))

    def _layer_state(self, state, i):
        k = self.states_per_layer
        return list(state[i * k:(i + 1) * k])

    def call(self, x, initial_state=None, mask=None, training=False, seed=None):
        """x (B, T, E) -> (outputs (B, T, H), final state). ``mask`` (B, T) bool: masked steps keep the state.
        ``seed`` (2,) int32 is needed for dropout in training."""
        if initial_state is None:
            initial_state = self.zero_state(tf.shape(x)[0], x.dtype)
        use_dropout = training and self.dropout > 0
        final = []
        for i, rnn in enumerate(self.rnns):
            if use_dropout:
                x = stateless_dropout(x, self.dropout, seed, i)
            layer_state = self._layer_state(initial_state, i)
            if self.fused and self.cell == "lstm" and mask is None:
                cell = rnn.cell
                x, *state = lstm_sequence(x, *layer_state, cell.kernel, cell.recurrent_kernel, cell.bias)
            else:
                x, *state = rnn(x, initial_state=layer_state, mask=mask, training=training)
            final.extend(state)
        if use_dropout:
            x = stateless_dropout(x, self.dropout, seed, self.num_layers)
        return x, tuple(final)

    def step(self, x, state):
        """One position: x (B, E), state -> (output (B, H), new state). Inference only (no dropout)."""
        new_state = []
        for i, rnn in enumerate(self.rnns):
            x, layer_state = rnn.cell(x, self._layer_state(state, i), training=False)
            new_state.extend(layer_state if isinstance(layer_state, (list, tuple)) else [layer_state])
        return x, tuple(new_state)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_layers": self.num_layers, "cell": self.cell,
                "dropout": self.dropout}
