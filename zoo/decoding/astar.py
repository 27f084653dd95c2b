"""A* search (Hart, Nilsson & Raphael 1968) for the most probable sequence of an order-d Markov model.

Same model, table layout and end-of-sequence convention as ``viterbi`` (see its docstring), so both return
the same optimum. Nodes are prefixes; a node's cost is g = -sum log p of its tokens and its priority
f = g + h(s, r), where s is the node's context (its last d tokens, a row of the table) and r the number of
tokens still to go. A node is a goal when it has ``length`` tokens or ends with EOS; goals are recognised
when popped, so the first goal popped is optimal whenever h never overestimates the remaining cost
(admissible). Write c(s, v) = -log p(v | s) >= 0 (rows log-normalised), c = the smallest non-EOS cost of
the table (the EOS column excluded when ``eos_id`` is set) and e = the smallest EOS cost. Goals have h = 0.

``heuristic="lookahead"`` (the default; ``lookahead=k``, default 16): exact for the next k steps, a
context-free bound after. A backward dynamic programme over the table (k steps of O(V^(d+1)), the cost of
k Viterbi steps; (k + 1) x V^d values) gives for every context s and j <= k

    B_j(s) = the cheapest j non-EOS tokens from s                       B_0 = 0
    A_j(s) = the cheapest path from s that emits EOS within j steps     A_0 = +inf (+inf throughout without EOS)
    H_j(s) = min(A_j(s), B_j(s)), the exact minimum cost of the next j steps (EOS enters an absorbing state
             where every further step costs 0, as in ``viterbi``)

and, with M_j = min_s B_j(s) (the cheapest j non-EOS tokens from anywhere), m = r - k = q * k + p (0 <= p < k)
and the tail bound L(m) = q * M_k + M_p, or with EOS min(q * M_k + M_p, min_s A_k(s)),

    h(s, r) = H_r(s)                            r <= k: the exact cost-to-go
    h(s, r) = min(A_k(s), B_k(s) + L(m))        r > k

Why it is a lower bound of the true cost-to-go: a completion of the r remaining steps either emits EOS within
its first k steps (cost >= A_k(s)) or starts with k non-EOS tokens (>= B_k(s)) and continues with m steps
from some context. Cut those m steps into q chunks of k and one of p: a chunk of non-EOS tokens costs at least
M_(its length) whatever context it starts from; if an EOS comes, the chunk holding it costs at least
min_s A_k(s) (A_j only decreases with j) and everything after it 0 (the earlier chunks cost >= 0). Since
M_j >= j * c and A_k >= e, it also dominates ``min_transition`` below. With k >= T every node gets its exact cost-to-go, so f = g + h is
the cost of the best completion through it: the search expands exactly the nodes of the optimal path (on a
table without ties), i.e. ``expanded == lengths`` (T, or the position of the EOS; goal pops are not counted).
k = 1 is the per-context minimum cost. For r <= k, h is consistent (Bellman equation of H); the
context-free tail L can make g + h drop along an edge, so children get f = max(g + h, f(parent)) (pathmax:
still a lower bound, since a child's completions are among its parent's), which keeps f non-decreasing along
every path as a consistent heuristic would; optimality itself only needs admissibility (states are re-opened,
see duplicate detection). The chunked tail matters on peaked models: there c ~ 0, while M_k / k grows towards
the cheapest per-token rate the model can sustain as k grows, so a larger k tightens both parts of h.

``heuristic="min_transition"`` (context-free and consistent; on peaked models c ~ 0, so this is almost
uniform-cost search):

    h = r * c                                          (no EOS: exactly r more tokens)
    h = min(r * c, e + min(0, (r - 1) * c))            (with EOS: r non-EOS tokens, or j < r then EOS)

``heuristic="zero"`` gives uniform-cost search (Dijkstra) for comparison.

Pruning, sound for every admissible h:
  * duplicate detection (``dedup=True``): a node's subtree depends only on (tokens emitted, context), so the
    search keeps the best g generated so far for each of these (T + 1) x V^d states, drops a child that is no
    better, and discards without expanding (or counting) a popped node that has since been beaten. A better
    g always re-opens the state. This bounds the expansions by T * V^d whatever the heuristic.
  * an upper bound: children whose f exceeds the cost of the greedy sequence (plus float slack) never enter
    the frontier.

The frontier has a fixed capacity C (arrays prefix (C, T), g (C,), f (C,), ...); pop = arg-min f over the
alive slots, and the V children of an expanded node go to free slots. When the frontier is full, a child
replaces the alive node with the largest f if the child's f is smaller (otherwise it is dropped). Since f
lower-bounds every completion through a node, the result is still certified optimal (``exact=True``) when
its cost is <= the smallest f lost (evicted, dropped or pruned by the upper bound); otherwise ``exact=False``:
still a valid complete sequence with its true log-prob, but possibly not the optimum. One start context per
call (no batch dim).

Performance: the search is a ``tf.while_loop`` with one small iteration per pop (O(C + V * T) work). Called
eagerly, ``astar`` runs it through an internal ``tf.function`` (traced once per table shape and static
arguments), so eager calls are not op-by-op; ``jit_compile=True`` compiles it with XLA instead (seconds of
compilation, then cheaper pops: worth it for long searches or repeated calls). Inside a caller's
``tf.function`` or a SavedModel signature it is inlined as plain graph ops.
"""
from typing import NamedTuple

