"""Voice activity detection engines (the ``VoiceActivity`` role).

Import the engine module itself (``speech.vad.silero``); this package stays light.
"""
