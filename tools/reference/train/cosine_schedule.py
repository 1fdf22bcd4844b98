#!/usr/bin/python3
"""Reference values of the SA2VP learning-rate schedule for WarmupCosineScheduleTest.

    /usr/bin/python3 tools/reference/train/cosine_schedule.py [--out FILE]

Default output: sa2vp-layers/src/test/resources/fixtures/train/cosine_schedule.json (relative to the repo root).

`cosine_scheduler` below is the authors' schedule, as
described in docs/AUTHORS-CODE.md §1.7: a linear warm-up `np.linspace(start, base, warmup_iters)`
followed by `final + 0.5 (base - final) (1 + cos(pi i / T))` for i = 0..T-1, one value per iteration. The
engine indexes it with the global iteration, so the first step uses lr 0.

Only a few values per case are stored (the ends of the warm-up, the join, samples of the cosine, the last
value), each as Python's repr (shortest round-trip form of the double).
"""
import argparse
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "train",
                           "cosine_schedule.json")


def cosine_scheduler(base_value, final_value, epochs, niter_per_ep, warmup_epochs=0,
                     start_warmup_value=0, warmup_steps=-1):
    warmup_schedule = np.array([])
    warmup_iters = warmup_epochs * niter_per_ep
    if warmup_steps > 0:
        warmup_iters = warmup_steps
    if warmup_epochs > 0:
        warmup_schedule = np.linspace(start_warmup_value, base_value, warmup_iters)
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    schedule = np.array(
        [final_value + 0.5 * (base_value - final_value) * (1 + math.cos(math.pi * i / (len(iters)))) for i in iters])
    schedule = np.concatenate((warmup_schedule, schedule))
    assert len(schedule) == epochs * niter_per_ep
    return schedule


# name, lr, min_lr, epochs, warmup epochs, iterations per epoch
CASES = [
    ("paper_vtab1k_batch64", 1e-3, 1e-7, 100, 10, 15),     # Train_nature.sh on VTAB-1k: 1000 // 64 = 15
    ("paper_vtab1k_batch40", 1e-3, 1e-7, 100, 10, 25),     # Train_special/struct.sh: 1000 // 40 = 25
    ("argparse_defaults", 5e-4, 1e-6, 30, 5, 7),
    ("one_warmup_iteration", 2e-3, 0.0, 3, 1, 1),
    ("no_warmup", 1e-2, 1e-4, 4, 0, 3),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    cases = []
    for name, lr, min_lr, epochs, warmup, ipe in CASES:
        values = cosine_scheduler(lr, min_lr, epochs, ipe, warmup_epochs=warmup)
        n, w = len(values), warmup * ipe
        picks = sorted({i for i in [0, 1, 2, w - 2, w - 1, w, w + 1, w + 2, (w + n) // 2, n // 3, n - 2, n - 1]
                        if 0 <= i < n})
        cases.append({"name": name, "lr": lr, "minLr": min_lr, "epochs": epochs, "warmupEpochs": warmup,
                      "iterationsPerEpoch": ipe, "total": n,
                      "values": {str(i): float(values[i]) for i in picks}})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"generator": "tools/reference/train/cosine_schedule.py", "numpy": np.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
