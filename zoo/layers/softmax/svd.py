"""SVD-softmax (Shim, Lee, Kang & Kim, NeurIPS 2017): an inference-time approximation of the full softmax.
The output matrix W (V, H) is factorised once, W = U S V^T; a preview of every logit uses only the first
``width`` singular directions, the ``top_n`` best candidates are re-scored at full precision, and the softmax
runs over that mix. Trained as the full softmax; its exact ``log_probs`` are the full softmax's.
"""
import tensorflow as tf

from zoo.layers.softmax.full import FullSoftmax


class SVDSoftmax(FullSoftmax):
    def __init__(self, vocab_size, preview_width=64, top_n=256, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.preview_width, self.top_n = int(preview_width), int(top_n)
        self._factors = None

    def factorize(self):
        """B = U S (V, H) and the right singular vectors V (H, H) of the current kernel, once."""
        s, u, v = tf.linalg.svd(tf.convert_to_tensor(self.kernel), full_matrices=False)
        self._factors = (u * s, v)
        return self._factors

    def fast_log_probs(self, hidden, preview_width=None, top_n=None):
        """Approximate log p (N, V): the preview logits of width ``preview_width``, the ``top_n`` best of them
        replaced by exact logits. With width H and top_n V it is the full softmax."""
        width = min(preview_width or self.preview_width, int(self.kernel.shape[1]))
        top_n = min(top_n or self.top_n, self.vocab_size)
        scaled_u, v = self._factors or self.factorize()
        preview = tf.matmul(tf.matmul(hidden, v[:, :width]), scaled_u[:, :width], transpose_b=True) + self.bias
        _, candidates = tf.math.top_k(preview, k=top_n)  # (N, top_n)
        exact = tf.einsum("nh,nkh->nk", hidden, tf.gather(self.kernel, candidates)) + tf.gather(self.bias, candidates)
        rows = tf.tile(tf.range(tf.shape(hidden)[0])[:, None], [1, top_n])
        logits = tf.tensor_scatter_nd_update(preview, tf.stack([rows, candidates], axis=-1), exact)
        return tf.nn.log_softmax(logits)

    def get_config(self):
        return {**super().get_config(), "preview_width": self.preview_width, "top_n": self.top_n}
