"""Learn the templates of :mod:`speech.audio_visemes` from Piper's phoneme-aligned speech.

``python -m speech.audio_visemes_train [--text FILE...] [--sentences 120]`` speaks English
sentences with the Piper voice (by default from the licence texts every Debian system has
in /usr/share/common-licenses: varied plain English, unrelated to the bench sentences),
labels each 10 ms frame with the viseme Piper's alignments put there (the training truth),
computes the features with the filterbank warped by 0.85-1.3 (so other voices fit), and
keeps a few k-means centroids per viseme. Writes ``speech/viseme_templates.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from app.config.settings import Settings
from speech import audio_visemes as av
from speech.visemes import VISEMES

WARPS = (0.85, 1.0, 1.15, 1.3)
PER_CLASS = 8
LICENSES = Path("/usr/share/common-licenses")
DEFAULT_TEXTS = tuple(LICENSES / name for name in ("GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"))


def sentences(paths: list[Path], count: int) -> list[str]:
    text = " ".join(" ".join(p.read_text("utf-8", "replace").split()) for p in paths)
    found = [s.strip() for s in re.split(r"(?<=[.;:])\s+", text)]
    good = [s for s in found if 6 <= len(s.split()) <= 22 and re.fullmatch(r"[A-Za-z ,.;:'-]+", s)]
    step = max(1, len(good) // count)
    return good[::step][:count]


def kmeans(points: np.ndarray, k: int, seed: int = 0, rounds: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = points[rng.choice(len(points), size=k, replace=False)]
    for _ in range(rounds):
        nearest = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            members = points[nearest == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    return centres


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, nargs="*", default=list(DEFAULT_TEXTS))
    parser.add_argument("--sentences", type=int, default=120)
    parser.add_argument("--out", type=Path, default=av.TEMPLATES)
    args = parser.parse_args(argv)
    from speech.tts.piper_tts import build

    synthesizer = build(Settings())
    feats: list[np.ndarray] = []
    labels: list[str] = []
    chosen = sentences(args.text, args.sentences)
    for number, sentence in enumerate(chosen):
        for chunk in synthesizer.synthesize(sentence):
            count = av.frame_count(len(chunk.samples), chunk.sample_rate)
            truth = av.labels_at_frames(chunk.visemes, count)
            for warp in WARPS:
                frame_feats, _ = av.features(chunk.samples, chunk.sample_rate, warp)
                feats.append(frame_feats[:count])
                labels += truth[: len(frame_feats)]
        sys.stderr.write(f"\r{number + 1}/{len(chosen)} sentences")
    sys.stderr.write("\n")
    x = np.vstack(feats)
    y = np.array(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    classes: dict[str, list[list[float]]] = {}
    for name in VISEMES:
        members = z[y == name]
        if len(members) < 20:
            continue
        k = min(PER_CLASS, len(members) // 40 or 1)
        classes[name] = np.round(kmeans(members, k), 4).tolist()
        sys.stderr.write(f"{name}: {len(members)} frames, {k} templates\n")
    data = {
        "version": 1,
        "about": "speech.audio_visemes templates, made by speech.audio_visemes_train",
        "sentences": len(chosen),
        "warps": list(WARPS),
        "mean": np.round(mean, 5).tolist(),
        "scale": np.round(scale, 5).tolist(),
        "classes": classes,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")), "utf-8")
    sys.stderr.write(f"wrote {args.out} ({args.out.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
