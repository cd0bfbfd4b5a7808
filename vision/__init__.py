"""Seeing: camera frames, MediaPipe face tracking, presence/attention and opt-in affect.

Nothing here imports Qt, and the engine libraries (OpenCV, MediaPipe, LiteRT) are imported
only inside the functions that need them, so the core starts without them. Frames stay in
memory: nothing in this package writes an image to disk. See docs/vision.md.
"""
