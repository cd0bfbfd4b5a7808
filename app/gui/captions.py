"""The conversation captions: the user's lines and the avatar's replies.

With an audio clock (:meth:`CaptionsView.set_audio_clock`) the avatar's line shows its
words as they are heard, like subtitles, paced by :class:`app.core.caption_pacer.CaptionPacer`;
without one (text-only mode) the reply shows as the model writes it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import (
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core import events as ev
from app.core.caption_pacer import CaptionPacer
from app.gui.style import MAX_CAPTIONS, repolish
from app.gui.texts import Texts

Speaker = Literal["user", "avatar"]


def _words(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ avatar stage


@dataclass
class Caption:
    """One line of the transcript as shown: who, what, and how it ended."""

    speaker: Speaker
    turn_id: int
    text: str = ""
    heard: str = ""
    interrupted: bool = False
    provisional: bool = False
    extra: str = ""  # spoken lines that were not streamed (a scripted or fallback reply)
    # while the reply is being spoken: the part heard so far (None: show all of it)
    paced: str | None = None

    @property
    def shown(self) -> str:
        if self.paced is not None:
            return self.paced
        return " ".join(part for part in (self.text.strip(), self.extra.strip()) if part)


class _WrapLabel(QLabel):
    """A word-wrapped label as wide as its text needs, up to a limit, then wrapping.

    QLabel's own size hint for wrapped text guesses a width from the character count,
    which wraps short lines needlessly; captions read better as wide as they can be.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plain = ""
        self._limit = 400
        self.setWordWrap(True)

    def set_limit(self, width: int) -> None:
        if width != self._limit:
            self._limit = width
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        lines = (self.plain or self.text() or " ").splitlines() or [" "]
        natural = max(metrics.horizontalAdvance(line) for line in lines) + 4
        width = max(20, min(natural, self._limit))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        return QSize(min(hint.width(), 120), hint.height())


class CaptionBubble(QFrame):
    def __init__(self, caption: Caption, name: str, texts: Texts) -> None:
        super().__init__()
        self.caption = caption
        self._texts = texts
        self.setObjectName("userBubble" if caption.speaker == "user" else "avatarBubble")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(3)
        header = QHBoxLayout()
        header.setSpacing(8)
        speaker = QLabel(name)
        speaker.setObjectName("bubbleSpeaker")
        self._tag = QLabel(texts("captions.stopped"))
        self._tag.setObjectName("bubbleTag")
        self._tag.hide()
        header.addWidget(speaker)
        header.addWidget(self._tag)
        header.addStretch(1)
        self.body = _WrapLabel()
        self.body.setObjectName("bubbleText")
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addLayout(header)
        layout.addWidget(self.body)
        self.refresh()

    def set_max_width(self, width: int) -> None:
        self.setMaximumWidth(width)
        margins = self.contentsMargins().left() + self.contentsMargins().right()
        inner = self.layout()
        if inner is not None:
            spacing = inner.contentsMargins()
            margins += spacing.left() + spacing.right()
        self.body.set_limit(max(60, width - margins))

    def refresh(self) -> None:
        c = self.caption
        shown = c.shown
        provisional = c.provisional or not shown
        placeholder = self._texts("captions.hearing") if c.speaker == "user" else "…"
        self.body.plain = shown or placeholder
        if c.interrupted and shown:
            heard = len(c.heard.split())
            words = shown.split()
            said, unsaid = " ".join(words[:heard]), " ".join(words[heard:])
            self.body.setTextFormat(Qt.TextFormat.RichText)
            rest = f' <span style="color:#94A3B8">{html.escape(unsaid)}</span>' if unsaid else ""
            self.body.setText(html.escape(said) + rest)
        else:
            self.body.setTextFormat(Qt.TextFormat.PlainText)
            self.body.setText(shown or placeholder)
        self._tag.setVisible(c.interrupted)
        if self.body.property("provisional") != provisional:
            self.body.setProperty("provisional", provisional)
            repolish(self.body)
        self.body.updateGeometry()


