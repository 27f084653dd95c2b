"""Serving bench: latency (p50/p99) and throughput of ``zoo serve`` for 1, 8 and 64 concurrent clients,
per model, over REST and gRPC, next to the in-process SavedModel signature call.

    .venv/bin/python bench/serving.py            # shipped models in saved_models/ (or a tiny VAE if none)
    .venv/bin/python bench/serving.py --quick    # a tiny exported VAE, short runs (< 1 minute)

The server runs in its own process (``zoo serve`` on free 127.0.0.1 ports); clients are threads in
this process, each with its own keep-alive connection, sending the model's ``serving_default``
warm-up request (pre-encoded, so client-side encoding is not measured) in a closed loop for
``--seconds`` per level. Results go to bench/results/serving.json. On a small machine the clients
and the server share the CPU cores, so the numbers are a lower bound for the server alone.
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summarize(latencies, elapsed, errors):
    lat = np.asarray(latencies) * 1e3
    return {"requests": int(lat.size), "errors": errors, "seconds": round(elapsed, 3),
            "throughput_rps": round(lat.size / elapsed, 1) if elapsed else None,
            "p50_ms": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
            "p99_ms": round(float(np.percentile(lat, 99)), 3) if lat.size else None}


def closed_loop(make_caller, clients, seconds):
    """``clients`` threads each calling its own ``make_caller()()`` until the deadline."""
    deadline = time.perf_counter() + seconds

    def worker(_):
        call = make_caller()
        lat, errors = [], 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                call()
                lat.append(time.perf_counter() - t0)
            except Exception:  # noqa: BLE001
                errors += 1
        return lat, errors

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - start
    return summarize([x for lat, _ in results for x in lat], elapsed, sum(e for _, e in results))


def rest_caller(port, model, body):
    def make():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call():
            conn.request("POST", f"/v1/models/{model}:predict", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(response.status)
        return call
    return make


def grpc_caller(stub, request):
    def make():
        return lambda: stub.Predict(request, timeout=60)
    return make


def tiny_models_dir():
    from zoo.export import export_saved_model
    from zoo.models import VAE
    from zoo.training.artifact import write_serving_files

    root = Path(tempfile.mkdtemp(prefix="zoo-bench-"))
    model = VAE(latent_dim=2, hidden_units=(8,), seed=0)
    model(np.zeros((1, 784), np.float32))
    export_saved_model(model, root / "tiny-vae" / "1")
    write_serving_files(model, root / "tiny-vae" / "1", "tiny-vae")
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny VAE, 1 s per level, < 1 minute")
    parser.add_argument("--models", nargs="*", default=None, help="artifact names (default: all servable)")
    parser.add_argument("--seconds", type=float, default=None, help="per concurrency level (default 5, quick 1)")
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--apis", default="rest,grpc")
    parser.add_argument("--no-batching", action="store_true", help="serve without server-side batching")
    parser.add_argument("--output", default=str(REPO / "bench" / "results" / "serving.json"))
    args = parser.parse_args(argv)
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    levels = [int(c) for c in args.clients.split(",")]

    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from zoo.hub import models_dir
    from zoo.serving.config import servable_models, servable_versions
    from zoo.serving.warmup import read_warmup_requests

    root = models_dir()
    names = args.models or ([] if args.quick else servable_models(root))
    if not names:
        root, names = tiny_models_dir(), ["tiny-vae"]
    rest_port, grpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "zoo.cli", "serve", *names, "--models-dir", str(root), "--rest-port",
               str(rest_port), "--grpc-port", str(grpc_port)] + (["--no-batching"] if args.no_batching else [])
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                           "tensorflow": tf.__version__, "load_average_at_start": os.getloadavg()},
               "settings": {"seconds_per_level": seconds, "clients": levels, "batching": not args.no_batching,
                            "quick": args.quick, "command": " ".join(command[1:])},
               "provisional": "numbers are re-taken when the machine is idle", "models": {}}
    try:
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", rest_port, timeout=2)
                conn.request("GET", f"/v1/models/{names[0]}")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"zoo serve exited: {server.stderr.read()[-2000:]}")
            time.sleep(0.5)
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        for name in names:
            version_dir = root / name / str(servable_versions(root / name)[-1])
            warmup = dict(read_warmup_requests(version_dir))
            signature = "serving_default" if "serving_default" in warmup else next(iter(warmup))
            inputs = warmup[signature]
            body = json.dumps({"signature_name": signature, "inputs": {k: v.tolist() for k, v in inputs.items()}})
            request = predict_pb2.PredictRequest()
            request.model_spec.name, request.model_spec.signature_name = name, signature
            for k, v in inputs.items():
                request.inputs[k].CopyFrom(tf.make_tensor_proto(v))
            entry = results["models"][name] = {"version_dir": str(version_dir), "signature": signature,
                                               "request_shapes": {k: list(v.shape) for k, v in inputs.items()}}
            loaded = tf.saved_model.load(str(version_dir)).signatures[signature]
            tensors = {k: tf.constant(v) for k, v in inputs.items()}
            entry["in_process"] = closed_loop(lambda: (lambda: loaded(**tensors)), 1, seconds)
            for api in args.apis.split(","):
                make = rest_caller(rest_port, name, body) if api == "rest" else grpc_caller(stub, request)
                closed_loop(make, 1, min(seconds, 0.5))  # warm the connection path
                entry[api] = {str(c): closed_loop(make, c, seconds) for c in levels}
                print(name, api, json.dumps(entry[api]), flush=True)
            print(name, "in_process", json.dumps(entry["in_process"]), flush=True)
        channel.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
