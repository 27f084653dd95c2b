"""A* search (Hart, Nilsson & Raphael 1968) for the most probable sequence of an order-d Markov model.

Same model, table layout and end-of-sequence convention as ``viterbi`` (see its docstring), so both return
the same optimum. Nodes are prefixes; a node's cost is g = -sum log p of its tokens and its priority
f = g + h. A node is a goal when it has ``length`` tokens or ends with EOS; goals are recognised when
popped, so the first goal popped is optimal whenever h never overestimates the remaining cost.

Heuristic (``heuristic="min_transition"``, admissible, deliberately not the exact cost-to-go): with
c = the smallest cost -log p(v | s) over the whole table (EOS column excluded when ``eos_id`` is set) and
e = the smallest EOS cost, every completion of a prefix with r > 0 tokens to go costs at least

    h = r * c                                          (no EOS: exactly r more tokens)
    h = min(r * c, e + min(0, (r - 1) * c))            (with EOS: r non-EOS tokens, or j < r then EOS)

and h = 0 for goals. ``heuristic="zero"`` gives uniform-cost search (Dijkstra) for comparison.

The frontier has a fixed capacity C (arrays prefix (C, T), g (C,), f (C,), ...); pop = arg-min f over the
alive slots, and the V children of an expanded node go to free slots. When the frontier is full, a child
replaces the alive node with the largest f if the child's f is smaller (otherwise it is dropped), and the
result is flagged ``exact=False``: still a valid complete sequence with its true log-prob, but possibly
not the optimum. One start context per call (no batch dim).
"""
from typing import NamedTuple

import tensorflow as tf

from zoo.decoding.state import mask_column, static_int
from zoo.decoding.viterbi import context_index, sequence_lengths

_INF = float("inf")


class AStarResult(NamedTuple):
    """Output of ``astar`` for one start context."""

    tokens: tf.Tensor    # int32 (T,): the best sequence found, eos_id after its EOS
    log_prob: tf.Tensor  # float32 (): its total log-probability (-inf if no finite sequence was found)
    lengths: tf.Tensor   # int32 (): tokens up to and including EOS, T when there is none
    expanded: tf.Tensor  # int32 (): nodes popped and expanded (the goal pop not counted)
    exact: tf.Tensor     # bool (): False when the frontier overflowed (nodes dropped) or nothing was found


def min_transition_heuristic(costs, length, eos_id=None):
    """The admissible bound of the module docstring as a function ``(n int32 (M,), done bool (M,)) -> (M,)``.

    costs: float32 (V^d, V) = -log p. n is the number of tokens already emitted.
    """
    if eos_id is None:
        step_min, eos_min = tf.reduce_min(costs), None
    else:
        is_eos = tf.equal(tf.range(tf.shape(costs)[-1]), eos_id)
        step_min = tf.reduce_min(tf.where(is_eos, _INF, costs))
        eos_min = tf.reduce_min(costs[:, eos_id])

    def h(n, done):
        remaining = tf.cast(length - n, tf.float32)
        bound = remaining * step_min
        if eos_min is not None:
            bound = tf.minimum(bound, eos_min + tf.minimum(0.0, (remaining - 1.0) * step_min))
        return tf.where(tf.logical_or(done, remaining <= 0.0), 0.0, bound)
    return h