class CaptionsView(QScrollArea):
    """The scrollable transcript: the visitor's lines right, the avatar's left, streaming in.

    Follows the newest line unless the reader has scrolled up to read something older.
    """

    def __init__(self, persona_name: str, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captions")
        self._name = persona_name
        self._texts = texts
        self._bubbles: list[CaptionBubble] = []
        self._turns: dict[int, dict[Speaker, CaptionBubble]] = {}
        self._live_user: CaptionBubble | None = None
        self._follow = True
        self._clock: Callable[[], float | None] | None = None
        self._pacer = CaptionPacer()
        self._pacing = QTimer(self)
        self._pacing.setInterval(40)  # 25 updates a second: smooth enough for reading
        self._pacing.timeout.connect(self._pace)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("captionsBody")
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(14, 8, 14, 14)
        self._column.setSpacing(10)
        self._empty = QLabel(texts("captions.empty"))
        self._empty.setObjectName("captionsEmpty")
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._column.addWidget(self._empty)
        self._column.addStretch(1)
        self.setWidget(body)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scrolled)

    # ------------------------------------------------------------ what tests read
    def entries(self) -> list[Caption]:
        return [bubble.caption for bubble in self._bubbles]

    def texts(self, speaker: Speaker | None = None) -> list[str]:
        return [c.shown for c in self.entries() if speaker is None or c.speaker == speaker]

    # ------------------------------------------------------------- the audio clock
    def set_audio_clock(self, clock: Callable[[], float | None]) -> None:
        """Pace the avatar's lines by ``clock``: seconds of the turn's speech heard so far
        (None while nothing plays). Called on the UI thread; it must be cheap."""
        self._clock = clock

    def audio_out(self, event: ev.AudioOut) -> None:
        """Speech handed to the speaker: its caption piece waits for the clock."""
        if self._clock is None:
            return
        self._pacer.handle(event)
        if self._active(event.turn_id) is not None and not self._pacing.isActive():
            self._pacing.start()
        self._pace()

    def _pace(self) -> None:
        turn = self._pacer_turn()
        bubble = self._active(turn) if turn is not None else None
        if bubble is None or self._clock is None:
            self._pacing.stop()
            return
        shown = self._pacer.visible(bubble.caption.turn_id, self._clock())
        if shown != bubble.caption.paced:
            bubble.caption.paced = shown
            bubble.refresh()

    def _pacer_turn(self) -> int | None:
        for turn, parts in self._turns.items():
            if "avatar" in parts and self._pacer.has_audio(turn):
                return turn
        return None

    # ------------------------------------------------------------- session events
    def user_partial(self, text: str) -> None:
        bubble = self._live_user
        if bubble is None:
            bubble = self._live_user = self._append(Caption("user", 0, provisional=True))
        bubble.caption.text = text
        bubble.refresh()

    def user_final(self, turn_id: int, text: str) -> None:
        if not text.strip():
            self._drop_live_user()
            return
        bubble = self._user_bubble(turn_id)
        bubble.caption.text, bubble.caption.provisional = text.strip(), False
        bubble.refresh()

    def turn_started(self, turn_id: int, user_text: str) -> None:
        if user_text.strip():
            self.user_final(turn_id, user_text)
        self._pacer.handle(ev.TurnStarted(turn_id=turn_id))
        bubble = self._bubble(turn_id, "avatar")
        if self._clock is not None:
            bubble.caption.paced = ""  # spoken replies show as they are heard

    def reply_chunk(self, turn_id: int, text: str) -> None:
        bubble = self._active(turn_id)
        if bubble is not None:
            bubble.caption.text += text
            bubble.refresh()

    def reply_sentence(self, turn_id: int, text: str) -> None:
        bubble = self._active(turn_id)
        if bubble is None:
            return
        # a sentence of the streamed text is already shown; one that was never
        # streamed (a scripted line, the fallback after a failed model) is added
        if _words(text) and _words(text) not in _words(bubble.caption.text):
            bubble.caption.extra = f"{bubble.caption.extra} {text.strip()}".strip()
            bubble.refresh()

    def interrupted(self, turn_id: int, heard_text: str) -> None:
        bubble = self._turns.get(turn_id, {}).get("avatar")
        if bubble is not None:
            bubble.caption.heard = heard_text
            bubble.caption.interrupted = True
            bubble.caption.paced = None
            bubble.refresh()

    def turn_ended(self, turn_id: int, reply_text: str, interrupted: bool) -> None:
        parts = self._turns.get(turn_id)
        bubble = parts.get("avatar") if parts else None
        if bubble is None:
            return
        caption = bubble.caption
        caption.paced = None  # the turn is over: the whole reply (or what was heard) stays
        if interrupted:
            caption.interrupted = True
            caption.heard = caption.heard or reply_text
        elif reply_text.strip() and not caption.extra:
            caption.text = reply_text.strip()  # the reply as the session recorded it
        caption.provisional = False
        if not caption.shown and not interrupted:
            self._remove(bubble)
        else:
            bubble.refresh()
        if parts is not None:
            parts.pop("avatar", None)  # late data for this turn is ignored

    # ------------------------------------------------------------------ plumbing
    def _active(self, turn_id: int) -> CaptionBubble | None:
        bubble = self._turns.get(turn_id, {}).get("avatar")
        if bubble is None or bubble.caption.interrupted:
            return None
        return bubble

    def _user_bubble(self, turn_id: int) -> CaptionBubble:
        parts = self._turns.setdefault(turn_id, {})
        if "user" not in parts and self._live_user is not None:
            bubble, self._live_user = self._live_user, None
            bubble.caption.turn_id = turn_id
            parts["user"] = bubble
        return self._bubble(turn_id, "user")

    def _bubble(self, turn_id: int, speaker: Speaker) -> CaptionBubble:
        parts = self._turns.setdefault(turn_id, {})
        if speaker not in parts:
            parts[speaker] = self._append(Caption(speaker, turn_id))
        return parts[speaker]

    def _drop_live_user(self) -> None:
        if self._live_user is not None:
            self._remove(self._live_user)
            self._live_user = None

    def _append(self, caption: Caption) -> CaptionBubble:
        name = self._texts("captions.you") if caption.speaker == "user" else self._name
        bubble = CaptionBubble(caption, name, self._texts)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if caption.speaker == "user":
            row.addStretch(1)
            row.addWidget(bubble)
        else:
            row.addWidget(bubble)
            row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self._column.insertWidget(self._column.count() - 1, holder)
        self._bubbles.append(bubble)
        self._fit(bubble)
        self._empty.hide()
        while len(self._bubbles) > MAX_CAPTIONS:
            self._remove(self._bubbles[0])
        return bubble

    def _remove(self, bubble: CaptionBubble) -> None:
        if bubble in self._bubbles:
            self._bubbles.remove(bubble)
        for parts in self._turns.values():
            for speaker, known in list(parts.items()):
                if known is bubble:
                    del parts[speaker]
        self._turns = {turn: parts for turn, parts in self._turns.items() if parts}
        holder = bubble.parentWidget()
        if holder is not None:
            self._column.removeWidget(holder)
            holder.deleteLater()
        self._empty.setVisible(not self._bubbles)

    def _fit(self, bubble: CaptionBubble) -> None:
        bubble.set_max_width(max(160, int(self.viewport().width() * 0.86) - 24))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for bubble in self._bubbles:
            self._fit(bubble)

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 8


# ------------------------------------------------------------------ the window
