"""``zoo serve``: the REST and gRPC front ends over one registry of loaded SavedModels."""
import logging
import threading

from zoo.serving.grpc_service import make_grpc_server
from zoo.serving.registry import ModelRegistry
from zoo.serving.rest import RestServer

log = logging.getLogger("zoo.serving")

DEFAULT_MAX_REQUEST_BYTES = 16 << 20


class Server:
    """Serves ``registry`` on REST ``host:rest_port`` and gRPC ``host:grpc_port`` (port 0: a free one;
    None: that front end off). Binds 127.0.0.1 unless told otherwise. Use as a context manager or
    call ``start()`` / ``stop()``; ``rest_url`` and ``grpc_target`` say where it listens."""

    def __init__(self, registry, host="127.0.0.1", rest_port=8501, grpc_port=8500,
                 max_request_bytes=DEFAULT_MAX_REQUEST_BYTES):
        self.registry, self.host = registry, host
        self.rest = self.grpc = None
        self.rest_port = self.grpc_port = None
        if rest_port is not None:
            self.rest = RestServer((host, rest_port), registry, max_request_bytes)
            self.rest_port = self.rest.server_address[1]
        if grpc_port is not None:
            self.grpc, self.grpc_port = make_grpc_server(registry, host, grpc_port, max_request_bytes)
        self._thread = None

    @property
    def rest_url(self):
        return f"http://{self.host}:{self.rest_port}" if self.rest else None

    @property
    def grpc_target(self):
        return f"{self.host}:{self.grpc_port}" if self.grpc else None

    def start(self):
        if self.grpc:
            self.grpc.start()
        if self.rest:
            self._thread = threading.Thread(target=self.rest.serve_forever, kwargs={"poll_interval": 0.2},
                                            name="zoo-rest", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        if self.rest:
            self.rest.shutdown()
            self.rest.server_close()
        if self.grpc:
            self.grpc.stop(grace=1).wait()
        self.registry.close()

    def wait(self):
        """Blocks until interrupted (Ctrl-C)."""
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve(names=None, models_dir=None, host="127.0.0.1", rest_port=8501, grpc_port=8500,
          max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, latest_only=False, batching=True, max_batch_size=64,
          batch_timeout_s=0.0):
    """Loads the artifacts (all servable ones in ``models_dir`` by default) and returns a started Server."""
    registry = ModelRegistry.from_models_dir(models_dir, names, latest_only=latest_only, batching=batching,
                                             max_batch_size=max_batch_size, batch_timeout_s=batch_timeout_s)
    return Server(registry, host, rest_port, grpc_port, max_request_bytes).start()
