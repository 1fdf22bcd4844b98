"""What the PyTorch step benchmarks share (tools/bench/torch_sa2vp_step.py, torch_sa2vp_swin_step.py): the authors'
AdamW over the trainable tensors, the timing protocol and the one JSON line `sa2vp bench --compare-pytorch` reads."""
import json
import statistics
import time

import torch


def peak_rss_mb():
    """VmHWM of this process from /proc/self/status, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("VmHWM not found in /proc/self/status")


def require_fast_blas(minimum_gflops=20.0):
    """Prints the GFLOP/s of a 512^3 float32 GEMM and stops when it is below `minimum_gflops`: Debian's torch calls
    whatever libblas.so.3 the system's alternatives give, and the reference BLAS (package libblas3, about 5 GFLOP/s
    here against 100-300 with OpenBLAS) would make any comparison with it meaningless."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(5):
        torch.mm(a, b)
    gflops = 5 * 2 * 512 ** 3 / (time.perf_counter() - t0) / 1e9
    print("PyTorch GEMM: %.0f GFLOP/s (512^3 float32)" % gflops)
    if gflops < minimum_gflops:
        raise SystemExit("PyTorch's GEMM runs at %.1f GFLOP/s, below %.0f: libblas.so.3 is not an optimised BLAS "
                         "(install Debian's libopenblas0-pthread)" % (gflops, minimum_gflops))


def authors_adamw(trainable):
    """torch.optim.AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8) with weight decay 1e-4 on the ndim > 1 non-bias
    tensors of `trainable` ([(name, parameter)]) and 0 on the rest."""
    decay = [p for n, p in trainable if p.ndim > 1 and not n.endswith(".bias")]
    no_decay = [p for n, p in trainable if not (p.ndim > 1 and not n.endswith(".bias"))]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def time_steps(loss_of, optimizer, steps, batch):
    """One untimed warm-up step, then the median of `steps` timed steps (zero_grad, forward + loss by `loss_of()`,
    backward, optimizer step); prints each and, LAST, the JSON line with step_s, images_per_s and peak_rss_mb."""
    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - t0, loss.item()

    dt, loss = step()
    print("warm-up step: %.3f s, loss %.4f" % (dt, loss))
    times = []
    for i in range(steps):
        dt, loss = step()
        times.append(dt)
        print("step %d: %.3f s, loss %.4f" % (i + 1, dt, loss))
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "batch": batch, "step_s": round(med, 4),
                      "images_per_s": round(batch / med, 4), "peak_rss_mb": round(peak_rss_mb(), 1)},
                     separators=(",", ":")))
