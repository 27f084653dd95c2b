"""KL-weight schedules (beta) and the callback that applies them through ``model.fit``.

A schedule is a plain callable ``step -> beta`` with a config, so it serialises in recipes
and cards. ``KLAnnealing`` writes it into the model's non-trainable ``kl_weight`` variable
before every training batch, so the compiled train step reads the current value without
retracing. Used by the VAE (warm-up, Sønderby et al. 2016), the sentence VAE (Bowman et al.
2016's sigmoid schedule) and cyclical annealing (Fu et al. 2019).
"""
import math

import keras


class ConstantSchedule:
    """beta(step) = value."""

    def __init__(self, value=1.0):
        self.value = float(value)

    def __call__(self, step):
        return self.value

    def get_config(self):
        return {"kind": "constant", "value": self.value}


class LinearSchedule:
    """beta rises linearly from ``start`` to ``end`` over ``warmup_steps``, then stays at ``end``."""

    def __init__(self, warmup_steps, start=0.0, end=1.0):
        if warmup_steps <= 0:
            raise ValueError(f"warmup_steps must be positive, got {warmup_steps}")
        self.warmup_steps, self.start, self.end = int(warmup_steps), float(start), float(end)

    def __call__(self, step):
        t = min(max(step, 0) / self.warmup_steps, 1.0)
        return self.start + t * (self.end - self.start)

    def get_config(self):
        return {"kind": "linear", "warmup_steps": self.warmup_steps, "start": self.start, "end": self.end}


class SigmoidSchedule:
    """beta(step) = 1 / (1 + exp(-rate * (step - midpoint))): Bowman et al. (2016)'s logistic annealing."""

    def __init__(self, midpoint, rate=0.0025):
        self.midpoint, self.rate = float(midpoint), float(rate)

    def __call__(self, step):
        u = -self.rate * (step - self.midpoint)
        return 1.0 / (1.0 + math.exp(u)) if u < 700 else 0.0

    def get_config(self):
        return {"kind": "sigmoid", "midpoint": self.midpoint, "rate": self.rate}


class CyclicalSchedule:
    """Fu et al. (2019): ``cycles`` repetitions over ``total_steps``; in each, beta rises linearly
    from 0 to 1 during the first ``ratio`` of the cycle, then stays at 1."""

    def __init__(self, total_steps, cycles=4, ratio=0.5):
        self.total_steps, self.cycles, self.ratio = int(total_steps), int(cycles), float(ratio)

    def __call__(self, step):
        period = self.total_steps / self.cycles
        phase = (step % period) / period
        return min(phase / self.ratio, 1.0)

    def get_config(self):
        return {"kind": "cyclical", "total_steps": self.total_steps, "cycles": self.cycles, "ratio": self.ratio}


SCHEDULES = {"constant": ConstantSchedule, "linear": LinearSchedule, "sigmoid": SigmoidSchedule,
             "cyclical": CyclicalSchedule}


def schedule_from_config(config):
    """{"kind": "linear", "warmup_steps": 1000} -> LinearSchedule(1000); None -> ConstantSchedule(1)."""
    if config is None:
        return ConstantSchedule(1.0)
    config = dict(config)
    kind = config.pop("kind", None)
    if kind not in SCHEDULES:
        raise ValueError(f"unknown KL schedule kind {kind!r}; known: {sorted(SCHEDULES)}")
    return SCHEDULES[kind](**config)


class KLAnnealing(keras.callbacks.Callback):
    """Sets ``model.kl_weight`` to ``schedule(global_step)`` before each training batch.

    The global step is read from the optimizer's iteration counter, so a resumed run
    (BackupAndRestore) continues the schedule where it stopped.
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.model.kl_weight.assign(self.schedule(step))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = float(self.model.kl_weight.numpy())
