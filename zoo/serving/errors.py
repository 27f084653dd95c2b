"""Errors as TF Serving reports them: a canonical status code plus a message.

The REST front end maps the code to an HTTP status the way TF Serving's HTTP server does
(INVALID_ARGUMENT, FAILED_PRECONDITION and OUT_OF_RANGE -> 400, NOT_FOUND -> 404, ...) and
answers ``{"error": message}``; the gRPC front end aborts the call with the same code.
"""
import grpc

# Canonical code name -> HTTP status, as tensorflow_serving/model_servers/http_server.cc maps them.
HTTP_STATUS = {
    "OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501, "INTERNAL": 500,
    "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A failed request: ``code`` is a canonical status name ("INVALID_ARGUMENT", "NOT_FOUND", ...).

    ``http_status`` overrides the code's usual HTTP status (used for 413 Payload Too Large)."""

    def __init__(self, code, message, http_status=None):
        super().__init__(message)
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown status code {code!r}")
        self.code = code
        self.message = message
        self.http_status = http_status or HTTP_STATUS[code]

    @property
    def grpc_code(self):
        return getattr(grpc.StatusCode, self.code)

    def __repr__(self):
        return f"ServingError({self.code}, {self.message!r})"


def invalid(message):
    return ServingError("INVALID_ARGUMENT", message)


def from_tf_error(err):
    """A ``tf.errors.OpError`` raised while running a signature -> ServingError with TF's code and message."""
    import tensorflow as tf

    names = {tf.errors.InvalidArgumentError: "INVALID_ARGUMENT", tf.errors.NotFoundError: "NOT_FOUND",
             tf.errors.OutOfRangeError: "OUT_OF_RANGE", tf.errors.FailedPreconditionError: "FAILED_PRECONDITION",
             tf.errors.ResourceExhaustedError: "RESOURCE_EXHAUSTED", tf.errors.UnimplementedError: "UNIMPLEMENTED",
             tf.errors.CancelledError: "CANCELLED", tf.errors.DeadlineExceededError: "DEADLINE_EXCEEDED",
             tf.errors.AbortedError: "ABORTED", tf.errors.UnavailableError: "UNAVAILABLE",
             tf.errors.DataLossError: "DATA_LOSS", tf.errors.InternalError: "INTERNAL"}
    for cls, code in names.items():
        if isinstance(err, cls):
            return ServingError(code, _first_lines(err.message))
    return ServingError("UNKNOWN", _first_lines(getattr(err, "message", str(err))))


def _first_lines(message, limit=2000):
    """TF messages carry a long graph/stack trace after the first lines; keep the useful part: for a failed
    input check (a core-op Assert), its "assertion failed: [...]" text alone, as a client needs it."""
    message = str(message).strip()
    start = message.find("assertion failed:")
    if start >= 0:
        end = message.find("\n\t [[", start)
        message = message[start:end if end > 0 else None].strip()
    return message if len(message) <= limit else message[:limit] + " ..."
