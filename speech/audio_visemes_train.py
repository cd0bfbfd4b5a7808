"""Train the classifier of :mod:`speech.audio_visemes` on phoneme-aligned speech.

``python -m speech.audio_visemes_train [--voices piper,kokoro:jf_nezumi,...] [--text FILE...]
[--sentences 50]`` speaks English sentences with each voice (by default from the licence
texts every Debian system has in /usr/share/common-licenses: varied plain English,
unrelated to the bench sentences), labels each 10 ms frame with the viseme the voice's own
alignments put there (the training truth: Piper's alignments, Kokoro's predicted
durations), computes the features with the filterbank warped by 0.85-1.3 (so other voices
fit), and fits a one-hidden-layer network (cross-entropy, Adam, numpy only). Writes
``speech/viseme_classifier.json``.

Only voices that report timings can teach; each gets its own sentences, taken in turn
from the texts, so no voice dominates and no sentence repeats. The default voices leave
out ``jf_alpha`` and espeak-ng, so the bench (bench/viseme_accuracy.py) scores the
estimator on two voices it never heard.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from speech import audio_visemes as av
from speech.visemes import VISEMES

WARPS = (0.85, 1.0, 1.15, 1.3)
HIDDEN = 64  # 128 fitted the training voices better and an unheard one worse (38 vs 41 %)
EPOCHS = 8
LICENSES = Path("/usr/share/common-licenses")
DEFAULT_TEXTS = tuple(
    LICENSES / name
    for name in (
        "GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "GPL-2", "LGPL-2.1", "Artistic",
        "MPL-1.1", "CC0-1.0",
    )
)  # fmt: skip
DEFAULT_VOICES = "piper,kokoro:jf_gongitsune,kokoro:jf_nezumi,kokoro:jf_tebukuro,kokoro:jm_kumo"


def sentences(paths: list[Path], count: int) -> list[str]:
    text = " ".join(" ".join(p.read_text("utf-8", "replace").split()) for p in paths if p.exists())
    found = [s.strip() for s in re.split(r"(?<=[.;:])\s+", text)]
    good = [s for s in found if 6 <= len(s.split()) <= 22 and re.fullmatch(r"[A-Za-z ,.;:'-]+", s)]
    good = list(dict.fromkeys(good))  # licence texts repeat one another
    step = max(1, len(good) // count)
    return good[::step][:count]


def fit(
    x: np.ndarray, y: np.ndarray, hidden: int = HIDDEN, epochs: int = EPOCHS, seed: int = 0
) -> dict[str, Any]:
    """A one-hidden-layer network by minibatch Adam on the cross-entropy (numpy only)."""
    labels = [v for v in VISEMES if np.any(y == v)]
    index = {name: i for i, name in enumerate(labels)}
    target = np.array([index[name] for name in y])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = ((x - mean) / scale).astype(np.float32)
    rng = np.random.default_rng(seed)
    width, classes = z.shape[1], len(labels)
    params = [
        (rng.standard_normal((width, hidden)) * np.sqrt(2 / width)).astype(np.float32),
        np.zeros(hidden, np.float32),
        (rng.standard_normal((hidden, classes)) * np.sqrt(1 / hidden)).astype(np.float32),
        np.zeros(classes, np.float32),
    ]
    first = [np.zeros_like(w) for w in params]
    second = [np.zeros_like(w) for w in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(z))
        correct = 0
        for start in range(0, len(z), 512):
            batch = order[start : start + 512]
            xb, tb = z[batch], target[batch]
            pre = xb @ params[0] + params[1]
            act = np.maximum(pre, 0)
            out = act @ params[2] + params[3]
            out -= out.max(axis=1, keepdims=True)
            prob = np.exp(out)
            prob /= prob.sum(axis=1, keepdims=True)
            correct += int(np.sum(prob.argmax(axis=1) == tb))
            grad_out = prob
            grad_out[np.arange(len(tb)), tb] -= 1
            grad_out /= len(tb)
            grad_act = grad_out @ params[2].T
            grad_act[pre <= 0] = 0
            grads = [
                xb.T @ grad_act + 1e-5 * params[0],
                grad_act.sum(axis=0),
                act.T @ grad_out + 1e-5 * params[2],
                grad_out.sum(axis=0),
            ]
            step += 1
            for i, grad in enumerate(grads):
                first[i] = 0.9 * first[i] + 0.1 * grad
                second[i] = 0.999 * second[i] + 0.001 * grad * grad
                corrected = first[i] / (1 - 0.9**step)
                spread = np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8
                params[i] -= (2e-3 * corrected / spread).astype(np.float32)
        sys.stderr.write(f"epoch {epoch + 1}/{epochs}: {correct / len(z):.3f} of frames right\n")
    return {
        "labels": labels,
        "mean": np.round(mean, 5).tolist(),
        "scale": np.round(scale, 5).tolist(),
        "hidden_weights": np.round(params[0], 5).tolist(),
        "hidden_bias": np.round(params[1], 5).tolist(),
        "output_weights": np.round(params[2], 5).tolist(),
        "output_bias": np.round(params[3], 5).tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, nargs="*", default=list(DEFAULT_TEXTS))
    parser.add_argument("--sentences", type=int, default=50, help="per voice")
    parser.add_argument("--voices", default=DEFAULT_VOICES, help="piper, kokoro:<voicepack>")
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument("--out", type=Path, default=av.CLASSIFIER)
    parser.add_argument("--dump", type=Path, help="also save the frames (features, labels)")
    parser.add_argument("--frames", type=Path, help="train on frames saved by --dump instead")
    args = parser.parse_args(argv)
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if args.frames:
        # the classifier file names the voices and sentences the frames were made from
        saved = np.load(args.frames)
        x, y = saved["x"], saved["y"]
        voices, count = [str(v) for v in saved["voices"]], int(saved["sentences"])
    else:
        x, y, count = _frames(voices, args.text, args.sentences)
        if args.dump:
            np.savez_compressed(args.dump, x=x, y=y, voices=voices, sentences=count)
    network = fit(x, y, args.hidden)
    data = {
        "version": 2,
        "about": "speech.audio_visemes classifier, made by speech.audio_visemes_train",
        "voices": voices,
        "sentences": count,
        "warps": list(WARPS),
        **network,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")), "utf-8")
    sys.stderr.write(f"wrote {args.out} ({args.out.stat().st_size} bytes)\n")
    return 0


def _frames(voices: list[str], texts: list[Path], per_voice: int) -> tuple[Any, Any, int]:
    """Features of every frame (at every warp) and the viseme the voice's timing puts there."""
    feats: list[np.ndarray] = []
    labels: list[str] = []
    pool = sentences(texts, per_voice * len(voices))
    for index, voice in enumerate(voices):
        synthesizer = _voice(voice)
        chosen = pool[index :: len(voices)]
        for number, sentence in enumerate(chosen):
            for chunk in synthesizer.synthesize(sentence):
                count = av.frame_count(len(chunk.samples), chunk.sample_rate)
                truth = av.labels_at_frames(chunk.visemes, count)
                for warp in WARPS:
                    frame_feats, _ = av.features(chunk.samples, chunk.sample_rate, warp)
                    feats.append(frame_feats[:count])
                    labels += truth[: len(frame_feats)]
            sys.stderr.write(f"\r{voice}: {number + 1}/{len(chosen)} sentences")
        sys.stderr.write("\n")
    return np.vstack(feats), np.array(labels), len(pool)


def _voice(name: str) -> Any:
    """A synthesizer that reports phoneme timings: ``piper`` or ``kokoro:<voicepack>``."""
    settings = Settings()
    if name == "piper":
        from speech.tts.piper_tts import build as build_piper

        return build_piper(settings)
    if name.startswith("kokoro:"):
        from speech.tts.kokoro_tts import build as build_kokoro

        tts = settings.tts.model_copy(update={"voice": name.removeprefix("kokoro:")})
        synthesizer = build_kokoro(settings.model_copy(update={"tts": tts}))
        if not synthesizer.timed:
            raise SystemExit("Kokoro reports no timings here (see the log): it cannot teach")
        return synthesizer
    raise SystemExit(f"unknown voice {name!r}: piper or kokoro:<voicepack>")


if __name__ == "__main__":
    raise SystemExit(main())
