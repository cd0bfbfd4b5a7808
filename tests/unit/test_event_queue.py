from app.core import events as ev
from app.core.event_queue import PriorityEventQueue


def test_control_jumps_the_queue_and_data_keeps_order() -> None:
    q = PriorityEventQueue()
    q.put(ev.ReplyChunk(text="a", turn_id=1))
    q.put(ev.ReplyChunk(text="b", turn_id=1))
    q.put(ev.Interrupted(turn_id=1))
    first, second, third = q.pop(), q.pop(), q.pop()
    assert isinstance(first, ev.Interrupted)
    assert [second.text, third.text] == ["a", "b"]  # type: ignore[union-attr]
    assert q.pop() is None


def test_interrupt_drops_only_that_turns_data() -> None:
    q = PriorityEventQueue()
    q.put(ev.ReplyChunk(text="old", turn_id=1))
    q.put(ev.ModeChanged(mode=ev.AvatarMode.SPEAKING, turn_id=1))
    q.put(ev.ReplyChunk(text="new", turn_id=2))
    assert q.drop_data(1) == 1
    kinds = [type(q.pop()) for _ in range(len(q))]
    assert kinds == [ev.ModeChanged, ev.ReplyChunk]


def test_events_are_stamped_with_a_monotonic_clock() -> None:
    a = ev.ReplyChunk(text="x")
    b = ev.ReplyChunk(text="y")
    assert b.ts >= a.ts > 0
    assert ev.Interrupted.priority is ev.Priority.CONTROL
    assert ev.AudioOut.priority is ev.Priority.DATA
