"""The PyTorch eager reference for the bench: one distillation iteration as the published Python
code runs it, on the shapes of the bench's timing cells, so that the engine's speed is compared side
by side with the same libtorch (Python's torch) on the same machine.

  unroll  MTT's distill.py loop: autograd.grad(create_graph=True) at every student step, the
          normalised parameter loss, one backward through the whole unrolled graph.
  tesla   MCT's distill_compressed.py loop (TESLA's): a forward pass that keeps each step's
          augmented minibatch and parameters, then per step a recompute and the gradient of
          (single_term + square_term) @ grad_i with respect to the minibatch.
Both then take the SGD steps of the pixels (momentum 0.5) and of the learnable lr, as the published
scripts do. The network is the engine's ConvNet (the published ConvNet: conv 3x3, instance norm,
ReLU, average pooling; padding 3 in the first block for one-channel 28x28 images) on one flat
parameter vector, and DSA is the published single-mode DiffAugment (one group per call).

Input: a JSON job on stdin (the bench writes it):
  {"network": {"channels", "height", "width", "numClasses", "netWidth", "depth"},
   "dsa": "color_crop_cutout_flip_scale_rotate" | null, "device": "cpu" | "cuda",
   "cells": [{"gradMethod": "unroll" | "tesla", "ipc", "synSteps", "batchSyn" (optional),
              "iterations", "warmup"}]}
Output: one JSON line per cell with msPerIteration (median), samplesMs, minorFaultsPerIteration,
userSeconds and systemSeconds (CPU time of the timed iterations, all threads), peakRssBytes, the
torch version, its thread count and the network's parameter count (the bench checks it against the
engine's). Threads: one per core the OS offers unless OMP_NUM_THREADS is set, as the
engine does, so that both sides use the same cores.
"""
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


# --- the ConvNet on a flat parameter vector ---------------------------------------------------


def convnet_layout(net):
    """(shape, kind) of every parameter in the engine's order; kind: conv, bias, scale, shift."""
    layout = []
    c, h, w = net["channels"], net["height"], net["width"]
    width = net["netWidth"]
    for d in range(net["depth"]):
        pad = 3 if net["channels"] == 1 and d == 0 else 1
        layout += [((width, c, 3, 3), "conv"), ((width,), "bias"), ((width,), "scale"), ((width,), "shift")]
        h, w = (h + 2 * pad - 2) // 2, (w + 2 * pad - 2) // 2
        c = width
    layout += [((net["numClasses"], c * h * w), "linear"), ((net["numClasses"],), "bias")]
    return layout