import tensorflow as tf

from zoo.decoding.state import mask_column, static_int
from zoo.decoding.viterbi import context_index, sequence_lengths

_INF = float("inf")
HEURISTICS = ("lookahead", "min_transition", "zero")


class AStarResult(NamedTuple):
    """Output of ``astar`` for one start context."""

    tokens: tf.Tensor    # int32 (T,): the best sequence found, eos_id after its EOS
    log_prob: tf.Tensor  # float32 (): its total log-probability (-inf if no finite sequence was found)
    lengths: tf.Tensor   # int32 (): tokens up to and including EOS, T when there is none
    expanded: tf.Tensor  # int32 (): nodes popped and expanded (goal pops and stale pops not counted)
    exact: tf.Tensor     # bool (): True when the result is provably optimal (False: a frontier overflow lost a
                         # node that might have led to a better sequence, or nothing was found)


def _step_and_eos_min(costs, eos_id):
    """(c, e): the smallest non-EOS cost of the table and the smallest EOS cost (None without eos_id)."""
    if eos_id is None:
        return tf.reduce_min(costs), None
    is_eos = tf.equal(tf.range(tf.shape(costs)[-1]), eos_id)
    return tf.reduce_min(tf.where(is_eos, _INF, costs)), tf.reduce_min(costs[:, eos_id])


def min_transition_heuristic(costs, length, eos_id=None):
    """The context-free bound of the module docstring as a function ``(n int32 (M,), done bool (M,)) -> (M,)``.

    costs: float32 (V^d, V) = -log p. n is the number of tokens already emitted.
    """
    step_min, eos_min = _step_and_eos_min(costs, eos_id)

    def h(n, done):
        remaining = tf.cast(length - n, tf.float32)
        bound = remaining * step_min
        if eos_min is not None:
            bound = tf.minimum(bound, eos_min + tf.minimum(0.0, (remaining - 1.0) * step_min))
        return tf.where(tf.logical_or(done, remaining <= 0.0), 0.0, bound)
    return h


