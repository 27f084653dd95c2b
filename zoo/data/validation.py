"""Input checks shared by loaders, model methods, the command line and exported signatures."""
import argparse
import dataclasses
import math
from typing import Optional

import numpy as np
import tensorflow as tf


def check_binary(x, what):
    """Raises ValueError naming ``what`` if array ``x`` holds anything but 0 and 1 (NaN included)."""
    x = np.asarray(x)
    bad = ~((x == 0) | (x == 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what}: expected binary values in {{0, 1}} for a Bernoulli likelihood, found "
                         f"{int(bad.sum())} other value(s), first {x[index].item()!r} at index {index}")
    return x


def check_feature_size(x, size, what):
    """Raises ValueError unless ``x`` has shape (N, size)."""
    shape = np.shape(x)
    if len(shape) != 2 or shape[1] != size:
        raise ValueError(f"{what}: expected shape (N, {size}), got {tuple(shape)}")
    return x


def assert_binary(x, name):
    """Graph-side twin of ``check_binary`` for serving signatures: a core-op ``Assert`` that fails the
    request with InvalidArgument naming the input."""
    with tf.control_dependencies([Binary().graph_check(name, x)]):
        return tf.identity(x)


# === Graph checks of serving inputs ===
MAX_SERVED_SAMPLES = 10_000  # samples one request may ask for (num_samples): (B, k) work per request
# Each check has ``graph_check(name, tensor) -> Assert op``; ``zoo.export.endpoint.Endpoint`` runs one per
# input before the signature's function, so stock TF Serving answers a bad request with INVALID_ARGUMENT and
# these words. Inputs an endpoint does not declare get ``default_check`` by dtype.


def _bad_rows(ok):
    """Indices of the rows (first axis) of a boolean tensor where some entry is False (at most 10)."""
    if ok.shape.rank == 0:
        ok = tf.reshape(ok, [1, 1])
    else:
        shape = tf.shape(ok)
        ok = tf.reshape(ok, tf.stack([shape[0], tf.reduce_prod(shape[1:])]))
    return tf.where(tf.logical_not(tf.reduce_all(ok, axis=1)))[:10, 0]


class Finite:
    """Every entry finite (no NaN, no +-Inf): a latent vector with Inf once gave NaN logits with HTTP 200."""

    def graph_check(self, name, x):
        ok = tf.math.is_finite(tf.cast(x, tf.float32))
        return tf.debugging.Assert(tf.reduce_all(ok), [f"input {name}: must hold finite numbers (no NaN "
                                                       "or Inf); first bad rows:", _bad_rows(ok)], name=f"check_{name}")


class Binary:
    """Every entry 0 or 1 (a Bernoulli likelihood's data)."""

    def graph_check(self, name, x):
        ok = tf.logical_or(tf.equal(x, 0.0), tf.equal(x, 1.0))
        return tf.debugging.Assert(tf.reduce_all(ok), [f"input {name}: must hold only 0 and 1; first bad rows:",
                                                       _bad_rows(ok)], name=f"check_{name}")


class Counts:
    """Word counts: finite non-negative integers; with ``nonempty`` every row (document) has a word."""

    def __init__(self, nonempty=False):
        self.nonempty = nonempty

    def graph_check(self, name, x):
        ok = tf.logical_and(tf.math.is_finite(x), tf.logical_and(x >= 0.0, tf.equal(x, tf.round(x))))
        check = tf.debugging.Assert(tf.reduce_all(ok), [f"input {name}: must hold non-negative integer word "
                                                        "counts; first bad rows:", _bad_rows(ok)])
        if not self.nonempty:
            return check
        has_words = tf.reduce_sum(tf.where(ok, x, 0.0), axis=1) > 0
        with tf.control_dependencies([check]):
            return tf.debugging.Assert(tf.reduce_all(has_words), [
                f"input {name}: every document must hold at least one word (a per-word perplexity of an "
                "empty document is undefined); empty rows:", _bad_rows(has_words)], name=f"check_{name}")


class Utf8:
    """Every string valid UTF-8 (non-UTF-8 text once gave an all-zero bag of words, as if empty)."""

    def graph_check(self, name, x):
        ok = tf.equal(tf.strings.unicode_transcode(x, "UTF-8", "UTF-8", errors="replace"), x)
        return tf.debugging.Assert(tf.reduce_all(ok), [f"input {name}: must be UTF-8 text; first rows that "
                                                       "are not:", _bad_rows(ok)], name=f"check_{name}")


def default_check(dtype):
    """The check every input of ``dtype`` gets unless its endpoint declares another: floats finite, strings
    UTF-8, integers none (their ranges depend on the input: declare a ``Range``)."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_floating:
        return Finite()
    if dtype == tf.string:
        return Utf8()
    return None


@dataclasses.dataclass(frozen=True)
class Range:
    """Numbers of ``kind`` (int or float) in [low, high] (``low_open``: low excluded); floats must be finite."""

    kind: type
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False

    def describe(self):
        what = "an integer" if self.kind is int else "a finite number"
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            return f"{what} in {left}{_num(self.low)}, {_num(self.high)}]"
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {_num(self.low)}"
        return what

    def check(self, name, value):
        """``value`` converted to ``kind`` if it is in range, else ValueError naming ``name`` and the value."""
        try:
            ok = self.accepts(value)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}")
        return self.kind(value)

    def argparse_type(self, name):
        """An ``argparse`` ``type=`` that converts and range-checks (``--temperature 0``: a usage error)."""
        def convert(text):
            try:
                return self.check(name, float(text) if self.kind is float else int(text, 10))
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
        convert.__name__ = name
        return convert

    def graph_check(self, name, value):
        """A core-op assertion that every entry of ``value`` (a tensor) is in range; a serving request with a bad
        value fails with InvalidArgument "input <name>: must be <range>, got <value>" (no quotes: TF's Assert
        escapes them)."""
        value = tf.convert_to_tensor(value)
        x = tf.cast(value, tf.float64)
        ok = tf.reduce_all(tf.math.is_finite(x))
        if self.low is not None:
            ok = tf.logical_and(ok, tf.reduce_all(x > self.low if self.low_open else x >= self.low))
        if self.high is not None:
            ok = tf.logical_and(ok, tf.reduce_all(x <= self.high))
        return tf.debugging.Assert(ok, [f"input {name}: must be {self.describe()}, got", value],
                                   name=f"check_{name}")

    def accepts(self, value):
        if self.kind is int and (isinstance(value, bool) or not float(value).is_integer()):
            return False
        value = float(value)
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high


def _num(value):
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
