"""The valid range of every decoding parameter, stated once and checked at each boundary from this table:
Python calls (``check``), the command line (``argparse_type``) and inside exported graphs (``graph_check``,
core-op assertions that stock TF Serving turns into INVALID_ARGUMENT with the same words).

    check("temperature", 0.0)        # ValueError: temperature must be a finite number > 0, got 0.0
    with tf.control_dependencies(graph_checks({"temperature": t, "top_p": p})):
        ...                          # the decoder; a bad request fails before it runs

Without these, temperature 0 or NaN surfaced as ``GatherV2 indices[0] = 66 is not in [0, 66)`` and a
negative ``max_tokens`` returned an empty string with HTTP 200.
"""
from zoo.data.validation import Range

MAX_TOKENS = 100_000  # longest generation a Python call may ask for (eager buffers are (B, max_tokens))

PARAMETERS = {
    "max_tokens": Range(int, 1, MAX_TOKENS),
    "temperature": Range(float, 0.0, low_open=True),
    "top_k": Range(int, 0),
    "top_p": Range(float, 0.0, 1.0, low_open=True),
    "beam_width": Range(int, 1, 256),
    "length_penalty": Range(float, 0.0),
}


def check(name, value):
    """``value`` if it is in ``PARAMETERS[name]``'s range, else ValueError naming the parameter and the value."""
    return PARAMETERS[name].check(name, value)


def check_all(**params):
    """``check`` for every keyword whose name is in ``PARAMETERS`` and whose value is a Python number."""
    for name, value in params.items():
        if name in PARAMETERS and isinstance(value, (int, float)) and not isinstance(value, bool):
            check(name, value)


def argparse_type(name):
    """An ``argparse`` ``type=`` that converts and range-checks ``name`` (``--temperature 0`` -> usage error)."""
    return PARAMETERS[name].argparse_type(name)


def graph_check(name, value):
    """A core-op assertion that ``value`` (a tensor) is in ``PARAMETERS[name]``'s range (InvalidArgument
    "<name> must be <range>, got <value>")."""
    return PARAMETERS[name].graph_check(name, value)


def graph_checks(params):
    """``graph_check`` for every entry of ``params`` named in ``PARAMETERS`` whose value is a tensor; Python
    numbers are checked at once with ``check``. Returns the assertion ops (for ``tf.control_dependencies``)."""
    ops = []
    for name, value in params.items():
        if name not in PARAMETERS or value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check(name, value)
        else:
            ops.append(graph_check(name, value))
    return ops
