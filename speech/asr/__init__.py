"""Speech recognition engines (the ``Transcriber`` role).

Import the engine module itself (``speech.asr.faster_whisper_asr``): this package stays
light so that choosing the fake transcriber never loads CTranslate2.
"""
