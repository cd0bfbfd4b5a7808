"""Sizes, colours per avatar mode and the style sheet shared by the window's widgets."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QWidget,
)

from app.core.events import AvatarMode

MIN_WIDTH, MIN_HEIGHT = 800, 600
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1120, 740
MAX_CAPTIONS = 300  # older captions are dropped from the view (the session keeps no more either)

# one colour per avatar mode: bright for the dark stage, and a darker ink for light panels
MODE_COLORS: dict[AvatarMode, str] = {
    AvatarMode.IDLE: "#94A3B8",
    AvatarMode.LISTENING: "#2DD4BF",
    AvatarMode.THINKING: "#FBBF24",
    AvatarMode.SPEAKING: "#38BDF8",
}
MODE_INK: dict[AvatarMode, str] = {
    AvatarMode.IDLE: "#64748B",
    AvatarMode.LISTENING: "#0F766E",
    AvatarMode.THINKING: "#B45309",
    AvatarMode.SPEAKING: "#0369A1",
}

STYLE = """
QMainWindow, #central { background: #F3F5F8; }
QWidget { color: #1F2933; }
#disclosure {
    background: #EEF2FF; border: 1px solid #C7D2FE; border-radius: 10px;
}
#disclosureBadge {
    background: #4F46E5; color: white; border-radius: 6px; padding: 2px 8px;
    font-weight: 700; letter-spacing: 1px;
}
#disclosureText { color: #312E81; font-size: 11.5pt; }
#noticeBar { border-radius: 10px; }
#noticeBar[severity="info"] { background: #EAF4FE; border: 1px solid #9CC8F5; }
#noticeBar[severity="warning"] { background: #FFF8E6; border: 1px solid #F2C25B; }
#noticeBar[severity="error"] { background: #FDECEC; border: 1px solid #F0A3A3; }
#noticeIcon {
    color: white; border-radius: 10px; font-weight: 800;
    min-width: 20px; max-width: 20px; min-height: 20px; max-height: 20px;
}
#noticeBar[severity="info"] #noticeIcon { background: #2B7BD0; }
#noticeBar[severity="warning"] #noticeIcon { background: #D08A0B; }
#noticeBar[severity="error"] #noticeIcon { background: #C53030; }
#noticeText { font-size: 10.5pt; }
#noticeBar[severity="info"] #noticeText { color: #0B4A83; }
#noticeBar[severity="warning"] #noticeText { color: #6B4300; }
#noticeBar[severity="error"] #noticeText { color: #7F1D1D; }
#noticeDismiss {
    border: none; border-radius: 6px; padding: 2px 6px; font-size: 11pt; color: #475569;
    background: transparent;
}
#noticeDismiss:hover { background: rgba(15, 23, 42, 0.08); }
#card { background: white; border: 1px solid #E3E8EF; border-radius: 12px; }
#cardTitle { font-size: 12pt; font-weight: 600; color: #334155; }
#statePill {
    background: #F1F5F9; border: 1px solid #E2E8F0; border-radius: 11px; padding: 2px 10px;
    font-size: 10pt; font-weight: 600;
}
#infoCard { background: #F0FDFA; border: 1px solid #99F6E4; border-radius: 10px; }
#infoCardText { font-size: 12pt; color: #134E4A; }
#privacyPill {
    background: #FEF2F2; border: 1px solid #FECACA; border-radius: 11px; padding: 2px 10px;
    font-size: 10pt; font-weight: 600; color: #991B1B;
}
#captions, #captionsBody { background: white; border: none; }
#captionsEmpty { color: #94A3B8; font-size: 11pt; }
#avatarBubble {
    background: #F8FAFC; border: 1px solid #E2E8F0; border-radius: 14px;
    border-top-left-radius: 4px;
}
#userBubble {
    background: #E6F4F1; border: 1px solid #BFE3DB; border-radius: 14px;
    border-top-right-radius: 4px;
}
#bubbleSpeaker { font-size: 9.5pt; font-weight: 700; color: #0F766E; }
#userBubble #bubbleSpeaker { color: #115E59; }
#bubbleText { font-size: 12.5pt; color: #1F2933; }
#bubbleText[provisional="true"] { color: #64748B; font-style: italic; }
#bubbleTag {
    font-size: 8.5pt; font-weight: 600; color: #9F1239; background: #FFE4E6;
    border-radius: 6px; padding: 0px 6px;
}
#messageInput {
    background: white; border: 1px solid #CBD5E1; border-radius: 10px;
    padding: 9px 12px; font-size: 12.5pt;
}
#messageInput:focus { border: 2px solid #0F766E; padding: 8px 11px; }
QPushButton {
    border-radius: 10px; padding: 9px 20px; font-size: 11.5pt; font-weight: 600;
}
#sendButton { background: #0F766E; color: white; border: 1px solid #0F766E; }
#sendButton:hover { background: #115E59; }
#sendButton:pressed { background: #134E4A; }
#sendButton:disabled { background: #B7D4CF; border-color: #B7D4CF; color: #F8FAFC; }
#stopButton { background: white; color: #BE123C; border: 1px solid #FDA4AF; }
#stopButton:hover { background: #FFF1F2; }
#stopButton:pressed { background: #FFE4E6; }
#stopButton:disabled { color: #CBD5E1; border-color: #E2E8F0; }
#micHandsFree, #micPushToTalk, #micMute {
    background: white; color: #334155; border: 1px solid #CBD5E1; padding: 6px 14px;
    font-size: 10.5pt;
}
#micHandsFree { border-top-right-radius: 0; border-bottom-right-radius: 0; }
#micPushToTalk { border-top-left-radius: 0; border-bottom-left-radius: 0; border-left: none; }
#micHandsFree:checked, #micPushToTalk:checked {
    background: #0F766E; color: white; border-color: #0F766E;
}
#micMute:checked { background: #FFF1F2; color: #BE123C; border-color: #FDA4AF; }
#micHold {
    background: #ECFDF5; color: #065F46; border: 1px solid #6EE7B7; padding: 6px 18px;
    font-size: 10.5pt;
}
#micHold:pressed { background: #0F766E; color: white; border-color: #0F766E; }
#micHandsFree:disabled, #micPushToTalk:disabled, #micMute:disabled, #micHold:disabled {
    background: #F1F5F9; color: #A0AEC0; border-color: #E2E8F0;
}
QSplitter::handle { background: transparent; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 4px 2px 4px 0; }
QScrollBar::handle:vertical { background: #CBD5E1; border-radius: 4px; min-height: 30px; }
QScrollBar::handle:vertical:hover { background: #94A3B8; }
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; }
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical { background: transparent; }
"""


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property used by a selector changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
