"""What a model declares for export: one named, typed entry point per signature, and the checks of its
inputs that run in the graph before it (so stock TF Serving refuses a bad request with INVALID_ARGUMENT
naming the input, as ``zoo serve`` does)."""
import dataclasses
from typing import Callable, Dict, Sequence

import numpy as np
import tensorflow as tf

from zoo.data.validation import default_check


@dataclasses.dataclass
class Endpoint:
    """A serving signature.

    fn: a function of tensors returning a dict of named output tensors (core TF ops only, so
        stock TF Serving can run it).
    input_signature: one ``tf.TensorSpec`` per argument of ``fn``; each spec's ``name`` is the
        signature's input key.
    example: inputs for a warm-up request and for the export check, keyed by input name.
    doc: one line for the model card.
    checks: {input name: check} for inputs whose valid values the dtype does not say (a ``Range`` of a
        count or seed, ``Binary`` images, ``Counts`` of words); every other input gets
        ``zoo.data.validation.default_check`` (floats finite, strings UTF-8). A check is an object with
        ``graph_check(name, tensor) -> Assert op``; ``guarded_fn`` runs them all before ``fn``.
    tied_outputs: outputs that are an arg-max over scores that can tie exactly (e.g. the tokens of the most
        probable sequence of a Markov chain, where cycles can be traversed in orders of equal probability):
        eager and graph float rounding may pick different, equally good answers, so the export checks
        compare the scores (the other outputs) and not these.
    """

    fn: Callable[..., Dict[str, tf.Tensor]]
    input_signature: Sequence[tf.TensorSpec]
    example: Dict[str, np.ndarray]
    doc: str = ""
    checks: Dict[str, object] = dataclasses.field(default_factory=dict)
    tied_outputs: Sequence[str] = ()

    def __post_init__(self):
        names = [spec.name for spec in self.input_signature]
        if None in names or set(names) != set(self.example):
            raise ValueError(f"every input spec needs a name matching an example input; specs {names}, "
                             f"example {sorted(self.example)}")
        if not set(self.checks) <= set(names):
            raise ValueError(f"checks name inputs {sorted(set(self.checks) - set(names))} that are not inputs")

    def input_checks(self, *args):
        """The assertion ops of every input (declared or by dtype), for ``tf.control_dependencies``."""
        ops = []
        for spec, value in zip(self.input_signature, args):
            check = self.checks.get(spec.name) or default_check(spec.dtype)
            if check is not None:
                ops.append(check.graph_check(spec.name, value))
        return ops

    def guarded_fn(self, *args):
        """``fn`` on the inputs after every input check: ``fn`` reads each input through an identity that
        depends on the checks (a data dependency, which survives function inlining where a control dependency
        on the call alone did not), and each output passes through one too."""
        with tf.control_dependencies(self.input_checks(*args)):
            checked = [tf.identity(arg) for arg in args]
            outputs = self.fn(*checked)
            return {key: tf.identity(value) for key, value in outputs.items()}

    def call_with_example(self):
        """Runs ``fn`` eagerly on the example inputs: dict of numpy outputs."""
        args = [tf.constant(self.example[spec.name], dtype=spec.dtype) for spec in self.input_signature]
        return {k: v.numpy() for k, v in self.guarded_fn(*args).items()}
