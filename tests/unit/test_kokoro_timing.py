"""Kokoro's phoneme timings: the model copy that outputs durations, and its alignment.

The copy is made from a small graph with the same duration chain as Kokoro's export
(``Div(·, speed)`` -> ``Round`` -> ``Clip`` -> ``Cast``), run by ONNX Runtime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as rt
from onnx import TensorProto, helper

from speech.tts.chunks import PAUSE
from speech.tts.kokoro_tts import DURATION_OUTPUT, alignment, duration_tensor, timed_model


def _duration_graph(path: Path, with_chain: bool = True) -> Path:
    """logits [1, T] and speed [1] -> audio [1, N]; durations = clip(round(logits / speed))."""
    nodes = [helper.make_node("Div", ["logits", "speed"], ["scaled"])]
    if with_chain:
        nodes += [
            helper.make_node("Round", ["scaled"], ["rounded"]),
            helper.make_node("Clip", ["rounded", "one"], ["clipped"]),
            helper.make_node("Cast", ["clipped"], ["frames"], to=TensorProto.INT64),
            helper.make_node("Cast", ["frames"], ["frames_f"], to=TensorProto.FLOAT),
            helper.make_node("ReduceSum", ["frames_f"], ["audio"], keepdims=1),
        ]
    else:
        nodes.append(helper.make_node("ReduceSum", ["scaled"], ["audio"], keepdims=1))
    graph = helper.make_graph(
        nodes,
        "kokoro-like",
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, None]),
            helper.make_tensor_value_info("speed", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, None)],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _run(path: Path, logits: list[float], speed: float) -> dict[str, np.ndarray]:
    session = rt.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {
        "logits": np.array([logits], dtype=np.float32),
        "speed": np.array([speed], dtype=np.float32),
    }
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True))


def test_the_copy_outputs_the_rounded_clipped_durations(tmp_path: Path) -> None:
    model = _duration_graph(tmp_path / "kokoro.onnx")
    timed = timed_model(model)
    assert timed == tmp_path / "kokoro.timed.onnx"
    out = _run(timed, [0.2, 2.6, 4.0, 7.4], speed=2.0)
    # 0.1 rounds to 0 and is clipped to one frame: every token lasts at least a frame
    assert out[DURATION_OUTPUT].tolist() == [[1, 1, 2, 4]]
    assert out["audio"].ravel().tolist() == [8.0]  # the model's own output is unchanged
    assert not list(tmp_path.glob("*.part"))


def test_the_copy_is_made_once_and_again_when_the_model_is_newer(tmp_path: Path) -> None:
    model = _duration_graph(tmp_path / "kokoro.onnx")
    timed = timed_model(model)
    assert timed is not None
    made = timed.stat().st_mtime_ns
    assert timed_model(model) == timed and timed.stat().st_mtime_ns == made
    later = made + 5_000_000_000
    os.utime(model, ns=(later, later))  # a model pulled again
    assert timed_model(model) == timed
    assert timed.stat().st_mtime_ns != made


def test_a_graph_without_the_chain_gives_no_copy(tmp_path: Path) -> None:
    model = _duration_graph(tmp_path / "kokoro.onnx", with_chain=False)
    assert duration_tensor(onnx.load(str(model)).graph) is None
    assert timed_model(model) is None
    assert not (tmp_path / "kokoro.timed.onnx").exists()


def test_a_copy_that_cannot_be_written_gives_none_and_no_crash(tmp_path: Path) -> None:
    model = _duration_graph(tmp_path / "kokoro.onnx")
    blocker = tmp_path / "kokoro.timed.onnx"
    blocker.mkdir()  # where the copy must go: replacing a folder fails, even for root
    os.utime(blocker, ns=(0, 0))
    assert timed_model(model) is None
    assert not list(tmp_path.glob(".*.part"))


@dataclass
class _Timing:
    phoneme: str
    start: float
    end: float


def test_alignment_covers_the_audio_with_pauses_in_the_gaps() -> None:
    rate = 1000
    spoken = [_Timing("h", 0.1, 0.2), _Timing("i", 0.2, 0.35), _Timing(".", 0.5, 0.5)]
    phonemes, counts = alignment(spoken, rate, total=600)
    assert phonemes == [PAUSE, "h", "i", PAUSE, ".", PAUSE]
    assert counts == [100, 100, 150, 150, 0, 100]
    assert sum(counts) == 600


def test_alignment_never_runs_past_the_audio_or_backwards() -> None:
    # trimming can leave a timing past the end, or one starting before the last ended
    spoken = [_Timing("a", 0.0, 0.3), _Timing("b", 0.25, 0.5), _Timing("c", 0.6, 0.9)]
    phonemes, counts = alignment(spoken, 1000, total=700)
    assert phonemes == ["a", "b", PAUSE, "c"]
    assert counts == [300, 200, 100, 100]
