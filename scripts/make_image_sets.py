#!/usr/bin/env python3
"""Writes the image sets of the image-recall experiment: four families of different size,
ink density and texture, each in a development split (seed 1, for choosing parameters)
and a test split (seed 2, for reporting), 50 images per set, as 8-bit PGM files.

    python3 scripts/make_image_sets.py [--out tests/images/sets]

  blobs8      8 x 8    two or three Gaussian blobs (sigma 0.8-1.4 px), ~30 % ink, graded
  bars16     16 x 16   two line segments at random angles, ~15 % ink, binary
  dots32     32 x 32   40 dots of random grey levels, ~4 % ink, sparse
  gratings64 64 x 64   a sinusoidal grating (random angle, period, phase) in a Gaussian
                       window, ~20 % ink, a texture

Pure Python (no dependencies), deterministic: the same seed gives the same bytes.
"""
import argparse
import math
import os
import random

N_IMAGES = 50
SPLITS = {"dev": 1, "test": 2}


def blobs8(rng):
    w = h = 8
    img = [[0.0] * w for _ in range(h)]
    for _ in range(rng.choice([2, 3])):
        cx, cy = rng.uniform(0.5, 6.5), rng.uniform(0.5, 6.5)
        s = rng.uniform(0.8, 1.4)
        for y in range(h):
            for x in range(w):
                img[y][x] += math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
    return [[v if v > 0.25 else 0.0 for v in row] for row in img]


def bars16(rng):
    w = h = 16
    img = [[0.0] * w for _ in range(h)]
    for _ in range(2):
        a = rng.uniform(0, math.pi)
        cx, cy = rng.uniform(4, 12), rng.uniform(4, 12)
        half = rng.uniform(4, 7)
        dx, dy = math.cos(a), math.sin(a)
        for y in range(h):
            for x in range(w):
                px, py = x - cx, y - cy
                along = px * dx + py * dy
                across = -px * dy + py * dx
                if abs(along) <= half and abs(across) <= 0.75:
                    img[y][x] = 1.0
    return img


def dots32(rng):
    w = h = 32
    img = [[0.0] * w for _ in range(h)]
    for _ in range(40):
        img[rng.randrange(h)][rng.randrange(w)] = rng.uniform(0.3, 1.0)
    return img


def gratings64(rng):
    w = h = 64
    a = rng.uniform(0, math.pi)
    period = rng.uniform(6, 16)
    phase = rng.uniform(0, 2 * math.pi)
    cx, cy = rng.uniform(20, 44), rng.uniform(20, 44)
    s = rng.uniform(9, 14)
    img = []
    for y in range(h):
        row = []
        for x in range(w):
            g = math.sin(2 * math.pi * ((x * math.cos(a) + y * math.sin(a)) / period) + phase)
            env = math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
            v = g * env
            row.append(v if v > 0.2 else 0.0)
        img.append(row)
    return img


FAMILIES = {"blobs8": blobs8, "bars16": bars16, "dots32": dots32, "gratings64": gratings64}


def write_pgm(path, img):
    h, w = len(img), len(img[0])
    peak = max(max(r) for r in img) or 1.0
    data = bytes(min(255, round(255 * v / peak)) for row in img for v in row)
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h) + data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="tests/images/sets")
    args = ap.parse_args()
    for split, seed in SPLITS.items():
        for name, make in FAMILIES.items():
            rng = random.Random(f"{name}-{seed}")
            folder = os.path.join(args.out, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(N_IMAGES):
                write_pgm(os.path.join(folder, f"{name}_{i:02d}.pgm"), make(rng))
            print(folder)


if __name__ == "__main__":
    main()
