"""Decoders for autoregressive models: greedy, sampling (temperature / top-k / top-p), beam search, and
exact Viterbi / A* search for order-d Markov models.

The left-to-right decoders share one contract, ``step_fn(tokens int32 (B,), state) -> (logits (B, V),
new_state)`` (see ``zoo.decoding.state``), and are plain TensorFlow: they run eagerly, under
``tf.function`` and inside exported SavedModel signatures. ``decode(name, ...)`` gives them one output
format for models' ``generate``.
"""
import tensorflow as tf

from zoo.decoding.astar import (HEURISTICS, AStarResult, astar, lookahead_heuristic, lookahead_tables,
                               min_transition_heuristic)
from zoo.decoding.beam import beam_search
from zoo.decoding.greedy import greedy
from zoo.decoding.params import PARAMETERS, graph_checks
from zoo.decoding.sampling import filter_top_k, filter_top_p, sample
from zoo.decoding.state import (BeamResult, DecodeResult, gather_state, gnmt_length_penalty, tile_state)
from zoo.decoding.viterbi import (ViterbiResult, all_contexts, context_index, sequence_lengths, transition_table,
                                  viterbi)

DECODERS = {"greedy": greedy, "sample": sample, "beam": beam_search}


def decode(name, step_fn, start_tokens, initial_state, max_length, **params):
    """Runs the decoder ``name`` ("greedy", "sample" or "beam") and returns a common dict:

      tokens      int32 (B, T)    the sequence (the best of the n-best for beam search)
      log_probs   float32 (B, T)  per-token log p under the model (0 after EOS)
      scores      float32 (B,)    sequence score: the log-prob sum, length-penalised for beam search
      lengths     int32 (B,)      tokens up to and including the first EOS

    ``params`` are the decoder's keyword arguments (``seed``, ``temperature``, ``beam_width``, ``eos_id``...).
    Every parameter is range-checked first (``zoo.decoding.params``): Python numbers raise ValueError, tensors
    (a serving request's) fail with InvalidArgument naming the parameter; ``limit`` is checked as
    ``max_tokens``.
    """
    if name not in DECODERS:
        raise ValueError(f"unknown decoder {name!r}; choose from {sorted(DECODERS)}")
    checks = graph_checks({**params, "max_tokens": params.get("limit")})
    with tf.control_dependencies(checks):
        result = DECODERS[name](step_fn, start_tokens, initial_state, max_length, **params)
    if isinstance(result, BeamResult):
        return {"tokens": result.tokens[:, 0], "log_probs": result.token_log_probs[:, 0],
                "scores": result.scores[:, 0], "lengths": result.lengths[:, 0]}
    return {"tokens": result.tokens, "log_probs": result.log_probs,
            "scores": tf.reduce_sum(result.log_probs, axis=-1), "lengths": result.lengths}


__all__ = ["greedy", "sample", "beam_search", "viterbi", "astar", "decode", "DECODERS", "filter_top_k",
           "filter_top_p", "transition_table", "context_index", "all_contexts", "sequence_lengths",
           "min_transition_heuristic", "lookahead_heuristic", "lookahead_tables", "HEURISTICS", "gather_state",
           "tile_state", "gnmt_length_penalty", "DecodeResult", "BeamResult", "ViterbiResult", "AStarResult",
           "PARAMETERS"]
