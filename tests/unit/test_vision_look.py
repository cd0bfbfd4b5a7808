"""``dhuman look``: argument parsing, clear errors for bad sources, the status line."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from app.cli import look_cmd
from app.cli.main import build_parser
from app.config.settings import Settings
from vision.events import AffectUpdated, UserObserved
from vision.perception import PerceptionSnapshot

pytest.importorskip("cv2")


def look(*argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["look", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = look_cmd.run(args, Settings(), out, err)
    return code, out.getvalue(), err.getvalue()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_command_is_registered() -> None:
    args = build_parser().parse_args(["look", "0", "--frames", "5", "--no-affect"])
    assert (args.command, args.source, args.frames, args.no_affect) == ("look", "0", 5, True)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/no/such/clip.mp4", "no such video file: /no/such/clip.mp4"),
        ("57", "cannot open camera device 57"),
        ("", "the camera source is empty"),
    ],
)
def test_bad_sources_fail_clearly(source: str, message: str) -> None:
    code, out, err = look(source)
    assert code == 2
    assert message in err and out == ""
    assert "Traceback" not in err


def test_an_unreachable_stream_fails_clearly() -> None:
    code, _, err = look(f"http://127.0.0.1:{closed_port()}/stream.mjpg")
    assert code == 2 and "cannot open the stream" in err


def test_a_file_that_is_not_a_video_fails_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("hello")
    code, _, err = look(str(junk))
    assert code == 2 and "cannot decode the video file" in err


def test_the_status_line_shows_presence_attention_movements_and_affect() -> None:
    from app.core.types import Affect

    snap = PerceptionSnapshot(frames=42, faces=1, presence="present")
    user = UserObserved(
        user_id=3,
        head_pose=(-4.0, 12.0, 1.0),
        attention=0.8,
        attentive=True,
        blendshapes=(("mouthSmileLeft", 0.9), ("jawOpen", 0.1), ("eyeBlinkLeft", 0.3)),
    )
    affect = AffectUpdated(affect=Affect(valence=0.6, arousal=0.2, label="happy", confidence=0.7))
    line = look_cmd.status_line(1.5, snap, user, affect)
    assert "frame    42" in line and "faces 1" in line and "present" in line
    assert "user #3 looking at the screen (0.80)" in line and "yaw -4 pitch +12" in line
    assert line.index("mouthSmileLeft 0.90") < line.index("eyeBlinkLeft 0.30")
    assert "affect: happy? 70% (valence +0.60, arousal +0.20)" in line
    assert look_cmd.status_line(0.0, PerceptionSnapshot(), None, None).endswith("absent")


def test_changes_are_printed_as_they_come() -> None:
    from vision.events import CameraStatusChanged, MainUserChanged, PresenceChanged

    out = io.StringIO()
    printer = look_cmd._Printer(out)
    for event in (
        CameraStatusChanged(status="live", detail="camera 0"),
        PresenceChanged(change="arrived", present=True, user_id=2),
        UserObserved(user_id=2, attentive=False, attention=0.2),
        MainUserChanged(user_id=3, previous_id=2),
        PresenceChanged(change="left"),
        CameraStatusChanged(status="stopped"),
    ):
        printer.handle(event)
    printer.line(2.0, PerceptionSnapshot(frames=60))
    lines = out.getvalue().splitlines()
    assert lines[:4] == [
        "-- camera live (camera 0)",
        "-- arrived: user #2",
        "-- main user now #3 (was #2)",
        "-- left",
    ]
    assert "user #" not in lines[4]  # nobody since they left
    assert not any("stopped" in line for line in lines)  # the summary line says it
