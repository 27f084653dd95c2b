"""PyTorch reference for the VAE / IWAE training step (bench-only peer; never a dependency of the zoo).

The network of the shipped recipes ``vae_binarized_mnist`` and ``iwae_binarized_mnist``: a 784-300-300
gated MLP encoder (Tomczak & Welling 2018's GatedDense: (W x + b) * sigmoid(V x + c)), a diagonal Gaussian
q(z|x) over 40 latents with softplus scales, the mirrored decoder to 784 Bernoulli logits. Loss: the negative
ELBO with the closed-form KL (k = 1), or the IWAE bound L_k with k samples (Burda et al. 2016). Adam, batch
100, random binary images (speed does not depend on the pixels). ``--plain`` gives the 784-500-500-50 tanh MLP
of Burda et al. instead.
Prints one JSON line: {"examples_per_second", "steps", "seconds", "torch", "threads", ...}.

    /work/peers/bin/python bench/peers/vae_torch.py --k 1 --steps 300
"""
import argparse
import json
import math

import torch
import torch.nn.functional as F

from timing import seconds_of_steps  # bench/peers/timing.py (the script's folder is on sys.path)


class GatedDense(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.value, self.gate = torch.nn.Linear(n_in, n_out), torch.nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.value(x) * torch.sigmoid(self.gate(x))


def mlp(sizes, gated):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [GatedDense(n_in, n_out)] if gated else [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers)


class VAE(torch.nn.Module):
    def __init__(self, pixels, hidden, latent, gated):
        super().__init__()
        self.latent = latent
        self.encoder = mlp([pixels] + hidden, gated)
        self.posterior = torch.nn.Linear(hidden[-1], 2 * latent)
        self.decoder = mlp([latent] + hidden[::-1], gated)
        self.logits = torch.nn.Linear(hidden[0], pixels)

    def loss(self, x, k):
        loc, raw = self.posterior(self.encoder(x)).chunk(2, dim=-1)
        scale = F.softplus(raw) + 1e-5
        eps = torch.randn((k,) + loc.shape)
        z = loc + scale * eps  # (k, B, D)
        logits = self.logits(self.decoder(z.reshape(-1, self.latent))).reshape(k, x.shape[0], -1)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        if k == 1:  # the ELBO with the closed-form KL
            kl = (0.5 * (loc ** 2 + scale ** 2 - 1.0) - torch.log(scale)).sum(-1)
            return -(log_px[0] - kl).mean()
        log_prior = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
        log_q = (-0.5 * (eps ** 2 + math.log(2 * math.pi)) - torch.log(scale)).sum(-1)
        log_w = log_px + log_prior - log_q
        return -(torch.logsumexp(log_w, 0) - math.log(k)).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=1, help="importance samples (1: the VAE's ELBO)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--plain", action="store_true", help="784-500-500-50 tanh (Burda et al.) instead")
    args = parser.parse_args()
    torch.manual_seed(0)
    hidden, latent, gated = ([500, 500], 50, False) if args.plain else ([300, 300], 40, True)
    model = VAE(784, hidden, latent, gated)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    images = (torch.rand(50 * args.batch, 784) < 0.13).float()

    def step(i):
        x = images[(i % 50) * args.batch:(i % 50 + 1) * args.batch]
        loss = model.loss(x, args.k)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds = seconds_of_steps(step, args.warmup, args.steps)
    print(json.dumps({"examples_per_second": args.steps * args.batch / seconds, "steps": args.steps,
                      "seconds": seconds, "k": args.k, "hidden": hidden, "latent": latent, "gated": gated,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
