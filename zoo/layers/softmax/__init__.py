"""Output layers for large vocabularies, one class per method, all behind one contract (``base.OutputLayer``):
a training ``loss`` that may be approximate or sampled, and exact ``log_probs`` / ``log_prob`` for evaluation.

    layer = output_layer({"kind": "adaptive", "cutoffs": [2000]}, vocab_size=10000)
"""
from zoo.layers.softmax.adaptive import AdaptiveSoftmax
from zoo.layers.softmax.base import OutputLayer
from zoo.layers.softmax.full import FullSoftmax
from zoo.layers.softmax.hierarchical import ClassHierarchicalSoftmax
from zoo.layers.softmax.sampled import NCE, NegativeSampling, OneVsEach, SampledSoftmax
from zoo.layers.softmax.svd import SVDSoftmax

OUTPUT_LAYERS = {"full": FullSoftmax, "sampled": SampledSoftmax, "nce": NCE, "negative_sampling": NegativeSampling,
                 "one_vs_each": OneVsEach, "hierarchical": ClassHierarchicalSoftmax, "adaptive": AdaptiveSoftmax,
                 "svd": SVDSoftmax}


def output_layer(config, vocab_size, name="softmax"):
    """The layer of ``config`` ({"kind": ..., its arguments}; None: the full softmax) for ``vocab_size`` words."""
    config = dict(config or {"kind": "full"})
    kind = config.pop("kind", "full")
    if kind not in OUTPUT_LAYERS:
        raise ValueError(f"unknown softmax kind {kind!r}; known: {sorted(OUTPUT_LAYERS)}")
    return OUTPUT_LAYERS[kind](vocab_size, name=name, **config)


__all__ = ["OutputLayer", "OUTPUT_LAYERS", "output_layer", "FullSoftmax", "SampledSoftmax", "NCE", "NegativeSampling",
           "OneVsEach", "ClassHierarchicalSoftmax", "AdaptiveSoftmax", "SVDSoftmax"]
