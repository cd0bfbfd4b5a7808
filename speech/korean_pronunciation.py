"""Korean text respelled as it is pronounced (표준 발음법), syllable for syllable.

espeak-ng's Korean voice reads Hangul nearly letter by letter: it links a final consonant
to a following vowel, but it does not nasalise (있습니다 comes out [it-s-ɯpnida], not
[it̚s͈ɯmnida]), tense, aspirate or lateralise. Those rules change the sound of almost every
formal sentence (every ``-습니다``), so the voice is handed the pronunciation instead,
written in Hangul: 있습니다 -> 읻씀니다, 약국은 -> 약꾸근, 좋다 -> 조타, 신라 -> 실라.

The rules applied, inside each word (a run of Hangul syllables), each between a syllable's
final consonant and the next syllable's initial:

- ㅎ with a plain stop is one aspirated stop (12항: 좋다 -> 조타, 축하 -> 추카); final ㅎ
  before ㄴ is ㄴ (놓는 -> 논는), before ㅅ a tense ㅆ (닿소 -> 다쏘), before a vowel silent;
- liaison (13-15항): a final before a vowel-initial syllable becomes its initial (옷이 ->
  오시), the second part of a double final moves (읽어 -> 일거, 없어 -> 업써), and ㄷ ㅌ
  before 이 become ㅈ ㅊ (17항: 같이 -> 가치);
- otherwise the final takes one of the seven sounds a final can have (9-11항: 부엌 ->
  부억, 꽃 -> 꼳, 값 -> 갑);
- nasalisation (18-19항): a stop final before ㄴ ㅁ is nasal (국민 -> 궁민, 있는 -> 인는), and
  ㄹ after a nasal or a stop is ㄴ (심리 -> 심니, 국립 -> 궁닙);
- lateralisation (20항): ㄴ next to ㄹ is ㄹ (신라 -> 실라, 칼날 -> 칼랄);
- tensing (23항): a plain consonant after a stop final is tense (학교 -> 학꾜).

Word-dependent exceptions (의견란 [의견난], verb-stem tensing after ㄴ ㅁ as in 신고 [신꼬])
are left out: they need a dictionary. Every character keeps its place (one syllable for
one syllable, everything else untouched), so positions in the respelled text are
positions in the original.
"""

from __future__ import annotations

from speech.korean_visemes import decompose, is_hangul_syllable

_BASE, _PER_INITIAL, _PER_MEDIAL = 0xAC00, 21 * 28, 28

# initials (choseong) and finals (jongseong) by index
G, GG, N, D, DD, R, M, B, BB, S, SS, IEUNG, J, JJ, CH, K, T, P, H = range(19)
(
    _,
    F_G, F_GG, F_GS, F_N, F_NJ, F_NH, F_D, F_L, F_LG, F_LM, F_LB, F_LS, F_LT, F_LP, F_LH,
    F_M, F_B, F_BS, F_S, F_SS, F_NG, F_J, F_CH, F_K, F_T, F_P, F_H,
) = range(28)  # fmt: skip
_I = 20  # the medial ㅣ

# a final before a vowel: (what stays final, the initial it gives the next syllable;
# None: it is silent)
_LIAISON: dict[int, tuple[int, int | None]] = {
    F_G: (0, G), F_GG: (0, GG), F_GS: (F_G, SS), F_N: (0, N), F_NJ: (F_N, J),
    F_NH: (0, N), F_D: (0, D), F_L: (0, R), F_LG: (F_L, G), F_LM: (F_L, M),
    F_LB: (F_L, B), F_LS: (F_L, SS), F_LT: (F_L, T), F_LP: (F_L, P), F_LH: (0, R),
    F_M: (0, M), F_B: (0, B), F_BS: (F_B, SS), F_S: (0, S), F_SS: (0, SS), F_J: (0, J),
    F_CH: (0, CH), F_K: (0, K), F_T: (0, T), F_P: (0, P), F_H: (0, None),
}  # fmt: skip

