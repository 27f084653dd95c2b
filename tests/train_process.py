"""Runs the VAE recipe at toy size in a process of its own, for the fault-tolerance tests.

    python tests/train_process.py RUN_DIR WEIGHTS.npz [--epochs E] [--kill-at-step N]

Writes the weights at the end of training to WEIGHTS.npz. ``--kill-at-step`` sends the process
SIGKILL after that optimizer step (mid-epoch), as a crash or a pre-empted machine would.
"""
import argparse
import os
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo.training import load_recipe, train  # noqa: E402


class KillAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class SaveFinalWeights(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_end(self, logs=None):
        np.savez(self.path, *self.model.get_weights())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("weights")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--kill-at-step", type=int, default=None)
    args = parser.parse_args()
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.epochs, recipe.batch_size, recipe.steps_per_execution = args.epochs, 20, 1
    callbacks = [SaveFinalWeights(args.weights)]
    if args.kill_at_step:
        callbacks.append(KillAtStep(args.kill_at_step))
    train(recipe, run_dir=args.run_dir, seed=3, deterministic=True, publish_artifact=False, verbose=0,
          callbacks=callbacks)


if __name__ == "__main__":
    main()
