"""Conversation memory: window, rolling summary, wipe."""

from __future__ import annotations

from dialog.memory import ConversationMemory, extractive


def test_the_window_keeps_recent_turns_and_summarises_older_ones() -> None:
    memory = ConversationMemory(window_turns=2)
    assert memory.add("Where is the pharmacy?", "Outside, across the road. It opens at 9.") == []
    memory.add("And parking?", "Basement 2 and 3.")
    evicted = memory.add("Thanks", "You're welcome.")
    assert [e.user for e in evicted] == ["Where is the pharmacy?"]
    assert [m.content for m in memory.messages()] == [
        "And parking?",
        "Basement 2 and 3.",
        "Thanks",
        "You're welcome.",
    ]
    assert "Where is the pharmacy?" in memory.summary
    assert "Outside, across the road." in memory.summary
    assert "opens at 9" not in memory.summary  # only the first sentence of an answer


def test_summary_is_capped_keeping_the_latest() -> None:
    memory = ConversationMemory(window_turns=1, max_summary_chars=120)
    for i in range(20):
        memory.add(f"question number {i}", f"answer number {i}.")
    assert len(memory.summary) <= 121
    assert "question number 18" in memory.summary and "question number 2 " not in memory.summary


def test_a_model_summary_replaces_the_extractive_one_unless_the_visit_was_wiped() -> None:
    memory = ConversationMemory(window_turns=1)
    memory.add("a", "b")
    memory.add("c", "d")
    generation = memory.generation
    assert memory.set_summary("The visitor asked about a.", generation)
    assert memory.summary == "The visitor asked about a."
    memory.clear()
    assert memory.messages() == [] and memory.summary == ""
    assert not memory.set_summary("late summary of the old visitor", generation)
    assert memory.summary == ""


def test_extractive_summary_in_korean() -> None:
    memory = ConversationMemory(window_turns=1)
    memory.add("약국이 어디예요?", "병원 밖 길 건너편에 있어요. 9시에 열어요.")
    memory.add("고마워요", "천만에요.")
    assert "약국이 어디예요?" in memory.summary and "길 건너편에 있어요." in memory.summary
    assert extractive([]) == ""
