"""Presence hysteresis, face identities across frames and the sticky main-user choice."""

from __future__ import annotations

from vision.presence import (
    Candidate,
    FaceIdentities,
    MainUserSelector,
    PresenceState,
    PresenceTracker,
    iou,
)

FRAME = 1 / 30


def run(tracker: PresenceTracker, pattern: str, start: float = 0.0) -> list[tuple[float, str]]:
    """Feed one frame per character (``F`` face, ``.`` none); return the changes."""
    changes = []
    for k, mark in enumerate(pattern):
        ts = start + k * FRAME
        change = tracker.update(mark == "F", ts)
        if change is not None:
            changes.append((round(ts, 3), change.kind))
    return changes


def test_arrival_needs_a_steady_face_and_leaving_a_steady_absence() -> None:
    tracker = PresenceTracker(arrive_s=0.3, leave_s=1.0)
    changes = run(tracker, "F" * 20 + "." * 40)
    assert [kind for _, kind in changes] == ["arrived", "left"]
    arrived, left = changes[0][0], changes[1][0]
    assert abs(arrived - 0.3) < 2 * FRAME
    assert abs(left - (20 * FRAME + 1.0)) < 2 * FRAME
    assert tracker.state is PresenceState.ABSENT


def test_a_flicker_neither_arrives_nor_leaves() -> None:
    tracker = PresenceTracker(arrive_s=0.3, leave_s=1.0)
    assert run(tracker, "FFF.....FF......") == []  # a false detection now and then
    assert tracker.state is PresenceState.ABSENT
    changes = run(tracker, "F" * 15 + ".." + "F" * 10 + "." * 20 + "F" * 5, start=10)
    assert [kind for _, kind in changes] == ["arrived"]  # gaps shorter than leave_s
    assert tracker.present


def test_states_pass_through_arriving_and_leaving() -> None:
    tracker = PresenceTracker(arrive_s=0.2, leave_s=0.2)
    states = []
    for k, seen in enumerate([True] * 8 + [False] * 8):
        tracker.update(seen, k * 0.05)
        states.append(tracker.state)
    assert states[0] is PresenceState.ARRIVING
    assert PresenceState.PRESENT in states
    assert PresenceState.LEAVING in states
    assert states[-1] is PresenceState.ABSENT


def test_iou_and_identities_follow_a_moving_face() -> None:
    assert iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    ids = FaceIdentities(forget_s=0.5)
    a, b = (0.1, 0.1, 0.3, 0.4), (0.6, 0.1, 0.8, 0.4)
    first = ids.assign([a, b], 0.0)
    assert len(set(first)) == 2
    moved = [(x0 + 0.02, y0, x1 + 0.02, y1) for x0, y0, x1, y1 in (b, a)]  # listed swapped
    assert ids.assign(moved, 0.03) == [first[1], first[0]]
    assert ids.assign([a], 2.0) != [first[0]]  # gone too long: a new person


def test_the_nearest_most_frontal_face_is_the_main_user() -> None:
    selector = MainUserSelector(stickiness=1.3, switch_after_s=0.5)
    near_side_on = Candidate(1, size=0.40, frontal=0.2)
    far_frontal = Candidate(2, size=0.30, frontal=1.0)
    assert selector.select([near_side_on, far_frontal], 0.0) == 2
    selector.reset()
    assert selector.select([Candidate(1, 0.4, 1.0), Candidate(2, 0.2, 1.0)], 0.0) == 1


def test_the_main_user_is_sticky_between_similar_people() -> None:
    selector = MainUserSelector(stickiness=1.3, switch_after_s=0.5)
    ts = 0.0
    assert selector.select([Candidate(1, 0.30, 1.0), Candidate(2, 0.28, 1.0)], ts) == 1
    # the other person is a little larger now and then: no flip
    for k in range(60):
        ts += FRAME
        size = 0.33 if k % 2 else 0.27
        assert selector.select([Candidate(1, 0.30, 1.0), Candidate(2, size, 1.0)], ts) == 1
    # clearly nearer, but only briefly: still no flip
    for _ in range(5):
        ts += FRAME
        assert selector.select([Candidate(1, 0.30, 1.0), Candidate(2, 0.50, 1.0)], ts) == 1
    # clearly nearer for longer than switch_after_s: the choice changes, once
    picks = []
    for _ in range(30):
        ts += FRAME
        picks.append(selector.select([Candidate(1, 0.30, 1.0), Candidate(2, 0.50, 1.0)], ts))
    assert picks[-1] == 2
    assert picks.index(2) * FRAME >= 0.5 - 5 * FRAME - 1e-9
    assert all(p == 2 for p in picks[picks.index(2) :])


def test_when_the_main_user_goes_the_other_takes_over_at_once() -> None:
    selector = MainUserSelector()
    assert selector.select([Candidate(1, 0.4, 1.0), Candidate(2, 0.2, 1.0)], 0.0) == 1
    assert selector.select([Candidate(2, 0.2, 1.0)], 0.03) == 2
    assert selector.select([], 0.06) is None
