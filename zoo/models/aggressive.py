"""Aggressive inference-network updates (He, Spokoyny, Neubig & Berg-Kirkpatrick, "Lagging Inference Networks and
Posterior Collapse in Variational Autoencoders", ICLR 2019, Algorithm 1), as the train step of a
``LatentVariableModel`` built with ``aggressive_steps > 0``.

While the model's non-trainable variable ``aggressive`` is 1, each training batch costs:

1. inner steps that update the inference network only (``model.inference_variables()``) on the trained bound,
   at most ``aggressive_steps`` of them (theirs: 99), stopped early once the bound stops improving: every
   ``CHECK_EVERY`` (= 15, their value) steps the mean loss of the last 15 steps is compared with that of the 15
   before, and the loop ends when it did not fall (the first comparison is at step 30);
2. one update of every other variable (the generative model) on the batch, the encoder held.

With ``aggressive`` 0 the step is the ordinary joint update. ``zoo.training.callbacks.
AggressiveUntilInformationPlateaus`` turns the mode off for good once I(x; z) on validation data stops rising
after an epoch, as He et al. do. The reported loss and terms are always those of step 2 (or of the joint step),
the plain ones: the inner steps update no metric but ``encoder_steps``, the mean inner steps a batch.

Choices and approximations (against He et al.'s PyTorch code, jxhe/vae-lagging-encoder):

* Batches of the inner steps: the first is the current batch, as theirs; the later ones are fresh training
  batches drawn from ``model.inference_batches`` (an iterator ``zoo.training.run`` sets from a second shuffled
  pipeline of the training split), as their random batches. Without it (a plain ``model.fit``) every inner
  step reuses the current batch with fresh noise: the encoder then fits that one batch, the bound is likely to
  keep improving, and the loop to cost the full ``aggressive_steps`` encoder steps a batch.
* One optimizer: the model's. Keras 3 keeps an optimizer's slots per variable, so ``apply`` on the encoder's
  variables alone leaves the decoder's slots untouched (He et al. use one optimizer per network, which is the
  same for per-variable optimizers such as SGD and Adam). ``optimizer.iterations`` is put back after the inner
  loop, so it still counts batches: the KL schedule (``KLAnnealing``), learning-rate schedules and
  ``step_seed`` see one step a batch. Adam's bias correction in the inner steps reads that count plus the inner
  index (He et al.'s PyTorch Adam counts every update): a difference only in the first few hundred batches.
* Their gradient clipping is over both networks' gradients; a Keras ``global_clipnorm`` clips the encoder's
  alone in the inner steps.
* The loss of the inner steps is the model's trained bound (with the KL weight, free bits and word dropout),
  as theirs is their training loss; the early stop compares batch means (they normalise by words).
* One replica only (``distribution_unsupported``): the inner loop applies the optimizer inside a
  ``tf.while_loop`` and resets its step counter, neither of which has been tried under ``tf.distribute``; nor
  under XLA (``zoo.training.run`` refuses ``jit_compile``: the inner batches come from a tf.data iterator).
"""
import tensorflow as tf

from zoo.models.seeding import step_seed

CHECK_EVERY = 15  # He et al.: the loss over the last 15 inner steps against the 15 before


def split_variables(model):
    """(inference-network variables, the other trainable variables) of ``model``, in ``trainable_variables``
    order; both must be non-empty."""
    inference = {id(v) for v in model.inference_variables()}
    encoder = [v for v in model.trainable_variables if id(v) in inference]
    decoder = [v for v in model.trainable_variables if id(v) not in inference]
    if not encoder or not decoder:
        raise ValueError(f"{type(model).__name__}: aggressive updates need both inference-network and generative "
                         f"variables; inference_variables() gave {len(encoder)} of {len(model.trainable_variables)}")
    return encoder, decoder


def inference_steps(model, x, encoder):
    """The inner loop (step 1 above) on batch x: returns the number of encoder updates made (int32 scalar).
    ``model.optimizer`` must be built on all trainable variables."""
    optimizer = model.optimizer
    start = tf.identity(optimizer.iterations)
    base_seed = step_seed(model)
    batches = getattr(model, "inference_batches", None)

    def batch(i):
        if batches is None:
            return x
        return tf.cond(tf.equal(i, 0), lambda: tf.cast(x, tf.float32), lambda: tf.cast(next(batches), tf.float32))

    def body(i, window_sum, previous, stop):
        with tf.GradientTape() as tape:
            x_i = batch(i)
            loss, _ = model.trained_loss(x_i, model(x_i, training=True),
                                         tf.random.experimental.stateless_fold_in(base_seed, i + 1))
            scaled = optimizer.scale_loss(loss)
        optimizer.apply(tape.gradient(scaled, encoder), encoder)
        window_sum += loss
        check = tf.equal((i + 1) % CHECK_EVERY, 0)
        current = window_sum / CHECK_EVERY
        stop = tf.logical_and(check, tf.logical_not(current < previous))  # not improved (or not finite): stop
        return (i + 1, tf.where(check, 0.0, window_sum), tf.where(check, current, previous), stop)

    steps, *_ = tf.while_loop(lambda i, s, p, stop: tf.logical_and(i < model.aggressive_steps, tf.logical_not(stop)),
                              body, (tf.constant(0), tf.constant(0.0), tf.constant(float("inf")), tf.constant(False)))
    with tf.control_dependencies([steps]):
        optimizer.iterations.assign(start)
    return steps


def aggressive_train_step(model, data):
    """``LatentVariableModel.train_step`` when ``aggressive_steps > 0``: steps 1 and 2 while ``model.aggressive``
    is 1, the joint step otherwise. Returns the logs (``compute_metrics``)."""
    x = data[0] if isinstance(data, (tuple, list)) else data
    optimizer = model.optimizer
    if not model.built:  # a model that builds on its first call (the VAE): variables before they are split
        model(x)
    encoder, decoder = split_variables(model)
    if not optimizer.built:  # every slot, before either branch applies
        optimizer.build(model.trainable_variables)
    on = model.aggressive > 0.5
    steps = tf.cond(on, lambda: inference_steps(model, x, encoder), lambda: tf.constant(0))
    with tf.control_dependencies([steps]):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y_pred=y_pred, training=True)
            scaled = optimizer.scale_loss(loss)
    grads = tape.gradient(scaled, encoder + decoder)

    def update(gradients, variables):
        def apply():
            optimizer.apply(gradients, variables)
            return tf.constant(0)
        return apply

    tf.cond(on, update(grads[len(encoder):], decoder), update(grads, encoder + decoder))
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss, sample_weight=tf.shape(x)[0])
    model.encoder_steps_tracker.update_state(tf.cast(steps, tf.float32))
    return model.compute_metrics(x, None, y_pred)


def inference_layer_variables(model):
    """The default ``inference_variables``: the trainable variables of the layers named ``encoder*`` and
    ``posterior*`` (the zoo's convention: VAE, NVDM, the SBN, the sentence VAE) that no other layer shares."""
    own = [layer for layer in model.layers if layer.name.startswith(("encoder", "posterior"))]
    others = {id(v) for layer in model.layers if layer not in own for v in layer.trainable_variables}
    return [v for layer in own for v in layer.trainable_variables if id(v) not in others]


def distribution_reason(model):
    """Why ``model`` cannot train under a multi-replica strategy, or None."""
    if getattr(model, "aggressive_steps", 0):
        return ("aggressive inference-network updates (aggressive_steps > 0) reset the optimizer's step counter "
                "inside the train step; train on one replica")
    return None

