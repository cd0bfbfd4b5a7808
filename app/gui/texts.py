"""The GUI's own words in English and Korean: a tiny dict-based translation helper.

Persona lines (name, disclosure, greeting) come from the persona file; these are
only the shell's labels. English is complete and the fallback for any key or
language that is missing, so a half-translated string never shows as a key.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "ko")

_EN: Final[dict[str, str]] = {
    "window.title": "dhuman — {name}",
    "disclosure.badge": "AI",
    "disclosure.tooltip": "This notice stays on screen for the whole conversation.",
    "captions.title": "Conversation",
    "captions.empty": "The conversation appears here as captions.",
    "captions.you": "You",
    "captions.stopped": "stopped",
    "captions.hearing": "listening…",
    "input.placeholder": "Type a message and press Enter",
    "input.send": "Send",
    "input.send.tooltip": "Send the message (Enter)",
    "input.stop": "Stop",
    "input.stop.tooltip": "Stop the reply now (Esc)",
    "mode.idle": "Waiting",
    "mode.listening": "Listening",
    "mode.thinking": "Thinking",
    "mode.speaking": "Speaking",
    "stage.accessible": "Avatar of {name}, {mode}",
    "notice.dismiss": "Dismiss",
    "notice.persona_fallback": "Using the built-in persona instead.",
    "role.chat": "Language model",
    "role.asr": "Speech recognition",
    "role.vad": "Voice detection",
    "role.tts": "Speech synthesis",
    "role.sink": "Audio output",
    "role.source": "Microphone",
    "role.persona": "Persona",
    "role.other": "Notice",
    "alert.urgent": "Staff alert: a visitor may need help now. Please come to the kiosk.",
    "alert.high": "Staff alert: a visitor mentioned someone who may be at risk.",
    "alert.info": "A visitor asked for a member of staff.",
    "role.staff": "Staff",
    "privacy.camera": "Camera on",
    "privacy.affect": "Emotion sensing on",
    "privacy.tooltip": "Camera frames stay in this computer's memory and are never saved.",
    "role.camera": "Camera",
    "mic.hands_free": "Hands-free",
    "mic.hands_free.tooltip": "The avatar listens and answers when you pause",
    "mic.push_to_talk": "Push to talk",
    "mic.push_to_talk.tooltip": "Speak only while holding the Hold to talk button",
    "mic.hold": "Hold to talk",
    "mic.hold.tooltip": "Hold while you speak; let go when you are done",
    "mic.mute": "Mute",
    "mic.mute.tooltip": "Turn the microphone off; nothing is heard or kept",
    "mic.unavailable": "No microphone: type your message instead.",
    "startup.title": "Getting {name} ready",
    "startup.role": "Starting: {what}…",
    "startup.download": "Downloading {model}: {done} of {total} MB",
    "startup.download_unknown": "Downloading {model}: {done} MB",
    "startup.note": "The first start fetches the speech models; later starts are quick.",
    "startup.quit": "Quit",
    "startup.quit.tooltip": "Stop and close; a download resumes where it stopped next time",
}

_KO: Final[dict[str, str]] = {
    "window.title": "dhuman — {name}",
    "disclosure.badge": "AI",
    "disclosure.tooltip": "이 안내는 대화하는 동안 항상 화면에 표시됩니다.",
    "captions.title": "대화",
    "captions.empty": "대화 내용이 여기에 자막으로 표시됩니다.",
    "captions.you": "나",
    "captions.stopped": "중단됨",
    "captions.hearing": "듣는 중…",
    "input.placeholder": "메시지를 입력하고 Enter를 누르세요",
    "input.send": "보내기",
    "input.send.tooltip": "메시지 보내기 (Enter)",
    "input.stop": "멈추기",
    "input.stop.tooltip": "지금 대답을 멈춥니다 (Esc)",
    "mode.idle": "대기 중",
    "mode.listening": "듣는 중",
    "mode.thinking": "생각 중",
    "mode.speaking": "말하는 중",
    "stage.accessible": "{name} 아바타, {mode}",
    "notice.dismiss": "닫기",
    "notice.persona_fallback": "대신 기본 페르소나를 사용합니다.",
    "role.chat": "언어 모델",
    "role.asr": "음성 인식",
    "role.vad": "음성 감지",
    "role.tts": "음성 합성",
    "role.sink": "오디오 출력",
    "role.source": "마이크",
    "role.persona": "페르소나",
    "role.other": "알림",
    "alert.urgent": "직원 호출: 방문객이 지금 도움이 필요할 수 있습니다. 키오스크로 와 주세요.",
    "alert.high": "직원 호출: 방문객이 위험할 수 있는 사람을 언급했습니다.",
    "alert.info": "방문객이 직원을 찾습니다.",
    "role.staff": "직원",
    "privacy.camera": "카메라 켜짐",
    "privacy.affect": "감정 인식 켜짐",
    "privacy.tooltip": "카메라 영상은 이 컴퓨터의 메모리에만 있고 저장되지 않습니다.",
    "role.camera": "카메라",
    "mic.hands_free": "자동 듣기",
    "mic.hands_free.tooltip": "말을 멈추면 아바타가 알아듣고 대답합니다",
    "mic.push_to_talk": "눌러서 말하기",
    "mic.push_to_talk.tooltip": "'누르고 말하기' 버튼을 누르고 있는 동안만 듣습니다",
    "mic.hold": "누르고 말하기",
    "mic.hold.tooltip": "말하는 동안 누르고, 다 말하면 손을 떼세요",
    "mic.mute": "마이크 끄기",
    "mic.mute.tooltip": "마이크를 끕니다. 아무것도 듣거나 저장하지 않습니다",
    "mic.unavailable": "마이크가 없습니다. 메시지를 입력해 주세요.",
    "startup.title": "{name} 준비 중",
    "startup.role": "시작하는 중: {what}…",
    "startup.download": "{model} 내려받는 중: {done} / {total} MB",
    "startup.download_unknown": "{model} 내려받는 중: {done} MB",
    "startup.note": "처음 시작할 때 음성 모델을 내려받습니다. 다음부터는 빨리 시작합니다.",
    "startup.quit": "종료",
    "startup.quit.tooltip": "멈추고 닫습니다. 내려받기는 다음에 이어서 합니다",
}

CATALOG: Final[dict[str, dict[str, str]]] = {"en": _EN, "ko": _KO}


class Texts:
    """UI strings for one language: ``texts("mode.listening")``, ``texts("window.title", name=x)``.

    Unknown languages fall back to English.
    """

    def __init__(self, language: str) -> None:
        self.language = language if language in CATALOG else "en"
        self._table = CATALOG[self.language]

    def __call__(self, key: str, **fields: object) -> str:
        template = self._table.get(key) or _EN[key]  # a key missing in English is a bug
        return template.format(**fields) if fields else template

    def role(self, role: str) -> str:
        """A person's name for a session role (``chat`` -> "Language model")."""
        key = f"role.{role}"
        return self(key) if key in _EN else self("role.other")


def texts_for(language: str) -> Texts:
    return Texts(language)
