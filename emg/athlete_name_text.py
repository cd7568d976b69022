"""An athlete's name as the history keeps it, and as it is printed."""

from __future__ import annotations

import unicodedata

from emg.dsp.chain_limits import SettingError

#: The longest name the history keeps, in characters.
NAME_MAX = 200
#: Characters that reorder how a terminal shows the text around them (bidirectional
#: embeddings, overrides and isolates): refused as the control characters are.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def athlete_name(name: str) -> str:
    """``name`` as the history keeps it (surrounding blanks dropped, inner ones one space).

    Raises
    ------
    SettingError
        For a name with a control character (a terminal escape, a tab, a line break) or
        bytes that are not text, one longer than :data:`NAME_MAX` characters (the reason
        names the character or the length, not the name), or one without a letter or digit.
    """
    text = str(name)
    odd = next((c for c in text if _control(c)), None)
    if odd is not None:
        what = "an undecodable" if unicodedata.category(odd) == "Cs" else "a control"
        raise SettingError(
            "athlete",
            f"the name holds {what} character (U+{ord(odd):04X}); give it as plain text",
        )
    if len(text) > NAME_MAX:
        raise SettingError(
            "athlete", f"the name is {len(text)} characters long; at most {NAME_MAX}"
        )
    text = " ".join(text.split())
    if not any(c.isalnum() for c in text):
        raise SettingError("athlete", f"'{name}' is not a name (no letter or digit)")
    return text


def shown_name(name: str) -> str:
    """``name`` as it is printed: each control character escaped (``\\x1b``, ``\\u202e``).

    Names with control characters are refused (:func:`athlete_name`), but a database kept
    from before that may hold some. Printed escaped, such a name does nothing to the terminal,
    and :func:`history` finds the athlete by the escaped form.
    """
    return "".join(_escaped(c) if _control(c) else c for c in name)


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _control(character: str) -> bool:
    """Whether ``character`` is a control character (or a lone surrogate: undecodable bytes)."""
    return unicodedata.category(character) in ("Cc", "Cs") or character in _BIDI_CONTROLS