def init_params(layout, gen):
    parts, bound = [], 1.0
    for shape, kind in layout:
        n = math.prod(shape)
        if kind in ("conv", "linear"):
            bound = 1 / math.sqrt(n // shape[0])
        if kind == "scale":
            parts.append(torch.ones(n))
        elif kind == "shift":
            parts.append(torch.zeros(n))
        else:
            parts.append(torch.empty(n).uniform_(-bound, bound, generator=gen))
    return torch.cat(parts)


def forward(net, layout, x, flat):
    views, off = [], 0
    for shape, _ in layout:
        n = math.prod(shape)
        views.append(flat[off : off + n].view(shape))
        off += n
    for d in range(net["depth"]):
        w, b, scale, shift = views[4 * d : 4 * d + 4]
        pad = 3 if net["channels"] == 1 and d == 0 else 1
        x = F.conv2d(x, w, b, padding=pad)
        x = F.group_norm(x, net["netWidth"], scale, shift, 1e-5)
        x = F.avg_pool2d(F.relu(x), 2)
    return F.linear(x.flatten(1), views[-2], views[-1])


# --- DSA, single mode: one augmentation group per call ------------------------------------------


def dsa(x, strategy):
    groups = strategy.split("_")
    group = groups[int(torch.randint(0, len(groups), (1,)))]
    n, _, h, w = x.shape
    dev, dt = x.device, x.dtype
    if group == "color":
        x = x + (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) - 0.5)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) * 2) + mean
        mean = x.mean(dim=[1, 2, 3], keepdim=True)
        return (x - mean) * (torch.rand(n, 1, 1, 1, device=dev, dtype=dt) + 0.5) + mean
    if group == "crop":
        sx, sy = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
        tx = torch.randint(-sx, sx + 1, (n, 1, 1), device=dev)
        ty = torch.randint(-sy, sy + 1, (n, 1, 1), device=dev)
        b, gx, gy = torch.meshgrid(
            torch.arange(n, device=dev), torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij"
        )
        gx = torch.clamp(gx + tx + 1, 0, h + 1)
        gy = torch.clamp(gy + ty + 1, 0, w + 1)
        padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
        return padded[b, gx, gy].permute(0, 3, 1, 2)
    if group == "cutout":
        ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=dev)
        oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=dev)
        b, gx, gy = torch.meshgrid(
            torch.arange(n, device=dev), torch.arange(ch, device=dev), torch.arange(cw, device=dev), indexing="ij"
        )
        gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
        gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
        mask = torch.ones(n, h, w, device=dev, dtype=dt)
        mask[b, gx, gy] = 0
        return x * mask.unsqueeze(1)
    if group == "flip":
        return torch.where(torch.rand(n, 1, 1, 1, device=dev) < 0.5, x.flip(3), x)
    if group == "scale":
        r = 1.2
        sx = torch.rand(n, device=dev, dtype=dt) * (r - 1 / r) + 1 / r
        sy = torch.rand(n, device=dev, dtype=dt) * (r - 1 / r) + 1 / r
        z = torch.zeros_like(sx)
        theta = torch.stack([torch.stack([sx, z, z], 1), torch.stack([z, sy, z], 1)], 1)
    else:  # rotate
        a = (torch.rand(n, device=dev, dtype=dt) - 0.5) * 2 * 15 / 180 * math.pi
        z = torch.zeros_like(a)
        theta = torch.stack([torch.stack([a.cos(), a.sin(), z], 1), torch.stack([-a.sin(), a.cos(), z], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)


# --- one iteration of each published loop ---------------------------------------------------------


def chunks_of(n, batch):
    return list(torch.split(torch.randperm(n), batch))


def unroll(ctx, images, labels, syn_lr, start, target):
    """MTT distill.py: the whole unrolled student in one graph."""
    net, layout, strategy, steps, batch = ctx
    params = [start.clone().requires_grad_(True)]
    chunks = []
    for _ in range(steps):
        if not chunks:
            chunks = chunks_of(len(images), batch)
        idx = chunks.pop()
        x = images[idx]
        if strategy:
            x = dsa(x, strategy)
        ce = F.cross_entropy(forward(net, layout, x, params[-1]), labels[idx])
        grad = torch.autograd.grad(ce, params[-1], create_graph=True)[0]
        params.append(params[-1] - syn_lr * grad)
    num = start.numel()
    param_loss = F.mse_loss(params[-1], target, reduction="sum") / num
    param_dist = F.mse_loss(start, target, reduction="sum") / num
    loss = param_loss / param_dist
    loss.backward()
    return loss.detach()


def tesla(ctx, images, labels, syn_lr, start, target):
    """MCT distill_compressed.py (TESLA's distill.py): constant memory, the bracket held fixed."""
    net, layout, strategy, steps, batch = ctx
    params = [start.clone().requires_grad_(True)]
    x_list, original_x_list, y_list, chunks_used, chunks = [], [], [], [], []
    gradient_sum = torch.zeros_like(start)
    for _ in range(steps):
        if not chunks:
            chunks = chunks_of(len(images), batch)
        idx = chunks.pop()
        chunks_used.append(idx)
        x = images[idx]
        original_x_list.append(x)
        if strategy:
            x = dsa(x, strategy)
        x_list.append(x.clone())
        y_list.append(labels[idx].clone())
        ce = F.cross_entropy(forward(net, layout, x, params[-1]), labels[idx])
        grad = torch.autograd.grad(ce, params[-1], create_graph=True, retain_graph=True)[0]
        detached = grad.detach().clone()
        params.append(params[-1] - syn_lr.item() * detached)
        gradient_sum += detached
        del grad
    param_dist = F.mse_loss(start, target, reduction="sum")
    image_grad = torch.zeros_like(images)
    for i in range(steps):
        w_i = params[i]
        ce_i = F.cross_entropy(forward(net, layout, x_list[i], w_i), y_list[i])
        grad_i = torch.autograd.grad(ce_i, w_i, create_graph=True, retain_graph=True)[0]
        single_term = syn_lr.item() * (target - start)
        square_term = (syn_lr.item() ** 2) * gradient_sum
        gradients = torch.autograd.grad((single_term + square_term) @ grad_i / param_dist, original_x_list[i])
        with torch.no_grad():
            image_grad[chunks_used[i]] += gradients[0]
    images.grad = image_grad
    loss = start - syn_lr * gradient_sum - target
    loss = loss.dot(loss) / param_dist
    syn_lr.grad = torch.autograd.grad(loss, syn_lr)[0]
    return loss.detach()


METHODS = {"unroll": unroll, "tesla": tesla}


def time_cell(job, cell):
    net, device = job["network"], torch.device(job["device"])
    layout = convnet_layout(net)
    gen = torch.Generator().manual_seed(0)
    start = init_params(layout, gen).to(device)
    target = (start + 0.01 * torch.randn(start.shape, generator=gen).to(device)).detach()
    n = cell["ipc"] * net["numClasses"]
    shape = (n, net["channels"], net["height"], net["width"])
    images = (2 * torch.randn(shape, generator=gen)).to(device).requires_grad_(True)
    labels = torch.arange(net["numClasses"], device=device).repeat_interleave(cell["ipc"])
    syn_lr = torch.tensor(0.01, device=device).requires_grad_(True)
    opt_img = torch.optim.SGD([images], lr=100, momentum=0.5)
    opt_lr = torch.optim.SGD([syn_lr], lr=1e-5, momentum=0.5)
    ctx = (net, layout, job.get("dsa"), cell["synSteps"], cell.get("batchSyn") or n)
    step = METHODS[cell["gradMethod"]]
    torch.manual_seed(0)
    samples = []
    for i in range(cell["warmup"] + cell["iterations"]):
        if i == cell["warmup"]:
            before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        opt_img.zero_grad()
        opt_lr.zero_grad()
        step(ctx, images, labels, syn_lr, start, target).item()
        opt_img.step()
        opt_lr.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= cell["warmup"]:
            samples.append((time.perf_counter() - t0) * 1000)
    after = resource.getrusage(resource.RUSAGE_SELF)
    count = cell["iterations"]
    return {
        "gradMethod": cell["gradMethod"],
        "ipc": cell["ipc"],
        "synSteps": cell["synSteps"],
        "batchSyn": cell.get("batchSyn"),
        "msPerIteration": statistics.median(samples),
        "samplesMs": samples,
        "minorFaultsPerIteration": (after.ru_minflt - before.ru_minflt) / count,
        "userSeconds": after.ru_utime - before.ru_utime,
        "systemSeconds": after.ru_stime - before.ru_stime,
        "peakRssBytes": after.ru_maxrss * 1024,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "numParams": start.numel(),
    }


def main():
    job = json.load(sys.stdin)
    if "OMP_NUM_THREADS" not in os.environ and "MKL_NUM_THREADS" not in os.environ:
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    for cell in job["cells"]:
        if cell["gradMethod"] not in METHODS:
            print(json.dumps({**cell, "error": "no published loop for this gradient method"}), flush=True)
            continue
        print(json.dumps(time_cell(job, cell)), flush=True)


if __name__ == "__main__":
    main()