def lookahead_tables(costs, order, lookahead, eos_id=None):
    """The backward programme of the module docstring: (H, A_k, B).

    costs: float32 (V^d, V) = -log p; lookahead: Python int k >= 1.
    Returns H float32 (k + 1, V^d) with H[j, s] the exact minimum cost of the next j steps from context s
    (EOS absorbing at cost 0), A_k float32 (V^d,) (+inf everywhere without eos_id) and B float32 (k + 1, V^d)
    with B[j, s] the minimum cost of j non-EOS tokens from s.
    """
    costs = tf.convert_to_tensor(costs, tf.float32)
    lookahead = static_int(lookahead, "lookahead")
    vocab = costs.shape[-1]
    n_states = vocab ** order
    successor = (tf.range(n_states)[:, None] * vocab + tf.range(vocab)[None]) % n_states   # (V^d, V)
    if eos_id is None:
        emit, eos_cost = costs, None
    else:
        emit = tf.where(tf.equal(tf.range(vocab), eos_id)[None], _INF, costs)
        eos_cost = costs[:, eos_id]

    def step(j, a, b, h_rows, b_rows):
        if eos_cost is not None:
            a = tf.minimum(eos_cost, tf.reduce_min(emit + tf.gather(a, successor), axis=1))
        b = tf.reduce_min(emit + tf.gather(b, successor), axis=1)
        return j + 1, a, b, h_rows.write(j, tf.minimum(a, b)), b_rows.write(j, b)

    zeros = tf.zeros([n_states])
    rows = [tf.TensorArray(tf.float32, size=lookahead + 1, element_shape=[n_states]).write(0, zeros)
            for _ in range(2)]
    _, a, _, h_rows, b_rows = tf.while_loop(lambda j, *_: j <= lookahead, step,
                                            (tf.constant(1), tf.fill([n_states], _INF), zeros, *rows))
    return h_rows.stack(), a, b_rows.stack()


