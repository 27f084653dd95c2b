"""What a model declares for export: one named, typed entry point per signature."""
import dataclasses
from typing import Callable, Dict, Sequence

import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class Endpoint:
    """A serving signature.

    fn: a function of tensors returning a dict of named output tensors (core TF ops only, so
        stock TF Serving can run it).
    input_signature: one ``tf.TensorSpec`` per argument of ``fn``; each spec's ``name`` is the
        signature's input key.
    example: inputs for a warm-up request and for the export check, keyed by input name.
    doc: one line for the model card.
    tied_outputs: outputs that are an arg-max over scores that can tie exactly (e.g. the tokens of the most
        probable sequence of a Markov chain, where cycles can be traversed in orders of equal probability):
        eager and graph float rounding may pick different, equally good answers, so the export checks
        compare the scores (the other outputs) and not these.
    """

    fn: Callable[..., Dict[str, tf.Tensor]]
    input_signature: Sequence[tf.TensorSpec]
    example: Dict[str, np.ndarray]
    doc: str = ""
    tied_outputs: Sequence[str] = ()

    def __post_init__(self):
        names = [spec.name for spec in self.input_signature]
        if None in names or set(names) != set(self.example):
            raise ValueError(f"every input spec needs a name matching an example input; specs {names}, "
                             f"example {sorted(self.example)}")

    def call_with_example(self):
        """Runs ``fn`` eagerly on the example inputs: dict of numpy outputs."""
        args = [tf.constant(self.example[spec.name], dtype=spec.dtype) for spec in self.input_signature]
        return {k: v.numpy() for k, v in self.fn(*args).items()}