def astar(log_probs_table, start_context, length, order, eos_id=None, capacity=4096, heuristic="min_transition"):
    """Best-first search for the most probable continuation of one start context.

    Args:
      log_probs_table: float (V^d, V) log p(next | context) with static V, rows log-normalised (costs >= 0).
      start_context: int (d,), the last d tokens before generation.
      length: Python int T.
      order: Python int d.
      eos_id: Python int or None (same convention as ``viterbi``).
      capacity: Python int C >= V, frontier slots.
      heuristic: "min_transition" (admissible lower bound, see module docstring) or "zero".
    Returns:
      ``AStarResult`` (tokens (T,), log_prob (), lengths (), expanded (), exact ()).
    """
    length, order = static_int(length, "length"), static_int(order, "order")
    table = tf.cast(tf.convert_to_tensor(log_probs_table), tf.float32)
    vocab = table.shape[-1]
    if vocab is None:
        raise ValueError("astar needs the vocabulary size (last dim of the table) to be static")
    capacity = static_int(capacity, "capacity", minimum=vocab)
    if heuristic not in ("min_transition", "zero"):
        raise ValueError(f"unknown heuristic {heuristic!r}; use 'min_transition' or 'zero'")
    n_states = vocab ** order
    costs = -table
    h = (min_transition_heuristic(costs, length, eos_id) if heuristic == "min_transition"
         else lambda n, done: tf.zeros(tf.shape(n), tf.float32))
    pad = 0 if eos_id is None else int(eos_id)
    tokens_v = tf.range(vocab)
    slots = tf.range(capacity)
    child_done = tf.zeros([vocab], tf.bool) if eos_id is None else tf.equal(tokens_v, pad)

    def cond(front, found, best, expanded, exact):
        return tf.logical_and(tf.logical_not(found), tf.reduce_any(front["alive"]))

    def body(front, found, best, expanded, exact):
        f_alive = tf.where(front["alive"], front["f"], _INF)
        lowest = tf.logical_and(front["alive"], tf.equal(f_alive, tf.reduce_min(f_alive)))
        i = tf.argmax(tf.cast(lowest, tf.int32), output_type=tf.int32)      # first alive slot with minimal f
        is_goal = tf.logical_or(front["done"][i], front["n"][i] >= length)
        return tf.cond(is_goal, lambda: (front, tf.constant(True), i, expanded, exact),
                       lambda: expand(front, i, found, best, expanded, exact))

    def expand(front, i, found, best, expanded, exact):
        alive = tf.logical_and(front["alive"], tf.not_equal(slots, i))
        n = front["n"][i]
        g = front["g"][i] + tf.gather(costs, front["ctx"][i])                               # (V,)
        f = g + h(tf.fill([vocab], n + 1), child_done)
        prefix = mask_column(tf.tile(front["prefix"][i][None], [vocab, 1]), n, tokens_v)   # (V, T)
        ctx = (front["ctx"][i] * vocab + tokens_v) % n_states
        # Best child -> free slot first, then the alive slot with the largest f (eviction when full).
        child_order = tf.argsort(f, stable=True)
        occupied_f, target = tf.math.top_k(tf.where(alive, front["f"], _INF), vocab)       # free slots come first
        occupied = tf.gather(alive, target)
        child_f = tf.gather(f, child_order)
        insert = tf.logical_and(child_f < _INF, tf.logical_or(tf.logical_not(occupied), child_f < occupied_f))
        lost = tf.logical_or(tf.logical_and(insert, occupied),
                             tf.logical_and(tf.logical_not(insert), child_f < _INF))
        exact = tf.logical_and(exact, tf.logical_not(tf.reduce_any(lost)))

        def put(old, new):
            new = tf.gather(new, child_order)
            keep_shape = [-1] + [1] * (len(old.shape) - 1)
            values = tf.where(tf.reshape(insert, keep_shape), new, tf.gather(old, target))
            return tf.tensor_scatter_nd_update(old, target[:, None], values)

        new_front = {"prefix": put(front["prefix"], prefix), "n": put(front["n"], tf.fill([vocab], n + 1)),
                     "ctx": put(front["ctx"], ctx), "done": put(front["done"], child_done), "g": put(front["g"], g),
                     "f": put(front["f"], f), "alive": put(alive, tf.ones([vocab], tf.bool))}
        return new_front, found, best, expanded + 1, exact

    start = context_index(tf.reshape(start_context, [order]), vocab, order)
    root = tf.equal(slots, 0)
    front = {"prefix": tf.fill([capacity, length], pad), "n": tf.zeros([capacity], tf.int32),
             "ctx": tf.where(root, start, 0), "done": tf.zeros([capacity], tf.bool), "g": tf.zeros([capacity]),
             "f": tf.where(root, h(tf.zeros([capacity], tf.int32), tf.zeros([capacity], tf.bool)), 0.0),
             "alive": root}
    front, found, best, expanded, exact = tf.while_loop(
        cond, body, (front, tf.constant(False), tf.constant(0), tf.constant(0), tf.constant(True)))
    tokens = front["prefix"][best]
    log_prob = tf.where(found, -front["g"][best], -_INF)
    return AStarResult(tokens=tokens, log_prob=log_prob, lengths=sequence_lengths(tokens, eos_id),
                       expanded=expanded, exact=tf.logical_and(exact, found))
