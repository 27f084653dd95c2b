"""``zoo``: the command line of the model zoo.

    zoo list                         pretrained models (yours and the shipped ones) and recipes
    zoo train RECIPE [--toy]         train a recipe, publish $ZOO_HOME/models/<name>/ (a toy run: nowhere)
    zoo evaluate NAME                test metrics of a pretrained model
    zoo sample NAME                  a PNG of prior samples (images), continuations (LMs), sentences (sentence VAE)
    zoo interpolate NAME A B         a sentence VAE's homotopy between sentences A and B
    zoo export NAME [--check]        re-export the SavedModel; --check runs it through the TF C API
    zoo serve [NAME...]              TF Serving's REST (8501) and gRPC (8500) APIs on 127.0.0.1
    zoo demo                         the main job on the shipped models (see ``zoo.demo``)
"""
import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class CommandError(Exception):
    """A command's own failure, with the message a user reads and the exit status (1 run-time, 2 usage)."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def cmd_list(args):
    from zoo import hub
    from zoo.card import ArtifactError
    from zoo.training import recipe_names
    print(f"pretrained models (yours in {hub.user_models_dir()}, shipped in {hub.shipped_models_dir()}):")
    for artifact in hub.list_artifacts():
        try:
            card = hub.read_card(artifact.name, artifact.origin)
        except ArtifactError as err:
            print(f"  {artifact.name:28s} unreadable: {err}")
            continue
        metrics = ", ".join(f"{k}={v:.2f}" for k, v in card.get("metrics", {}).items()
                            if isinstance(v, float) and k.startswith("test_"))
        print(f"  {artifact.name:28s} {artifact.origin:7s} {card['model_class']:10s} {metrics}")
    print("recipes (recipes/):")
    for name in recipe_names():
        print(f"  {name}")


def cmd_train(args):
    from zoo.training import load_recipe, train
    import zoo.models  # noqa: F401
    recipe = load_recipe(args.recipe)
    if args.toy:
        recipe = recipe.shrink()
    if args.max_minutes is not None:
        recipe.max_minutes = args.max_minutes
    if args.publish_only:
        from zoo.training.run import publish_run
        result = publish_run(recipe, run_dir=args.run_dir, seed=args.seed, models_dir=args.models_dir,
                             overwrite=args.overwrite)
    else:
        result = train(recipe, run_dir=args.run_dir, seed=args.seed, deterministic=args.deterministic,
                       resume=not args.no_resume, publish_artifact=not args.no_publish,
                       models_dir=args.models_dir, overwrite=args.overwrite, verbose=2 if args.verbose else 0,
                       strategy=args.strategy, cpu_replicas=args.cpu_replicas, scale_batch=not args.no_scale_batch)
    print(json.dumps({k: result[k] for k in ("metrics", "training")}, indent=2))
    print(f"run folder: {result['run_dir']} (history.csv, tensorboard/, best.weights.h5)")
    if result.get("artifact"):
        print(f"artifact: {result['artifact']}")


def cmd_evaluate(args):
    import zoo
    from zoo.data import DATASETS
    card = zoo.hub.read_card(args.name)
    model = zoo.load(args.name, compile=False)
    print(f"evaluating {model.artifact.describe()}", file=sys.stderr)
    from zoo.training.run import measure_arguments
    splits = DATASETS[card["data"]["loader"]].load()
    x = splits[args.split][: args.limit]
    # the card's evaluation settings (its figures were measured with them: k, and the chunk and batch sizes that
    # bound memory), then the command line's k; labels where the split has them (purity), as training passes them
    settings = dict(card.get("recipe_config", {}).get("evaluation", {}))
    if args.num_samples is not None:
        settings["num_samples"] = args.num_samples
    extra = measure_arguments(model.measure, labels=splits.get(f"{args.split}_labels"), **settings)
    start = time.time()
    with contextlib.redirect_stdout(sys.stderr):  # the bar on stderr: stdout holds the metrics' JSON only
        metrics = model.measure(x, **extra)
    seconds = time.time() - start
    print(json.dumps(metrics, indent=2))
    if args.record:
        write_evaluation_record(args, card, metrics, seconds, {k: v for k, v in extra.items() if k != "progress"})


def write_evaluation_record(args, card, metrics, seconds, arguments):
    """``zoo evaluate --record PATH``: the metrics with what produced them, so a figure quoted from an
    evaluation (a README line, a card update) has a record to trace to (issue 18)."""
    import datetime
    record = {"name": args.name, "split": args.split, "limit": args.limit, "arguments": arguments,
              "metrics": metrics, "seconds": round(seconds, 1),
              "card_metrics": card.get("metrics", {}),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "command": "zoo " + " ".join(args.argv)}
    path = Path(args.record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"record: {path}", file=sys.stderr)


def cmd_sample(args):
    import zoo
    from zoo.demo import save_grid
    model = zoo.load(args.name, compile=False)
    if hasattr(model, "generate"):  # a text model: continue the prompt with the chosen decoder
        print(generate_text(model, args))
        return
    if hasattr(model, "sample_sentences"):  # a sentence VAE: sentences decoded from z ~ p(z)
        params = {"beam": {"beam_width": args.beam_width}, "greedy": {}}.get(args.decoder)
        if params is None:
            raise CommandError(f"a sentence VAE decodes with greedy or beam, not {args.decoder!r}", status=2)
        print("\n".join(model.sample_sentences(args.num or 5, seed=args.seed, decoder=args.decoder, **params)))
        return
    images = model.sample(args.num or 64, seed=args.seed).numpy()
    save_grid(images, args.output, title=f"{args.name}: prior samples")
    print(args.output)


def generate_text(model, args):
    """``zoo sample`` for language models: ``args.num`` continuations of ``args.prompt``, as one string."""
    params = {"greedy": {}, "beam": {"beam_width": args.beam_width, "length_penalty": args.length_penalty},
              "sample": {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}}
    if args.decoder not in params:
        raise CommandError(f"unknown decoder {args.decoder!r}; choose from {sorted(params)}", status=2)
    num = args.num or 1
    prompts = [args.prompt] * (num if args.decoder == "sample" else 1)
    extra = {"seed": args.seed} if args.decoder == "sample" else {}
    out = model.generate(prompts, args.decoder, max_tokens=args.max_tokens, **params[args.decoder], **extra)
    joiner = " " if model.vocabulary.level == "word" and args.prompt else ""
    texts = [f"{args.prompt}{joiner}{text}" for text in out["text"]]
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"--- sample {i + 1} (seed {args.seed}) ---\n{text}" for i, text in enumerate(texts))


def cmd_interpolate(args):
    """Sentences decoded along the line between two sentences' posterior means (a sentence VAE's homotopy)."""
    import zoo
    model = zoo.load(args.name, compile=False)
    if not hasattr(model, "homotopy"):
        raise CommandError(f"{args.name} is a {type(model).__name__}; interpolate needs a sentence VAE", status=2)
    for i, sentence in enumerate(model.homotopy(args.first, args.second, steps=args.steps)):
        print(f"{i:3d}  {sentence}")


def cmd_export(args):
    import zoo
    from zoo import hub
    from zoo.export import check_export, export_saved_model
    from zoo.serving.config import servable_versions, write_models_config
    from zoo.serving.warmup import warmup_path, write_warmup_requests
    from zoo.training.artifact import PublishRefused, weights_dtype
    model = zoo.load(args.name, compile=False, verify=args.check)  # re-exporting repairs what --check finds
    folder = model.artifact.folder
    card_before = json.loads((folder / "card.json").read_text())
    if not args.check and hub.is_shipped_folder(folder) and not args.overwrite:
        raise PublishRefused(f"{folder} is a shipped artifact: re-exporting rewrites its files; pass --overwrite "
                             "to do so, or --check to check it without writing")
    if args.check or args.warmup_only:
        versions = [args.version] if args.version is not None else servable_versions(folder)
        if not versions:
            raise FileNotFoundError(f"{folder} has no numbered SavedModel version folder")
    else:
        versions = [args.version if args.version is not None else 1]
    report = {}
    for version in versions:
        version_dir = folder / str(version)
        if not args.check:
            if not args.warmup_only:
                export_saved_model(model, version_dir, weights_dtype(card_before))
            write_warmup_requests(model, version_dir, args.name)
        entry = report[str(version)] = {"python_reload": check_export(model, version_dir)}
        if args.check:
            from zoo.export.capi import CApiError, check_with_c_api
            entry["warmup_requests"] = warmup_path(version_dir).exists()
            try:
                entry["c_api"] = check_with_c_api(model, version_dir)
            except (AssertionError, CApiError) as err:
                print(json.dumps(report, indent=2))
                raise CommandError(f"{version_dir} fails the TF C API check: {err}") from None
    if not args.check:
        from zoo.card import file_manifest
        card_path = folder / "card.json"
        card = json.loads(card_path.read_text())
        card["files"] = file_manifest(folder)  # the re-exported files are the ones load checks from now on
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        report["models_config"] = str(write_models_config(folder.parent))
    print(json.dumps(report, indent=2))


def cmd_serve(args):
    import logging
    from zoo.serving.server import serve
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from zoo.serving.errors import ServingError
    try:
        server = serve(args.names or None, models_dir=args.models_dir, host=args.host, rest_port=args.rest_port,
                       grpc_port=args.grpc_port, max_request_bytes=args.max_request_bytes,
                       latest_only=args.latest_only, batching=not args.no_batching,
                       max_batch_size=args.max_batch_size, batch_timeout_s=args.batch_timeout_micros / 1e6)
    except (OSError, ServingError) as err:  # a port in use, no model that loads
        raise CommandError(str(err)) from None
    for name in server.registry.names():
        print(f"serving {name} versions {sorted(server.registry.versions(name))}")
    for name, reason in server.registry.skipped.items():
        print(f"skipped {name}: {reason}")
    print(f"REST  {server.rest_url}/v1/models/<name>[:predict]")
    print(f"gRPC  {server.grpc_target} (tensorflow.serving.PredictionService)", flush=True)
    server.wait()


def cmd_demo(args):
    from zoo.demo import main as demo_main
    demo_main(output_dir=args.output_dir, test_examples=args.test_examples, num_samples=args.num_samples)


# === Argument types: ranges, not only types (argparse turns a bad value into a usage error, exit 2) ===
def _range(kind, name, low, high=None, low_open=False):
    from zoo.data.validation import Range
    return Range(kind, low, high, low_open).argparse_type(name)


def count(name, high=None):
    return _range(int, name, 1, high)


def non_negative(name):
    return _range(int, name, 0)


def positive_float(name):
    return _range(float, name, 0.0, low_open=True)


def port(name):
    return _range(int, name, 0, 65535)


def decoding_param(name):
    from zoo.decoding.params import argparse_type
    return argparse_type(name)


def build_parser():
    parser = argparse.ArgumentParser(prog="zoo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="pretrained models and recipes").set_defaults(fn=cmd_list)

    p = sub.add_parser("train", help="train a recipe and publish its artifact")
    p.add_argument("recipe", help="recipe name in recipes/ or a path to a recipe file")
    p.add_argument("--toy", action="store_true", help="the recipe's toy size (seconds); never published, "
                   "except into a --models-dir of your own")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deterministic", action="store_true", help="enable TF op determinism")
    p.add_argument("--run-dir", default=None, help="default $ZOO_HOME/runs/<name>/ ($ZOO_HOME: ~/.zoo)")
    p.add_argument("--models-dir", default=None, help="publish into this folder instead of $ZOO_HOME/models/")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an artifact of the same name there (never done without this flag)")
    p.add_argument("--max-minutes", type=positive_float("--max-minutes"), default=None,
                   help="override the recipe's time budget")
    p.add_argument("--no-resume", action="store_true", help="do not resume from the run folder's backup")
    p.add_argument("--no-publish", action="store_true", help="train and evaluate only")
    p.add_argument("--publish-only", action="store_true",
                   help="evaluate and publish the run folder's best checkpoint without training")
    p.add_argument("--verbose", action="store_true", help="one line per epoch")
    p.add_argument("--strategy", default="default", choices=["default", "mirrored", "multi_worker", "tpu"],
                   help="tf.distribute strategy (multi_worker reads $TF_CONFIG)")
    p.add_argument("--cpu-replicas", type=count("--cpu-replicas"), default=None,
                   help="split the CPU into N logical devices (mirrored / multi_worker without GPUs)")
    p.add_argument("--no-scale-batch", action="store_true",
                   help="keep the recipe's batch as the global batch instead of per replica")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="test metrics of a pretrained model")
    p.add_argument("name")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=count("--limit"), default=None, help="first N examples only")
    p.add_argument("--num-samples", type=count("--num-samples"), default=5000, help="importance samples per example")
    p.add_argument("--record", default=None, metavar="PATH",
                   help="also write the metrics, arguments, time and command as JSON (e.g. bench/results/...)")
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("sample", help="a PNG grid of prior samples, or text continuations of a prompt")
    p.add_argument("name")
    p.add_argument("--num", type=count("--num", 10_000), default=None,
                   help="images (default 64), or text samples (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default="samples.png", help="image models: the PNG written")
    p.add_argument("--prompt", default="", help="text models: the text to continue ('' = start of a line)")
    p.add_argument("--decoder", default="sample", help="text models: greedy | sample | beam")
    p.add_argument("--max-tokens", type=decoding_param("max_tokens"), default=200)
    p.add_argument("--temperature", type=decoding_param("temperature"), default=1.0)
    p.add_argument("--top-k", type=decoding_param("top_k"), default=0, help="0 = off")
    p.add_argument("--top-p", type=decoding_param("top_p"), default=1.0, help="1 = off")
    p.add_argument("--beam-width", type=decoding_param("beam_width"), default=4)
    p.add_argument("--length-penalty", type=decoding_param("length_penalty"), default=0.0,
                   help="GNMT alpha of beam search")
    p.set_defaults(fn=cmd_sample)

    p = sub.add_parser("export", help="re-export a pretrained model's SavedModel, or check it")
    p.add_argument("name")
    p.add_argument("--version", type=count("--version"), default=None,
                   help="version folder (export: default 1; --check/--warmup-only: default every version)")
    p.add_argument("--check", action="store_true", help="check the existing export, with the TF C API too: every "
                   "signature run on its warm-up request in a process with no Python, compared with Keras")
    p.add_argument("--warmup-only", action="store_true", help="only (re)write the TF Serving warm-up records of the "
                   "existing version folders and models.config")
    p.add_argument("--overwrite", action="store_true", help="allow rewriting a shipped artifact's files")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("serve", help="serve saved_models/ with TF Serving's REST and gRPC APIs")
    p.add_argument("names", nargs="*", help="artifacts to serve (default: every servable one)")
    p.add_argument("--models-dir", default=None, help="default saved_models/ ($ZOO_MODELS_DIR)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, local only)")
    p.add_argument("--rest-port", type=port("--rest-port"), default=8501, help="REST port as TF Serving's --rest_api_port")
    p.add_argument("--grpc-port", type=port("--grpc-port"), default=8500, help="gRPC port as TF Serving's --port")
    p.add_argument("--max-request-bytes", type=count("--max-request-bytes"), default=16 << 20, help="request size limit (REST 413, "
                   "gRPC RESOURCE_EXHAUSTED)")
    p.add_argument("--latest-only", action="store_true", help="load only the highest version of each model")
    p.add_argument("--no-batching", action="store_true", help="run every request on its own")
    p.add_argument("--max-batch-size", type=count("--max-batch-size"), default=64)
    p.add_argument("--batch-timeout-micros", type=non_negative("--batch-timeout-micros"), default=0, help="how long a batch waits to fill")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("interpolate", help="a sentence VAE's homotopy between two sentences")
    p.add_argument("name")
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--steps", type=_range(int, "--steps", 0, 100), default=5, help="points between the two")
    p.set_defaults(fn=cmd_interpolate)

    p = sub.add_parser("demo", help="samples, reconstructions, interpolations and NLL of the shipped models")
    p.add_argument("--output-dir", default="demo")
    p.add_argument("--test-examples", type=count("--test-examples"), default=500)
    p.add_argument("--num-samples", type=count("--num-samples"), default=5000, help="importance samples per test digit")
    p.set_defaults(fn=cmd_demo)
    from zoo.answer_cli import add_answer_parser  # bAbI question answering (issue 14)
    add_answer_parser(sub)
    return parser


def main(argv=None):
    """Runs one subcommand. A user's mistake ends with one line on stderr, never a traceback: exit 2 for a
    wrong argument or a name or file that does not exist, 1 for a run-time failure (a damaged file, a refused publish, an error
    inside TensorFlow). ``ZOO_DEBUG=1`` re-raises, for the traceback."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what a record names as its command
    try:
        args.fn(args)
    except KeyboardInterrupt:
        print(f"zoo {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001  (the one place that turns errors into messages)
        if os.environ.get("ZOO_DEBUG"):
            raise
        status, message = describe_error(err)
        print(f"zoo {args.command}: error: {message}", file=sys.stderr)
        return status
    return 0


def describe_error(err):
    """(exit status, one-line message) for an exception that reached the command line."""
    if isinstance(err, CommandError):
        return err.status, str(err)
    if isinstance(err, KeyError):  # unknown recipe, model, class: the message is the first argument
        return 2, str(err.args[0]) if err.args else "unknown name"
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if len(message) > 500:
        message = message[:500] + "..."
    if isinstance(err, FileNotFoundError):  # a recipe, model or data file that is not there
        return 2, message
    if isinstance(err, (ValueError, OSError)):
        return 1, message
    try:
        import tensorflow as tf
        if isinstance(err, tf.errors.OpError):
            return 1, f"TensorFlow: {err.message.strip().splitlines()[0][:500]}"
    except ImportError:
        pass
    return 1, f"{type(err).__name__}: {message} (an internal error; ZOO_DEBUG=1 shows the traceback)"


def console_main():
    """The ``zoo`` console script: ``main`` with TensorFlow's native log lines filtered out (``zoo.quiet``)."""
    from zoo.quiet import quiet_native_logs
    quiet_native_logs()
    return main()


if __name__ == "__main__":
    sys.exit(console_main())
