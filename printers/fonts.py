"""Find the DejaVu Sans fonts that previews and image lines are drawn with."""

from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
FONT_DIRS = (
    _REPO / "node_modules" / "dejavu-fonts-ttf" / "ttf",
    Path("/usr/share/fonts/truetype/dejavu"),
)


def font_path(bold: bool) -> Path:
    """Return the path of DejaVu Sans, bold or regular."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate

    searched = " and ".join(str(folder) for folder in FONT_DIRS)
    raise FileNotFoundError(
        f"Font {name} was not found in {searched}. Run `npm ci` in the repository "
        "or install Debian's fonts-dejavu-core."
    )
