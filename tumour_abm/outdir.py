"""Output folders: this tool writes only into a new (or empty) folder or one it made itself, and finds out that it
cannot write there before it simulates anything, not after.

A folder is ours when its `manifest.json` says so ("package": "tumour_abm" and the kind of output). The manifest is
written first, marked "running", so that a folder whose writer was killed is still recognised as ours, and
rewritten at the end, marked "complete".
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from .atomic import remove_stale_temporaries, write_text_atomic

PACKAGE = "tumour_abm"
MANIFEST = "manifest.json"


class OutputFolderError(Exception):
    """The folder given for outputs cannot be used: not ours, of another kind, or not writable (one line)."""


class BatchWriteError(Exception):
    """The batch folder could not be written mid-batch; what was finished is kept for --resume."""


def _our_manifest(folder: Path) -> dict | None:
    """The manifest of `folder` if this tool wrote it, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("package") == PACKAGE else None


def owner_kind(folder: Path) -> str | None:
    """The kind of output ("run", "batch", "validate", "sensitivity", "optimisation", "calibration") if this tool
    made `folder`, else None."""
    manifest = _our_manifest(folder)
    if manifest is None:
        return None
    # Manifests written before the kind was recorded: a batch names its batch file, a run its seed.
    return manifest.get("kind") or ("batch" if "batch_file" in manifest else "run")


def is_complete(folder: Path) -> bool:
    """Whether `folder` holds finished outputs of ours (a manifest not marked "running")."""
    manifest = _our_manifest(folder)
    return manifest is not None and manifest.get("status", "complete") == "complete"


def claim_folder(folder: Path, kind: str, *, reuse: bool = False, reuse_flag: str = "--resume",
                 needs_bytes: int = 0) -> None:
    """Make `folder` ours to write `kind` outputs into, or say why it cannot be.

    A missing or empty folder is created and marked; a non-empty one must be ours and of the same kind, and
    `reuse` (the command's `reuse_flag`) must allow writing into it again. Marking it running is the probe that it
    can be written now, before any work; it must also have `needs_bytes` free."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"{folder} is a file, not a folder: choose another output folder")
    if folder.is_dir() and any(folder.iterdir()):
        found = owner_kind(folder)
        if found is None:
            raise OutputFolderError(f"{folder} is not empty and was not made by tumour-abm (no {MANIFEST} of ours); "
                                    "nothing was written: choose a new or empty folder")
        if found != kind:
            raise OutputFolderError(f"{folder} holds a {found}, not a {kind}: choose another folder")
        if not reuse:
            raise OutputFolderError(f"{folder} already holds a {kind}: add {reuse_flag} to write into it again, or "
                                    "choose another folder")
        remove_stale_temporaries(folder)  # ours, about to be written again: what a killed writer left goes
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mark_running(folder, kind)
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise OutputFolderError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    if free < needs_bytes:
        raise OutputFolderError(f"{folder} has {free / 1e6:,.0f} MB free; the outputs need about "
                                f"{needs_bytes / 1e6:,.0f} MB")


def mark_running(folder: Path, kind: str) -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps({"package": PACKAGE, "kind": kind, "status": "running", "started": started}, indent=2)
    write_text_atomic(folder / MANIFEST, text + "\n")