# the seven sounds a final can have (ㄱ ㄴ ㄷ ㄹ ㅁ ㅂ ㅇ)
_NEUTRAL = {
    F_GG: F_G, F_GS: F_G, F_K: F_G, F_LG: F_G, F_NJ: F_N, F_NH: F_N, F_S: F_D, F_SS: F_D,
    F_J: F_D, F_CH: F_D, F_T: F_D, F_H: F_D, F_LM: F_M, F_LB: F_L, F_LS: F_L, F_LT: F_L,
    F_LH: F_L, F_P: F_B, F_LP: F_B, F_BS: F_B,
}  # fmt: skip

# finals holding ㅎ, and what is left of them without it
_WITH_H = {F_H: 0, F_NH: F_N, F_LH: F_L}
# a final holding a stop that joins a following ㅎ: (what stays, the aspirated initial)
_STOP_THEN_H = {
    F_G: (0, K), F_GG: (0, K), F_LG: (F_L, K), F_D: (0, T), F_S: (0, T), F_SS: (0, T),
    F_J: (0, CH), F_CH: (0, CH), F_T: (0, T), F_NJ: (F_N, CH), F_B: (0, P), F_LB: (F_L, P),
}  # fmt: skip
_ASPIRATED = {G: K, D: T, J: CH}
_TENSE = {G: GG, D: DD, B: BB, S: SS, J: JJ}
_NASAL = {F_G: F_NG, F_D: F_N, F_B: F_M}
_STOPS = frozenset(_NASAL)


def pronounce(text: str) -> str:
    """``text`` with each Hangul word respelled as it is pronounced (same length)."""
    out = list(text)
    start = 0
    while start < len(out):
        if not is_hangul_syllable(out[start]):
            start += 1
            continue
        end = start
        while end < len(out) and is_hangul_syllable(out[end]):
            end += 1
        out[start:end] = _word(out[start:end])
        start = end
    return "".join(out)


def _word(syllables: list[str]) -> list[str]:
    jamo = [list(decompose(s)) for s in syllables]
    for index, syllable in enumerate(jamo):
        following = jamo[index + 1] if index + 1 < len(jamo) else None
        if following is None:
            syllable[2] = _NEUTRAL.get(syllable[2], syllable[2])
        else:
            _join(syllable, following)
    return [chr(_BASE + i * _PER_INITIAL + m * _PER_MEDIAL + f) for i, m, f in jamo]


def _join(syllable: list[int], following: list[int]) -> None:
    """Apply the rules at one syllable boundary: the final of ``syllable`` and the
    initial of ``following`` change in place."""
    final, initial = syllable[2], following[0]
    if final == 0:
        return
    if final in _WITH_H and initial != IEUNG:
        rest = _WITH_H[final]
        if initial in _ASPIRATED:  # 좋다 -> 조타, 많고 -> 만코
            syllable[2], following[0] = rest, _ASPIRATED[initial]
            return
        if initial == S:  # 닿소 -> 다쏘
            syllable[2], following[0] = rest, SS
            return
        if initial == N and final == F_H:  # 놓는 -> 논는
            syllable[2] = F_N
            return
        final = syllable[2] = rest or F_D  # a lone ㅎ before anything else: [t]
    if initial == H and final in _STOP_THEN_H:  # 축하 -> 추카, 앉히다 -> 안치다
        syllable[2], following[0] = _STOP_THEN_H[final]
        return
    if initial == IEUNG and final != F_NG:
        stays, moves = _LIAISON[final]
        if moves in (D, T) and following[1] == _I:  # 굳이 -> 구지, 같이 -> 가치
            moves = J if moves == D else CH
        syllable[2] = stays
        following[0] = moves if moves is not None else IEUNG
        return
    final = syllable[2] = _NEUTRAL.get(final, final)
    if initial == R:
        if final in (F_M, F_NG):  # 심리 -> 심니
            following[0] = N
        elif final in _STOPS:  # 국립 -> 궁닙
            syllable[2], following[0] = _NASAL[final], N
        elif final == F_N:  # 신라 -> 실라
            syllable[2] = F_L
        return
    if initial == N and final == F_L:  # 칼날 -> 칼랄
        following[0] = R
        return
    if initial in (N, M) and final in _STOPS:  # 국민 -> 궁민, 있는 -> 인는
        syllable[2] = _NASAL[final]
        return
    if final in _STOPS and initial in _TENSE:  # 학교 -> 학꾜, 있습니다 -> 읻씀니다
        following[0] = _TENSE[initial]
