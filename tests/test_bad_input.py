"""Bad input gets a clear error naming the file, line, field or value, at every boundary (issue 16): the file
readers, the command line, and the served graphs through both serving APIs, with no 5xx, no hang, and the
server still answering afterwards. docs/errors.md lists what a user can meet; each row has a case here."""
import base64
import io
import urllib.error
import zipfile

import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.conftest import PLAY, write_tiny_20news
from tests.serving_helpers import http, start_server, tiny_vae
from zoo.cli import main
from zoo.data import binarized_mnist, newsgroups
from zoo.data.files import download
from zoo.data.reading import DataFileError
from zoo.data.text import Vocabulary, read_utf8
from zoo.export import export_saved_model
from zoo.models import DocNADE, NGramLanguageModel, NVDM, RNNLanguageModel
from zoo.training.artifact import write_serving_files

CHARS = Vocabulary.from_text(PLAY, "char")
WORDS = [f"{a}{b}" for a in "abcdef" for b in "pqrst"]  # 30 words


# === File readers: the file, the line and a short excerpt ===
def _write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize("content, message", [
    (b"3 1:2 5:1\n4 2:\xff1\n", r"train.feat:2:5: not UTF-8 text \(byte 0xff\)"),
    (b"\x00\x01\x02binary junk\x9c", r"train.feat:1:15: not UTF-8 text"),
    ("25 1:2\n", r"train.feat:1: label 25 out of range 1..20"),
    ("0 1:2\n", r"train.feat:1: label 0 out of range 1..20"),
    ("3 1:2 " + "9" * 5_000_000 + "\n", r"train.feat:1: bad pair '9999.*\(5,000,000 characters\)"),
])
def test_feat_errors_name_file_line_and_stay_short(tmp_path, content, message):
    path = _write(tmp_path / "train.feat", content)
    with pytest.raises(DataFileError, match=message) as caught:
        newsgroups.read_feat(path, vocab_size=30)
    assert len(str(caught.value)) < 300


def test_vocabulary_errors(tmp_path):
    with pytest.raises(DataFileError, match=r"vocab.new:2:2: not UTF-8"):
        newsgroups.read_vocab(_write(tmp_path / "vocab.new", b"ab 3\nc\xe9d 2\n"))
    with pytest.raises(DataFileError, match=r"vocab.new:3: word 'ab' repeats line 1"):
        newsgroups.read_vocab(_write(tmp_path / "vocab.new", "ab 3\ncd 2\nab 1\n"))
    with pytest.raises(FileNotFoundError, match=r"nothing.txt: vocabulary file does not exist"):
        newsgroups.read_vocab(tmp_path / "nothing.txt")


def test_text_file_errors(tmp_path):
    with pytest.raises(DataFileError, match=r"input.txt:3:2: not UTF-8 text \(byte 0xc3\)"):
        read_utf8(_write(tmp_path / "input.txt", b"ab\ncd\ne\xc3(\n"))


def test_amat_errors(tmp_path):
    good = " ".join(["0"] * 784) + "\n"
    with pytest.raises(DataFileError, match=r"train.amat:2:3: not ASCII text \(byte 0xc3\)"):
        binarized_mnist.read_amat(_write(tmp_path / "train.amat", good + "0 \xc3\xa9 1\n"))
    with pytest.raises(DataFileError, match=r"train.amat:1: expected 784 values, found 3"):
        binarized_mnist.read_amat(_write(tmp_path / "train.amat", "0 1 0\n"))
    with pytest.raises(DataFileError, match=r"train.amat:1: expected 0/1 values, found '0.5'"):
        binarized_mnist.read_amat(_write(tmp_path / "train.amat", "0.5 " + " ".join(["0"] * 783) + "\n"))


