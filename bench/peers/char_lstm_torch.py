"""PyTorch reference for the char-RNN training step (bench-only peer; never a dependency of the zoo).

The zoo's char-rnn-shakespeare network: embedding 128, 2 x 512 LSTM, V = 65, windows of T = 100 characters,
B = 64 rows, Adam, mean cross-entropy per character, carried state detached between windows (TBPTT).
Prints one JSON line: {"chars_per_second", "steps", "seconds", "torch", "threads"}.

    /work/peers/bin/python bench/peers/char_lstm_torch.py --steps 20
"""
import argparse
import json

import torch

from timing import seconds_of_steps  # bench/peers/timing.py (the script's folder is on sys.path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embedding", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=65)
    args = parser.parse_args()
    torch.manual_seed(0)

    class CharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(args.vocab, args.embedding)
            self.lstm = torch.nn.LSTM(args.embedding, args.hidden, args.layers, batch_first=True)
            self.out = torch.nn.Linear(args.hidden, args.vocab)

        def forward(self, x, state):
            h, state = self.lstm(self.embedding(x), state)
            return self.out(h), state

    model = CharLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = torch.randint(0, args.vocab, (args.batch, (args.steps + args.warmup) * args.window + 1))
    state = None

    def step(i):
        nonlocal state
        x = data[:, i * args.window:(i + 1) * args.window]
        y = data[:, i * args.window + 1:(i + 1) * args.window + 1]
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds = seconds_of_steps(step, args.warmup, args.steps)
    print(json.dumps({"chars_per_second": args.steps * args.batch * args.window / seconds, "steps": args.steps,
                      "seconds": seconds, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
