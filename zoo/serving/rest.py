"""TF Serving's REST API over the stdlib ``http.server`` (one thread per connection, HTTP/1.1 keep-alive).

    GET  /v1/models/NAME[/versions/V]             model status (GetModelStatusResponse as JSON)
    GET  /v1/models/NAME[/versions/V]/metadata    signature defs (GetModelMetadataResponse as JSON)
    POST /v1/models/NAME[/versions/V]:predict     Predict, row ("instances") or columnar ("inputs")

Paths match case-insensitively as TF Serving's. Every answer is JSON; a failure is
``{"error": message}`` with the HTTP status TF Serving maps its status code to (400 for a bad
request, 404 for an unknown model or version, ...). A body over ``max_request_bytes`` gets 413.
No request can take the server down: any unexpected exception becomes a 500 with its message.
Other GETs may be the browser playground's static files (:mod:`zoo.serving.static`).
"""
import logging
import re
import socket
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zoo.serving import codec, protos, static
from zoo.serving.errors import ServingError, invalid

log = logging.getLogger("zoo.serving")

PREDICT_PATH = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+))?:(classify|regress|predict)", re.IGNORECASE)
STATUS_PATH = re.compile(r"/v1/models(?:/([^/:]+))?(?:/versions/(\d+))?(?:/(metadata))?", re.IGNORECASE)


class RestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zoo-serve"
    timeout = 120  # seconds a connection may sit idle or mid-request before its thread gives up

    # === Plumbing ===
    def log_message(self, fmt, *args):  # quiet by default; logged at DEBUG
        log.debug("%s %s", self.address_string(), fmt % args)

    def setup(self):
        super().setup()
        # Small answers must not wait for the peer's delayed ACK (Nagle): no 40 ms stalls on keep-alive.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(head + data)  # headers and body in one write

    def _send_error(self, err):
        self._send(err.http_status, codec.error_body(err.message))

    def _read_body(self):
        """The request body, at most ``max_request_bytes``; ServingError(413) beyond. Reads chunked bodies too."""
        limit = self.server.max_request_bytes
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                try:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self.close_connection = True
                    raise invalid("Malformed request: bad chunk size in chunked body") from None
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > limit:
                    self.close_connection = True
                    raise self._too_large(f"more than {limit}")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise invalid("Malformed request: bad Content-Length header") from None
        if length < 0:
            self.close_connection = True
            raise invalid("Malformed request: bad Content-Length header")
        if length > limit:
            self._discard(length)
            raise self._too_large(length)
        return self.rfile.read(length) if length else b""

    def _too_large(self, length):
        return ServingError("RESOURCE_EXHAUSTED", f"Request body of {length} bytes exceeds the server's limit of "
                            f"{self.server.max_request_bytes} bytes (--max-request-bytes)", http_status=413)

    def _discard(self, length):
        """Reads and drops an oversized body (so the client sees the 413, not a reset), up to 64 MiB;
        beyond that the connection is closed after the answer."""
        remaining = length
        if length > 64 << 20:
            self.close_connection = True
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def _dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if method == "GET" and not path.lower().startswith("/v1/"):
                page = static.static_file(self.server.registry, path)  # the playground (docs/playground.md)
                if page:
                    return self._send(200, page[1], page[0])
            body = self._read_body() if method == "POST" else b""
            status, text = self._route(method, path, body)
            self._send(status, text)
        except ServingError as err:
            self._send_error(err)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as err:  # noqa: BLE001  (never let a request take the server down)
            log.exception("error serving %s %s", method, path)
            self._send_error(ServingError("INTERNAL", f"{type(err).__name__}: {err}"))

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    # === API ===
    def _route(self, method, path, body):
        registry = self.server.registry
        if method == "POST":
            match = PREDICT_PATH.fullmatch(path)
            if match:
                name, version, verb = urllib.parse.unquote(match.group(1)), match.group(2), match.group(3).lower()
                if verb != "predict":
                    raise ServingError("UNIMPLEMENTED", f"{verb} is not supported by zoo serve (the zoo's "
                                       f"signatures are Predict signatures)")
                return 200, predict(registry, name, version, body)
        elif method == "GET":
            match = STATUS_PATH.fullmatch(path)
            if match:
                name, version, sub = match.group(1), match.group(2), match.group(3)
                if not name:
                    raise invalid("Missing model name in request.")
                name = urllib.parse.unquote(name)
                if sub:
                    servable = registry.get(name, version)
                    return 200, protos.model_metadata_json(protos.model_metadata(servable))
                return 200, protos.model_status_json(protos.model_status(registry, name, version))
        raise invalid(f"Malformed request: {method} {path}")


def predict(registry, name, version, body):
    """One REST Predict: JSON body -> JSON answer (raises ServingError)."""
    servable = registry.get(name, version)
    doc = codec.parse_json(body)
    signature_name = codec.request_signature_name(doc)
    if signature_name not in servable.signatures:
        raise invalid(f'Serving signature name: "{signature_name}" not found in signature def')
    fmt, inputs = codec.parse_predict_inputs(doc, servable.signatures[signature_name].input_dtypes)
    _, outputs = servable.predict(signature_name, inputs)
    return codec.encode_predict_response(outputs, fmt)


class RestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, registry, max_request_bytes):
        self.registry = registry
        self.max_request_bytes = max_request_bytes
        super().__init__(address, RestHandler)

