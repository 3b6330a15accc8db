"""One SGD training step of a ReLU/He net with softmax cross-entropy in numpy float64, written
the way the lecture's code does it: the reference point of `npm run bench`.

    python3 bench/numpy_step.py STEPS [SIZES] [BATCH] [DECAY]

SIZES is comma-separated (default 784,100,100,100,100,10: the 5-layer net), BATCH defaults to
128, DECAY (L2 strength lambda of 0.5*lambda*sum(W^2)) to 0. lr 0.01. Prints one JSON line:
{"msPerStep": ...}."""
import json
import sys
import time

import numpy as np

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
sizes = [int(s) for s in sys.argv[2].split(',')] if len(sys.argv) > 2 else [784, 100, 100, 100, 100, 10]
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 128
decay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
rng = np.random.default_rng(0)
W = [rng.standard_normal((a, b)) * np.sqrt(2.0 / a) for a, b in zip(sizes[:-1], sizes[1:])]
B = [np.zeros(b) for b in sizes[1:]]
x_train = rng.random((60000, sizes[0]))
t_train = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 60000)]


def step(x, t):
    acts = [x]
    h = x
    for i in range(len(W) - 1):
        h = np.maximum(h @ W[i] + B[i], 0)
        acts.append(h)
    z = h @ W[-1] + B[-1]
    z = z - z.max(axis=1, keepdims=True)
    y = np.exp(z)
    y /= y.sum(axis=1, keepdims=True)
    loss = -np.sum(t * np.log(y + 1e-7)) / x.shape[0]
    if decay:
        loss += 0.5 * decay * sum(np.sum(w ** 2) for w in W)
    d = (y - t) / x.shape[0]
    for i in range(len(W) - 1, -1, -1):
        dW = acts[i].T @ d
        if decay:
            dW += decay * W[i]
        dB = d.sum(axis=0)
        if i > 0:
            d = (d @ W[i].T) * (acts[i] > 0)
        W[i] -= 0.01 * dW
        B[i] -= 0.01 * dB
    return loss


for _ in range(20):
    idx = rng.choice(60000, batch)
    step(x_train[idx], t_train[idx])
start = time.perf_counter()
for _ in range(steps):
    idx = rng.choice(60000, batch)
    step(x_train[idx], t_train[idx])
elapsed = time.perf_counter() - start
print(json.dumps({"msPerStep": elapsed * 1000 / steps, "steps": steps, "numpy": np.__version__}))
