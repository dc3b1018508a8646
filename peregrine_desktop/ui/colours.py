"""The colours that carry a meaning, one definition each: what went wrong, what went well, what
needs a look, what is only news (the same hues on the light and the dark palette)."""

PROBLEM = "#c62828"
GOOD = "#2e7d32"
WARNING = "#b26a00"
INFO = "#1565c0"


def text_style(colour: str | None) -> str:
    """A label's style sheet for text in ``colour`` (None: the palette's own text colour)."""
    return f"color: {colour};" if colour else ""
