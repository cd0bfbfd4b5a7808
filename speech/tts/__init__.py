"""Speech synthesis engines (the ``Synthesizer`` role)."""
