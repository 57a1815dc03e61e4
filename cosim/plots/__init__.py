"""matplotlib figures of the verification and Monte-Carlo results."""
from __future__ import annotations

import io
from pathlib import Path


def save_figure(fig, path, **kwargs) -> Path:
    """Save `fig` to `path` atomically (rendered in memory, then temp file + rename);
    the format follows the suffix (.png, .svg, .pdf)."""
    from ..fileio import atomic_write_bytes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".").lower() or "png", **kwargs)
    return atomic_write_bytes(path, buf.getvalue())