def _npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("content, message", [
    (b"not a zip at all", r"binarized_mnist.npz: not a .npz file"),
    (_npz_bytes(train=np.array([{"a": 1}], dtype=object)), r"\['train'\]: not a plain numeric array"),
    (_npz_bytes(train=np.zeros((50, 784), np.uint8))[:-300], r"not a .npz file, or a truncated one"),
    (_npz_bytes(valid=np.zeros((2, 784), np.uint8)), r"no array 'train' \(has \['valid'\]\)"),
    (_npz_bytes(train=np.full((2, 784), 2, np.uint8)), r"\['train'\]: expected binary values .* first 2"),
])
def test_npz_errors_name_the_file(tmp_path, content, message):
    path = _write(tmp_path / "binarized_mnist.npz", content)
    with pytest.raises(ValueError, match=message):
        binarized_mnist.read_npz(path, "train")


def test_a_missing_file_offline_names_the_file_and_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"test.feat is missing and could not be downloaded from https://x/"
                                                r"test.feat \(\[Errno -3\].*ZOO_DATA_DIR"):
        download("https://x/test.feat", tmp_path / "test.feat", "0" * 64)
    assert list(tmp_path.iterdir()) == [], "no partial file is left"


# === Command line: one line on stderr, exit 2 for usage, never a traceback ===
@pytest.mark.parametrize("argv, message", [
    (["evaluate", "vae-binarized-mnist", "--limit", "-5"], "--limit: must be an integer >= 1, got '-5'"),
    (["sample", "vae-binarized-mnist", "--num", "0"], "--num: must be an integer in [1, 10,000], got '0'"),
    (["sample", "char-rnn-shakespeare", "--temperature", "0"], "must be a finite number > 0, got '0'"),
    (["sample", "char-rnn-shakespeare", "--temperature", "nan"], "must be a finite number > 0, got 'nan'"),
    (["sample", "char-rnn-shakespeare", "--top-p", "1.5"], "must be a finite number in (0, 1], got '1.5'"),
    (["sample", "char-rnn-shakespeare", "--max-tokens", "-1"], "must be an integer in [1, 100,000], got '-1'"),
    (["serve", "--rest-port", "70000"], "--rest-port: must be an integer in [0, 65,535], got '70000'"),
    (["serve", "--grpc-port", "http"], "--grpc-port: must be an integer in [0, 65,535], got 'http'"),
])
def test_cli_argument_ranges_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("argv, status, message", [
    (["evaluate", "no-such-model"], 2, "no pretrained model 'no-such-model'"),
    (["train", "vae_binarized_mnist", "--models-dir", "{shipped}"], 1, "already holds a shipped artifact"),
    (["export", "lstm-lm-ptb"], 1, "is a shipped artifact: re-exporting rewrites its files"),
    (["serve", "no-such-model"], 1, "no servable model ['no-such-model']"),
])
def test_cli_runtime_errors_are_one_line(argv, status, message, capsys):
    from zoo.paths import REPO_ROOT
    argv = [a.format(shipped=REPO_ROOT / "saved_models") for a in argv]
    code = main(argv) if argv[0] != "serve" else _exit_code(argv)
    err = capsys.readouterr().err
    assert code == status and message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exit_:
        return 1 if isinstance(exit_.code, str) else exit_.code


