"""Training against posterior collapse (issue 10): He et al. (2019)'s aggressive inference-network updates and
Li et al. (2019)'s autoencoder pre-training (decoder re-drawn after ``init_from``, free bits per example and
dimension). Each test holds the code to an independent computation or to Keras' own train step."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import SENTENCES
from tests.test_sentence_vae import WORDS, padded, tiny
from zoo import hub
from zoo.models import VAE
from zoo.models.aggressive import CHECK_EVERY, inference_steps, split_variables
from zoo.models.seeding import step_seed
from zoo.objectives import free_bits_kl
from zoo.training import Recipe, load_recipe, train
from zoo.training.callbacks import AggressiveUntilInformationPlateaus
from zoo.training.run import build_model

X = padded([s.strip() for s in SENTENCES] * 2)  # 8 sentences


def values(variables):
    return [np.array(v) for v in variables]


def compiled(model, optimizer):
    model.compile(optimizer)
    model.optimizer.build(model.trainable_variables)
    return model


# === Aggressive updates (He et al. 2019) ===
def test_inference_variables_are_the_encoder_and_posterior_head_only():
    model = tiny(aggressive_steps=3)
    encoder, decoder = split_variables(model)
    expected = {v.path for layer in (model.encoder, model.posterior_head) for v in layer.trainable_variables}
    assert {v.path for v in encoder} == expected
    assert model.embedding.embeddings.path in {v.path for v in decoder}  # shared with the decoder: held
    vae = VAE(input_size=6, latent_dim=2, hidden_units=(5,), seed=0, aggressive_steps=2)
    vae(tf.zeros([1, 6]))
    expected = {v.path for layer in (vae.encoder_net, vae.posterior_head) for v in layer.trainable_variables}
    assert {v.path for v in vae.inference_variables()} == expected  # the default rule, by layer names
    assert not any(v.name == "aggressive" for v in tiny().weights)  # absent when off: old artifacts still load


def test_an_inner_step_is_one_sgd_step_of_the_encoder_alone():
    model = compiled(tiny(aggressive_steps=1), keras.optimizers.SGD(0.5))
    encoder, decoder = split_variables(model)
    before_encoder, before_decoder = values(encoder), values(decoder)
    seed = tf.random.experimental.stateless_fold_in(step_seed(model), 1)  # the first inner step's noise
    with tf.GradientTape() as tape:
        terms = model.objective_terms(X, model.posterior(X), seed, training=True)
        loss = -tf.reduce_mean(terms["bound"])
    grads = tape.gradient(loss, encoder)
    assert int(inference_steps(model, tf.constant(X), encoder)) == 1
    for variable, old in zip(decoder, before_decoder):
        np.testing.assert_array_equal(np.array(variable), old)
    for variable, old, grad in zip(encoder, before_encoder, grads):
        np.testing.assert_allclose(np.array(variable), old - 0.5 * np.array(grad), rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(np.array(v), old) for v, old in zip(encoder, before_encoder))
    assert int(model.optimizer.iterations) == 0  # inner steps do not count as batches


def test_inner_loop_stops_once_the_bound_stops_improving():
    ascent = compiled(tiny(aggressive_steps=100), keras.optimizers.SGD(-0.5))  # every step makes the bound worse
    encoder, _ = split_variables(ascent)
    assert int(inference_steps(ascent, tf.constant(X), encoder)) == 2 * CHECK_EVERY  # first comparison at 30
    short = compiled(tiny(aggressive_steps=7), keras.optimizers.SGD(0.01))
    assert int(inference_steps(short, tf.constant(X), split_variables(short)[0])) == 7  # the cap, before any check


def test_with_aggressive_off_the_step_is_keras_joint_step():
    plain, switched = tiny(), tiny(aggressive_steps=5)
    for a, b in zip(switched.trainable_variables, plain.trainable_variables):
        a.assign(b)
    switched.aggressive.assign(0.0)
    for model in (plain, switched):
        model.compile(keras.optimizers.SGD(0.3))
        model.fit(X, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(plain.trainable_variables, switched.trainable_variables):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.array(plain.trainable_variables[-1]), np.array(tiny().trainable_variables[-1]))


@pytest.mark.parametrize("kind", ["sentence", "image"])
def test_fit_with_aggressive_updates_reports_the_plain_loss(kind):
    keras.utils.set_random_seed(0)
    if kind == "sentence":
        model, x = tiny(aggressive_steps=4), X
    else:
        model = VAE(input_size=12, latent_dim=2, hidden_units=(8,), seed=0, aggressive_steps=4)
        x = (np.random.RandomState(0).rand(16, 12) > 0.5).astype(np.float32)
    model.compile(keras.optimizers.Adam(1e-2))
    callback = AggressiveUntilInformationPlateaus([x[:4], x[4:8]], seed=1)
    history = model.fit(x, epochs=2, batch_size=4, verbose=0, callbacks=[callback]).history
    assert history["aggressive"][0] == 1.0 and all(np.isfinite(history["mutual_information"]))
    assert history["encoder_steps"] == [4.0 * on for on in history["aggressive"]]  # the cap: 4 < the first check
    # kl weight 1, no free bits, no word dropout: the reported loss is the outer step's -ELBO (same z), not the
    # inner steps'
    np.testing.assert_allclose(history["loss"], -np.array(history["elbo"]), rtol=1e-5)
    assert int(model.optimizer.iterations) == 2 * len(x) // 4


class ScriptedInformation(AggressiveUntilInformationPlateaus):
    def __init__(self, sequence):
        super().__init__([X[:2]])
        self.sequence = list(sequence)

    def information(self):
        return self.sequence.pop(0)


def test_aggressive_mode_ends_for_good_when_information_stops_rising():
    model = tiny(aggressive_steps=2)
    callback = ScriptedInformation([0.5, 0.9, 0.8, 1.2])
    callback.set_model(model)
    logs = []
    for epoch in range(4):
        logs.append({})
        callback.on_epoch_end(epoch, logs[-1])
    assert [entry["aggressive"] for entry in logs] == [1.0, 1.0, 1.0, 0.0]  # off after epoch 3's fall, for good
    assert [entry["mutual_information"] for entry in logs] == [0.5, 0.9, 0.8, 1.2]
    assert float(model.aggressive.numpy()) == 0.0 and callback.stopped_epoch == 2
    negative = ScriptedInformation([-0.01])  # He et al. start from 0: a first epoch below it ends the phase
    fresh = tiny(aggressive_steps=2)
    negative.set_model(fresh)
    negative.on_epoch_end(0, {})
    assert float(fresh.aggressive.numpy()) == 0.0


def test_the_callback_averages_the_estimator_over_its_batches():
    from zoo.objectives import mutual_information
    model = tiny(aggressive_steps=2)
    callback = AggressiveUntilInformationPlateaus([X[:3], X[3:8]], seed=4)
    callback.set_model(model)
    by_hand = [float(mutual_information(model.posterior(b), tf.constant([4, i])))
               for i, b in enumerate((X[:3], X[3:8]))]
    assert callback.information() == pytest.approx((3 * by_hand[0] + 5 * by_hand[1]) / 8, rel=1e-5)


def test_the_training_path_runs_aggressive_mode_from_the_model_config(tiny_data_dir, tmp_path):
    recipe = load_recipe("sentence_vae_ptb").shrink()
    recipe.model["config"]["aggressive_steps"] = 3
    recipe.epochs = 2
    result = train(recipe, run_dir=tmp_path / "run", models_dir=tmp_path / "models", verbose=0)
    header, *rows = (tmp_path / "run" / "history.csv").read_text().split()
    columns = header.split(",")
    assert {"aggressive", "mutual_information", "encoder_steps"} <= set(columns)
    assert rows[0].split(",")[columns.index("aggressive")] == "1.0"
    assert result["training"]["epochs_run"] == 2 and "artifact" in result


# === Autoencoder pre-training (Li et al. 2019) ===
def recipe_from(init_from, reinitialize):
    config = {"vocab_size": len(WORDS), "latent_dim": 3, "embedding_dim": 8, "hidden_units": 12, "seed": 0,
              "max_tokens": 20}
    return Recipe(name="t", model={"class_name": "SentenceVAE", "config": config}, data={"loader": "ptb_sentences"},
                  init_from=init_from, reinitialize=reinitialize)


def test_reinitialize_redraws_exactly_the_named_layers(monkeypatch):
    source = tiny()  # the "pretrained" artifact: every weight moved away from its initial value
    for variable in source.trainable_variables:
        variable.assign(variable + np.random.RandomState(1).normal(size=variable.shape).astype(np.float32))
    monkeypatch.setattr(hub, "load", lambda name, compile=True: source)
    keras.utils.set_random_seed(0)
    fresh = tiny()  # what the initializers draw for a model built under this seed
    keras.utils.set_random_seed(0)
    model = build_model(recipe_from("ae", ["decoder", "z_to_state", "softmax"]), tf.constant(X),
                        {"vocabulary": WORDS})
    for name in ("embedding", "encoder", "posterior", "decoder", "z_to_state", "softmax"):
        got, pretrained, drawn = (values(m.get_layer(name).weights) for m in (model, source, fresh))
        expected = drawn if name in ("decoder", "z_to_state", "softmax") else pretrained
        other = pretrained if expected is drawn else drawn
        for g, e, o in zip(got, expected, other):
            np.testing.assert_array_equal(g, e)
            assert not np.allclose(g, o)  # the two candidates differ everywhere
    assert model.vocabulary.tokens == WORDS.tokens  # the artifact's vocabulary came with its weights


def test_reinitialize_names_an_unknown_layer(monkeypatch):
    monkeypatch.setattr(hub, "load", lambda name, compile=True: pytest.fail("checked before loading"))
    with pytest.raises(ValueError, match=r"reinitialize names \['decodr'\].*'decoder'"):
        build_model(recipe_from("ae", ["decoder", "decodr"]), tf.constant(X), {"vocabulary": WORDS})
    with pytest.raises(ValueError, match="init_from is None"):
        recipe_from(None, ["decoder"])


def test_an_artifact_of_another_vocabulary_is_refused(monkeypatch):
    source = tiny()
    monkeypatch.setattr(hub, "load", lambda name, compile=True: source)
    other = type(WORDS)(WORDS.tokens[:-1] + ["zzz"], "word")
    with pytest.raises(ValueError, match="another vocabulary"):
        build_model(recipe_from("ae", []), tf.constant(X), {"vocabulary": other})


def test_free_bits_per_example_and_dimension_by_hand():
    kl = tf.constant([[0.1, 2.0, 0.0], [1.0, 0.05, 0.3]])
    expected = np.mean([0.5 + 2.0 + 0.5, 1.0 + 0.5 + 0.5])  # each example's units below 0.5 count as 0.5
    assert float(free_bits_kl(kl, 0.5, "example_dimension")) == pytest.approx(expected)
    assert float(free_bits_kl(kl, 0.5, "dimension")) == pytest.approx(0.55 + 1.025 + 0.5)  # batch means first


def test_the_li_et_al_recipes_chain():
    ae, vae = load_recipe("sentence_ae_ptb"), load_recipe("sentence_vae_ptb")
    assert vae.init_from == ae.name and vae.reinitialize == ["decoder", "z_to_state", "softmax"]
    weights_of = ("vocab_size", "latent_dim", "embedding_dim", "hidden_units", "num_layers", "z_to_inputs")
    assert {k: ae.model["config"][k] for k in weights_of} == {k: vae.model["config"][k] for k in weights_of}
    assert ae.kl_schedule == {"kind": "constant", "value": 0.0} and vae.model["config"]["free_bits"] > 0
    assert vae.shrink().init_from is None and vae.shrink().reinitialize == []


def test_the_two_stages_chain_through_the_hub(tiny_data_dir, tmp_path, monkeypatch):
    """Stage 1 published (toy size), stage 2 built from it by name: encoder and embedding from the autoencoder,
    decoder, z_to_state and softmax as a fresh model's, the autoencoder's vocabulary."""
    import zoo
    from zoo.training.run import example_inputs, load_data
    ae = load_recipe("sentence_ae_ptb").shrink()
    train(ae, run_dir=tmp_path / "run", models_dir=tmp_path / "models", verbose=0)
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path / "models"))
    stage2 = load_recipe("sentence_vae_ptb").shrink()
    stage2.init_from, stage2.reinitialize = ae.name, ["decoder", "z_to_state", "softmax"]
    stage2.model["config"].update(ae.model["config"])  # the toy architectures must agree, as the real ones do
    splits, _ = load_data(stage2)
    batch = example_inputs(stage2, splits)
    pretrained = zoo.load(ae.name, compile=False)
    keras.utils.set_random_seed(0)
    fresh = build_model(load_recipe("sentence_ae_ptb").shrink(), batch, splits)
    keras.utils.set_random_seed(0)
    model = build_model(stage2, batch, splits)
    assert not np.allclose(values(pretrained.get_layer("encoder").weights)[0],
                           values(fresh.get_layer("encoder").weights)[0])  # stage 1 did move the encoder
    for name in ("embedding", "encoder", "posterior", "decoder", "z_to_state", "softmax"):
        source = fresh if name in stage2.reinitialize else pretrained
        for got, expected in zip(values(model.get_layer(name).weights), values(source.get_layer(name).weights)):
            np.testing.assert_array_equal(got, expected)
    assert model.vocabulary.tokens == pretrained.vocabulary.tokens