def lookahead_heuristic(costs, length, order, lookahead=16, eos_id=None):
    """The lookahead bound of the module docstring as ``(n int32 (M,), ctx int32 (M,), done bool (M,)) -> (M,)``.

    costs: float32 (V^d, V) = -log p; n: tokens already emitted; ctx: the node's row of the table.
    ``lookahead`` >= ``length`` makes it the exact cost-to-go.
    """
    lookahead = min(static_int(lookahead, "lookahead"), length)
    n_states = costs.shape[-1] ** order
    exact, a_k, b = lookahead_tables(costs, order, lookahead, eos_id)
    exact, b_k = tf.reshape(exact, [-1]), b[-1]
    chunk = tf.reduce_min(b, axis=1)                  # (k + 1,): M_j, the cheapest j non-EOS tokens from anywhere
    eos_chunk = tf.reduce_min(a_k)                    # the cheapest way to reach EOS within k steps from anywhere

    def h(n, ctx, done):
        remaining = length - n
        near = tf.gather(exact, tf.clip_by_value(remaining, 0, lookahead) * n_states + ctx)
        m = tf.maximum(remaining - lookahead, 1)
        full = tf.where(m >= lookahead, tf.cast(m // lookahead, tf.float32) * chunk[-1], 0.0)   # q * M_k
        tail = full + tf.gather(chunk, m % lookahead)
        if eos_id is not None:
            tail = tf.minimum(tail, eos_chunk + tf.minimum(0.0, full))
        far = tf.minimum(tf.gather(a_k, ctx), tf.gather(b_k, ctx) + tail)
        bound = tf.where(remaining > lookahead, far, near)
        return tf.where(tf.logical_or(done, remaining <= 0), 0.0, bound)
    return h


def greedy_cost(costs, start, length, order, eos_id=None):
    """float32 (): the cost of the greedy (per-step arg-min) sequence of ``length`` tokens from row ``start``,
    nothing after an EOS: an upper bound of the optimum."""
    vocab = costs.shape[-1]

    def step(t, ctx, total, done):
        row = tf.gather(costs, ctx)
        v = tf.argmin(row, output_type=tf.int32)
        total = tf.where(done, total, total + row[v])
        done = done if eos_id is None else tf.logical_or(done, tf.equal(v, eos_id))
        return t + 1, (ctx * vocab + v) % vocab ** order, total, done

    return tf.while_loop(lambda t, *_: t < length, step,
                         (tf.constant(0), tf.cast(start, tf.int32), tf.constant(0.0), tf.constant(False)))[2]


def astar(log_probs_table, start_context, length, order, eos_id=None, capacity=4096, heuristic="lookahead",
          lookahead=16, dedup=True, jit_compile=False):
    """Best-first search for the most probable continuation of one start context.

    Args:
      log_probs_table: float (V^d, V) log p(next | context) with static V, rows log-normalised (costs >= 0).
      start_context: int (d,), the last d tokens before generation.
      length: Python int T.
      order: Python int d.
      eos_id: Python int or None (same convention as ``viterbi``).
      capacity: Python int C >= V, frontier slots.
      heuristic: "lookahead" (default), "min_transition" or "zero"; see the module docstring.
      lookahead: Python int k >= 1, the exact horizon of the "lookahead" heuristic (k >= T: exact cost-to-go).
      dedup: Python bool, duplicate detection over (tokens emitted, context) states (module docstring).
      jit_compile: Python bool, compile the search with XLA when called eagerly (ignored inside a graph).
    Returns:
      ``AStarResult`` (tokens (T,), log_prob (), lengths (), expanded (), exact ()).
    """
    length, order = static_int(length, "length"), static_int(order, "order")
    lookahead = static_int(lookahead, "lookahead")
    if heuristic not in HEURISTICS:
        raise ValueError(f"unknown heuristic {heuristic!r}; use one of {HEURISTICS}")
    table = tf.cast(tf.convert_to_tensor(log_probs_table), tf.float32)
    vocab = table.shape[-1]
    if vocab is None:
        raise ValueError("astar needs the vocabulary size (last dim of the table) to be static")
    capacity = static_int(capacity, "capacity", minimum=vocab)
    start_context = tf.convert_to_tensor(start_context)
    static = dict(length=length, order=order, eos_id=None if eos_id is None else int(eos_id), capacity=capacity,
                  heuristic=heuristic, lookahead=lookahead, dedup=bool(dedup))
    if tf.executing_eagerly():
        return _COMPILED[bool(jit_compile)](table, tf.cast(start_context, tf.int32), **static)
    return _astar(table, start_context, **static)


def _astar(table, start_context, length, order, eos_id, capacity, heuristic, lookahead, dedup):
    vocab = table.shape[-1]
    n_states = vocab ** order
    costs = -table
    if heuristic == "lookahead":
        h = lookahead_heuristic(costs, length, order, lookahead, eos_id)
    elif heuristic == "min_transition":
        h_n = min_transition_heuristic(costs, length, eos_id)
        h = lambda n, ctx, done: h_n(n, done)                                   # noqa: E731
    else:
        h = lambda n, ctx, done: tf.zeros(tf.shape(n), tf.float32)              # noqa: E731
    pad = 0 if eos_id is None else eos_id
    tokens_v = tf.range(vocab)
    slots = tf.range(capacity)
    child_done = tf.zeros([vocab], tf.bool) if eos_id is None else tf.equal(tokens_v, pad)

    def cond(front, best_g, found, best, expanded, lost_f):
        return tf.logical_and(tf.logical_not(found), tf.reduce_any(front["alive"]))

    def body(front, best_g, found, best, expanded, lost_f):
        f_alive = tf.where(front["alive"], front["f"], _INF)
        lowest = tf.logical_and(front["alive"], tf.equal(f_alive, tf.reduce_min(f_alive)))
        i = tf.argmax(tf.cast(lowest, tf.int32), output_type=tf.int32)      # first alive slot with minimal f
        is_goal = tf.logical_or(front["done"][i], front["n"][i] >= length)
        if dedup:
            stale = front["g"][i] > best_g[front["n"][i] * n_states + front["ctx"][i]]
            stale = tf.logical_and(stale, tf.logical_not(is_goal))
        else:
            stale = tf.constant(False)

        def drop():
            return dict(front, alive=tf.logical_and(front["alive"], tf.not_equal(slots, i))), best_g, found, best, \
                expanded, lost_f

        return tf.case([(is_goal, lambda: (front, best_g, tf.constant(True), i, expanded, lost_f)), (stale, drop)],
                       default=lambda: expand(front, best_g, i, found, best, expanded, lost_f), exclusive=False)

    def expand(front, best_g, i, found, best, expanded, lost_f):
        alive = tf.logical_and(front["alive"], tf.not_equal(slots, i))
        n = front["n"][i]
        g = front["g"][i] + tf.gather(costs, front["ctx"][i])                               # (V,)
        ctx = (front["ctx"][i] * vocab + tokens_v) % n_states
        f = tf.maximum(g + h(tf.fill([vocab], n + 1), ctx, child_done), front["f"][i])     # pathmax
        # Children that cannot beat the greedy sequence are lost (their f is recorded) without taking a slot.
        over = f > upper
        lost_f = tf.minimum(lost_f, tf.reduce_min(tf.where(over, f, _INF)))
        f = tf.where(over, _INF, f)
        if dedup:                           # children have distinct contexts; EOS children (goals) are not tracked
            key = (n + 1) * n_states + ctx
            improves = tf.logical_or(child_done, g < tf.gather(best_g, key))
            f = tf.where(improves, f, _INF)
            tracked = tf.logical_and(tf.logical_not(tf.logical_or(child_done, over)), improves)
            best_g = tf.tensor_scatter_nd_min(best_g, tf.where(tracked, key, 0)[:, None], tf.where(tracked, g, _INF))
        prefix = mask_column(tf.tile(front["prefix"][i][None], [vocab, 1]), n, tokens_v)   # (V, T)
        # Best child -> free slot first, then the alive slot with the largest f (eviction when full).
        child_order = tf.argsort(f, stable=True)
        occupied_f, target = tf.math.top_k(tf.where(alive, front["f"], _INF), vocab)       # free slots come first
        occupied = tf.gather(alive, target)
        child_f = tf.gather(f, child_order)
        insert = tf.logical_and(child_f < _INF, tf.logical_or(tf.logical_not(occupied), child_f < occupied_f))
        # f of the nodes pushed out (evicted) or turned away (dropped children): lower bounds of their completions.
        lost_f = tf.minimum(lost_f, tf.reduce_min(tf.where(tf.logical_and(insert, occupied), occupied_f, _INF)))
        lost_f = tf.minimum(lost_f, tf.reduce_min(tf.where(insert, _INF, child_f)))

        def put(old, new):
            new = tf.gather(new, child_order)
            keep_shape = [-1] + [1] * (len(old.shape) - 1)
            values = tf.where(tf.reshape(insert, keep_shape), new, tf.gather(old, target))
            return tf.tensor_scatter_nd_update(old, target[:, None], values)

        new_front = {"prefix": put(front["prefix"], prefix), "n": put(front["n"], tf.fill([vocab], n + 1)),
                     "ctx": put(front["ctx"], ctx), "done": put(front["done"], child_done), "g": put(front["g"], g),
                     "f": put(front["f"], f), "alive": put(alive, tf.ones([vocab], tf.bool))}
        return new_front, best_g, found, best, expanded + 1, lost_f

    start = context_index(tf.reshape(start_context, [order]), vocab, order)
    greedy = greedy_cost(costs, start, length, order, eos_id)
    upper = greedy + 1e-4 * (1.0 + tf.abs(greedy))                    # slack for float32 summation order
    root = tf.equal(slots, 0)
    ctx0 = tf.where(root, start, 0)
    front = {"prefix": tf.fill([capacity, length], pad), "n": tf.zeros([capacity], tf.int32), "ctx": ctx0,
             "done": tf.zeros([capacity], tf.bool), "g": tf.zeros([capacity]),
             "f": tf.where(root, h(tf.zeros([capacity], tf.int32), ctx0, tf.zeros([capacity], tf.bool)), 0.0),
             "alive": root}
    # Best g generated so far per (tokens emitted, context), flattened; the root's entry is 0.
    best_g = tf.where(tf.equal(tf.range((length + 1) * n_states if dedup else 1), start), 0.0, _INF)
    front, _, found, best, expanded, lost_f = tf.while_loop(
        cond, body, (front, best_g, tf.constant(False), tf.constant(0), tf.constant(0), tf.constant(_INF)))
    tokens = front["prefix"][best]
    log_prob = tf.where(found, -front["g"][best], -_INF)
    # Every completion through a lost node costs >= its f (admissible h), so the result is still optimal
    # when it is no worse than all of them.
    exact = tf.logical_and(found, front["g"][best] <= lost_f)
    return AStarResult(tokens=tokens, log_prob=log_prob, lengths=sequence_lengths(tokens, eos_id),
                       expanded=expanded, exact=exact)


_COMPILED = {False: tf.function(_astar), True: tf.function(_astar, jit_compile=True)}