# === Served graphs: INVALID_ARGUMENT naming the input, over REST (400) and gRPC, from stock-TF-Serving graphs ===
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Tiny exported models of each kind (VAE, char LM, n-gram, NVDM, DocNADE), served on free ports."""
    root = tmp_path_factory.mktemp("bad_input_models")
    keras.utils.set_random_seed(0)
    counts = np.eye(3, len(WORDS), dtype=np.float32) * 2
    models = {
        "vae": (tiny_vae(0), None),
        "lm": (RNNLanguageModel(vocab_size=len(CHARS), embedding_dim=8, hidden_units=8, num_layers=1,
                                vocabulary=CHARS, seed=0), np.array([CHARS.encode("ROMEO")])),
        "ngram": (NGramLanguageModel(vocab_size=len(CHARS), order=2, embedding_dim=4, hidden_units=(8,),
                                     vocabulary=CHARS), np.zeros((1, 2), np.int32)),
        "nvdm": (NVDM(vocab_size=len(WORDS), latent_dim=2, hidden_units=(8,), vocabulary=WORDS, seed=0), counts),
        "docnade": (DocNADE(vocab_size=len(WORDS), hidden_units=4, vocabulary=WORDS, seed=0), counts),
    }
    for name, (model, example) in models.items():
        if example is not None:
            model(example)
        export_saved_model(model, root / name / "1")
        write_serving_files(model, root / name / "1", name)
    server = start_server(root)
    channel = grpc.insecure_channel(server.grpc_target)
    yield server, prediction_service_pb2_grpc.PredictionServiceStub(channel), {k: m for k, (m, _) in models.items()}
    channel.close()
    server.stop()


def b64(data):
    return {"b64": base64.b64encode(data).decode()}


SAMPLE = {"prompt": ["RO"], "max_tokens": 5, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": 1}
IMAGE = [[0.0] * 784]
CASES = [  # (model, signature, inputs, words the error must contain)
    ("lm", "generate", {**SAMPLE, "max_tokens": -1}, "input max_tokens: must be an integer in [1, 100,000], got] [-1]"),
    ("lm", "generate", {**SAMPLE, "temperature": 0.0}, "input temperature: must be a finite number > 0, got] [0]"),
    ("lm", "generate", {**SAMPLE, "temperature": -2.0}, "input temperature: must be a finite number > 0"),
    ("lm", "generate", {**SAMPLE, "temperature": float("nan")}, "input temperature: must hold finite numbers"),
    ("lm", "generate", {**SAMPLE, "top_p": 0.0}, "input top_p: must be a finite number in (0, 1]"),
    ("lm", "generate", {**SAMPLE, "top_p": 1.5}, "input top_p: must be a finite number in (0, 1]"),
    ("lm", "generate", {**SAMPLE, "top_k": -3}, "input top_k: must be an integer >= 0"),
    ("lm", "generate_greedy", {"prompt": ["RO"], "max_tokens": 2_000_000_000}, "input max_tokens: must be an integer in"),
    ("lm", "generate_beam", {"prompt": ["RO"], "max_tokens": 4, "length_penalty": -1.0},
     "input length_penalty: must be a finite number >= 0"),
    ("lm", "generate_greedy", {"prompt": [b64(b"RO\xff\xfe")], "max_tokens": 3}, "input prompt: must be UTF-8"),
    ("lm", "score", {"text": [b64(b"\xc3(")]}, "input text: must be UTF-8"),
    ("ngram", "viterbi", {"context": [0, -4]}, "input context: must be an integer in [0,"),
    ("ngram", "serving_default", {"contexts": [[0, 999]]}, "input contexts: must be an integer in [0,"),
    ("vae", "decode", {"z": [[float("inf"), 0.0]]}, "input z: must hold finite numbers"),
    ("vae", "decode", {"z": [[0.0, float("nan")]]}, "input z: must hold finite numbers"),
    ("vae", "encode", {"x": [[0.5] * 784]}, "input x: must hold only 0 and 1"),
    ("vae", "sample", {"num_samples": 0, "seed": 1}, "input num_samples: must be an integer in [1, 10,000]"),
    ("vae", "score", {"x": IMAGE, "num_samples": 10**6, "seed": 1}, "input num_samples: must be an integer in [1, 10,000]"),
    ("nvdm", "text", {"text": [b64(b"abp \xff\xfe acq")]}, "input text: must be UTF-8"),
    ("nvdm", "score", {"counts": [[0.0] * 30], "num_samples": 4, "seed": 1}, "every document must hold at least"),
    ("docnade", "score", {"counts": [[1.0] * 30, [0.0] * 30], "seed": 1}, "empty rows:] [1]"),
    ("docnade", "encode", {"counts": [[-1.0] + [0.0] * 29]}, "input counts: must hold non-negative integer"),
    ("docnade", "topics", {"k": 0}, "input k: must be an integer in [1, 30]"),
]


@pytest.mark.parametrize("model, signature, inputs, message", CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in
                                                                          enumerate(CASES)])
def test_served_signatures_refuse_bad_inputs_over_rest(served, model, signature, inputs, message):
    server, _, _ = served
    status, body = http(f"{server.rest_url}/v1/models/{model}:predict", "POST",
                        _json_body({"signature_name": signature, "inputs": inputs}))
    assert status == 400, body
    assert message in body["error"], body["error"]


def _json_body(doc):
    """JSON with NaN written as TF Serving reads it (``NaN``)."""
    import json
    return json.dumps(doc, allow_nan=True)


def test_grpc_gives_the_same_errors(served):
    _, stub, _ = served
    for model, signature, inputs, message in (CASES[1], CASES[9], CASES[13]):
        request = predict_pb2.PredictRequest()
        request.model_spec.name, request.model_spec.signature_name = model, signature
        for key, value in inputs.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):  # b64 strings
                value = np.array([base64.b64decode(v["b64"]) for v in value], dtype=object)
            dtype = {"max_tokens": np.int32, "top_k": np.int32, "seed": np.int32}.get(key)
            if dtype is None and isinstance(value, float):
                dtype = np.float32
            if dtype is None and isinstance(value, list) and not isinstance(value[0], (str, bytes)):
                dtype = np.float32
            request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value, dtype=dtype) if dtype else value))
        with pytest.raises(grpc.RpcError) as caught:
            stub.Predict(request, timeout=60)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in caught.value.details()


def test_malformed_requests_are_400_and_the_server_keeps_answering(served):
    server, _, models = served
    url = f"{server.rest_url}/v1/models/vae:predict"
    big = '{"inputs": {"num_samples": ' + "9" * 5000 + ', "seed": 1}, "signature_name": "sample"}'
    status, body = http(url, "POST", big)
    assert status == 400 and "JSON Parse error" in body["error"] and len(body["error"]) < 400
    status, body = http(url, "POST", '{"signature_name": "decode", "inputs": {"z": [[1e999, ' + "9" * 400 + "]]}}")
    assert status == 400, body
    status, body = http(url, "POST", {"signature_name": "decode", "inputs": {"z": [[0.1, 0.2]]}})
    assert status == 200
    probs = tf.sigmoid(models["vae"].decoder_logits(tf.constant([[0.1, 0.2]]))).numpy()  # the Keras model
    np.testing.assert_allclose(body["outputs"]["probs"], probs, rtol=1e-5, atol=1e-6)


def test_python_calls_raise_value_errors_naming_the_parameter(served):
    _, _, models = served
    lm = models["lm"]
    for params, message in (({"temperature": 0.0}, "temperature must be a finite number > 0, got 0.0"),
                            ({"top_p": 2.0}, r"top_p must be a finite number in \(0, 1\], got 2.0"),
                            ({"max_tokens": -5}, r"max_tokens must be an integer in \[1, 100,000\], got -5"),
                            ({"max_tokens": 10**12}, r"max_tokens must be an integer in \[1, 100,000\]")):
        with pytest.raises(ValueError, match=message):
            lm.generate("RO", "sample", **{"max_tokens": 3, **params})
    with pytest.raises(ValueError, match="beam_width must be an integer in"):
        lm.generate("RO", "beam", max_tokens=3, beam_width=0)


# === zoo serve: a model that does not load is skipped with its reason; the rest are served ===
def test_serve_skips_damaged_models_and_serves_the_rest(tmp_path, zoo_home):
    from zoo.serving.registry import ModelRegistry
    from zoo.training.artifact import publish
    model = tiny_vae(0)
    batch = np.zeros((2, 784), np.float32)
    for name in ("good", "truncated", "bad-warmup"):
        publish(model, batch, {"name": name}, folder=tmp_path / name)
    pb = tmp_path / "truncated" / "1" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:200])
    warmup = tmp_path / "bad-warmup" / "1" / "assets.extra" / "tf_serving_warmup_requests"
    warmup.write_bytes(b"\x00" * 40)
    registry = ModelRegistry.from_models_dir(tmp_path, batching=False)
    try:
        assert registry.names() == ["good"]
        assert "saved_model.pb: damaged" in registry.skipped["truncated/1"]
        assert "tf_serving_warmup_requests: damaged" in registry.skipped["bad-warmup/1"]
    finally:
        registry.close()
    # the same damage without the card's manifest still fails cleanly, with the reason and no traceback
    for name in ("truncated", "bad-warmup"):
        (tmp_path / name / "card.json").unlink()
    registry = ModelRegistry.from_models_dir(tmp_path, batching=False)
    try:
        assert registry.names() == ["good"] and set(registry.skipped) == {"truncated/1", "bad-warmup/1"}
        assert all("\n" not in reason and len(reason) < 400 for reason in registry.skipped.values())
    finally:
        registry.close()


def test_documents_with_labels_out_of_range_are_refused_by_the_loader(tmp_path):
    folder = write_tiny_20news(tmp_path / "20news-nvdm")
    lines = (folder / "train.feat").read_text().splitlines()
    lines[3] = "21" + lines[3][lines[3].index(" "):]
    (folder / "train.feat").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"train.feat:4: label 21 out of range 1..20"):
        newsgroups.load_20news(data_dir=tmp_path, allow_download=False)


def test_zip_of_npz_is_closed_after_an_error(tmp_path):
    """Errors do not leak open files (the reader uses a context manager)."""
    path = _write(tmp_path / "binarized_mnist.npz", _npz_bytes(valid=np.zeros((1, 784), np.uint8)))
    with pytest.raises(ValueError):
        binarized_mnist.read_npz(path, "train")
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["valid.npy"]


# === The shipped artifacts carry the checks too (what stock TF Serving loads) ===
def _shipped_names():
    from zoo.paths import REPO_ROOT
    return sorted(p.parent.name for p in (REPO_ROOT / "saved_models").glob("*/card.json"))


@pytest.mark.parametrize("name", _shipped_names())
def test_shipped_signatures_refuse_non_finite_floats_and_non_utf8_text(name):
    """Every signature of every shipped artifact with a float or string input, fed its card's example request
    with one value spoiled (NaN, or bytes that are not UTF-8), fails with InvalidArgument naming the input."""
    import json

    from zoo.paths import REPO_ROOT
    folder = REPO_ROOT / "saved_models" / name
    card = json.loads((folder / "card.json").read_text())
    loaded = tf.saved_model.load(str(folder / "1"))
    tried = 0
    for signature, doc in card["signatures"].items():
        fn = loaded.signatures[signature]
        for key, spec in doc["inputs"].items():
            if spec["dtype"] not in ("float32", "string"):
                continue
            inputs = {k: tf.constant(v, dtype=doc["inputs"][k]["dtype"])
                      for k, v in doc["example_request"]["inputs"].items()}
            value = np.array(inputs[key].numpy())  # 0-d for scalars, so the assignment below lands
            if spec["dtype"] == "float32":
                value.reshape(-1)[0] = np.nan
            else:
                value.reshape(-1)[0] = b"\xff\xfe"
            inputs[key] = tf.constant(value)
            with pytest.raises(tf.errors.InvalidArgumentError, match=f"input {key}: must"):
                fn(**inputs)
            tried += 1
    assert tried or name.startswith("ngram"), f"{name}: no float or string input to spoil"


def test_a_recipe_that_would_pick_its_best_epoch_by_an_annealed_loss_is_refused():
    from zoo.training import Recipe
    with pytest.raises(ValueError, match="monitor 'val_elbo'"):
        Recipe(name="r", model={}, data={}, kl_schedule={"kind": "linear", "warmup_steps": 10})
    Recipe(name="r", model={}, data={}, kl_schedule={"kind": "linear", "warmup_steps": 10}, monitor="val_elbo",
           monitor_mode="max")
