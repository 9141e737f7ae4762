"""Safe reruns: a command never writes into a folder that holds another run's output.

Every folder a command fills (the demo's folder, a scan's quicklooks folder) gets a small
record, ``.sitewatch-output.json``: which command wrote it, with which settings, and the
files it wrote. Before the next command writes there (checked before any work starts):

- the folder is missing or empty: it is claimed;
- it holds the output of the *same* command with the *same* settings (the identical
  command run again): the previous files are removed and written afresh, so nothing stale
  remains (a rerun replaces its own output, as users expect);
- it holds another run's output (other settings, another command, or sitewatch files
  without a record): the command refuses in one line, unless ``--overwrite`` is given,
  which removes the previous run's recorded files first. Files sitewatch did not write are
  never removed.

A scan's alerts file is checked alike: an existing ``--out`` that is not the alerts of the
same AOI, source and dates is replaced only with ``--overwrite``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitewatch.errors import ConfigError

__all__ = ["RECORD_NAME", "OutputClaim", "check_alerts_file", "claim_folder"]

#: The record a command leaves in each output folder it fills.
RECORD_NAME = ".sitewatch-output.json"


@dataclass
class OutputClaim:
    """A folder a command may write into, and the previous run's files to remove first.

    Attributes
    ----------
    folder : pathlib.Path
    command : str
    settings : dict
    stale : list of pathlib.Path
        The previous run's files (removed by :meth:`clear`).
    """

    folder: Path
    command: str
    settings: dict[str, Any]
    stale: list[Path] = field(default_factory=list)

    def clear(self) -> None:
        """Remove the previous run's files (and the folders they leave empty)."""
        for path in self.stale:
            if path.is_file() or path.is_symlink():
                path.unlink()
        for directory in sorted({p.parent for p in self.stale}, key=lambda p: len(p.parts), reverse=True):
            while directory != self.folder and directory.is_relative_to(self.folder):
                try:
                    directory.rmdir()
                except OSError:
                    break
                directory = directory.parent
        (self.folder / RECORD_NAME).unlink(missing_ok=True)
        self.stale = []

    def record(self, files: Iterable[Path] | None = None) -> Path:
        """Write the folder's record: this command, its settings and the files it wrote.

        Parameters
        ----------
        files : iterable of pathlib.Path, optional
            The files written; by default every file now under the folder.
        """
        from sitewatch.runs import atomic_write_json

        folder = self.folder.resolve()
        paths = (
            [Path(f).resolve() for f in files]
            if files is not None
            else [p for p in folder.rglob("*") if p.is_file() and p.name != RECORD_NAME]
        )
        names = sorted({os.path.relpath(p, folder).replace("\\", "/") for p in paths})
        return atomic_write_json(
            self.folder / RECORD_NAME,
            {"sitewatch_output": 1, "command": self.command, "settings": self.settings, "files": names},
        )


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = sorted(set(old) | set(new))
    return ", ".join(f"{k} {old.get(k)} -> {new.get(k)}" for k in keys if old.get(k) != new.get(k))


def claim_folder(
    folder: str | Path,
    command: str,
    settings: Mapping[str, Any],
    *,
    overwrite: bool,
    ours: Iterable[str] = (),
) -> OutputClaim:
    """Check ``folder`` before a command writes into it (see the module docstring).

    Parameters
    ----------
    folder : str or pathlib.Path
    command : str
        ``"demo"``, ``"scan quicklooks"``...
    settings : mapping
        What makes two runs the same run (JSON-able values).
    overwrite : bool
        ``--overwrite``: replace another run's output.
    ours : iterable of str
        Glob patterns of the files this command writes: such files in a folder without a
        record are another run's output (from a version before records, or copied in).

    Returns
    -------
    OutputClaim
        Call :meth:`OutputClaim.clear` just before writing and :meth:`OutputClaim.record`
        after.

    Raises
    ------
    ConfigError
        If the folder holds another run's output and ``overwrite`` is False, or is a file.
    """
    path = Path(folder)
    wanted = json.loads(json.dumps(dict(settings), default=str))
    claim = OutputClaim(path, command, wanted)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} is a file; give a folder (or another path) for the {command} output")
    if not path.is_dir():
        return claim
    record_path = path / RECORD_NAME
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        previous = [path / name for name in record.get("files") or [] if ".." not in Path(name).parts]
        same = record.get("command") == command and record.get("settings") == wanted
        if not same and not overwrite:
            what = (
                f"settings differ: {_differences(record.get('settings') or {}, wanted)}"
                if record.get("command") == command
                else f"written by {record.get('command') or 'another command'}"
            )
            raise ConfigError(
                f"{path} holds the output of another {command} run ({what}); "
                "add --overwrite to replace it, or choose another folder"
            )
        claim.stale = previous
        return claim
    found = sorted({p for pattern in ours for p in path.glob(pattern) if p.is_file()})
    if found and not overwrite:
        raise ConfigError(
            f"{path} already holds sitewatch output ({os.path.relpath(found[0], path)} and "
            f"{len(found) - 1} more) of an earlier run; "
            f"add --overwrite to replace it, or choose another folder"
        )
    claim.stale = found
    return claim


def check_alerts_file(path: str | Path, identity: Mapping[str, Any], *, overwrite: bool) -> None:
    """Refuse to replace an alerts file that is not the output of the same scan (without ``--overwrite``).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``--out`` file.
    identity : mapping
        The ``sitewatch`` metadata members that make it the same scan (``aoi``, ``source``,
        ``start``, ``end``).
    overwrite : bool
        ``--overwrite``.

    Raises
    ------
    ConfigError
        If the file exists, ``overwrite`` is False, and it is not the same scan's alerts.
    """
    target = Path(path)
    if overwrite or not target.exists():
        return
    if target.is_dir():
        raise ConfigError(f"--out {target} is a folder; give a file name such as {target / 'alerts.geojson'}")
    try:
        meta = json.loads(target.read_text(encoding="utf-8")).get("sitewatch") or {}
    except (OSError, ValueError, AttributeError):
        meta = None
    if not isinstance(meta, dict) or not meta:
        raise ConfigError(
            f"{target} exists and is not a sitewatch alerts file; add --overwrite to replace it, "
            "or choose another --out"
        )
    old = {k: meta.get(k) for k in identity}
    if old != dict(identity):
        raise ConfigError(
            f"{target} holds the alerts of another scan ({_differences(old, identity)}); "
            "add --overwrite to replace it, or choose another --out"
        )
