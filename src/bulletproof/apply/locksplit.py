"""A lock's local entries (a directory, a VCS checkout, an archive without hashes) cannot be
installed with ``--require-hashes``: they are split off and installed one by one, without their
dependencies, which the hashed part already holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomli_w

from bulletproof.redaction import with_credentials
from bulletproof.tomlcompat import tomllib


@dataclass(frozen=True)
class LocalEntry:
    name: str
    where: str  # for messages: the path or URL
    path: Path | None  # a directory or a local archive
    editable: bool
    url: str | None  # a VCS or archive URL, as a direct reference

    def install_args(self) -> list[str]:
        if self.path is not None:
            return ["--editable", str(self.path)] if self.editable else [str(self.path)]
        # the lock has the URL without credentials; the project's own requirement had them
        # (kept in memory only, never written)
        return [f"{self.name} @ {with_credentials(self.url or '')}"]


def _entry(raw: dict[str, object], base: Path) -> LocalEntry | None:
    name = str(raw.get("name", ""))
    directory = raw.get("directory")
    if isinstance(directory, dict):
        path = (base / str(directory.get("path", "."))).resolve()
        return LocalEntry(name, str(path), path, bool(directory.get("editable")), None)
    vcs = raw.get("vcs")
    if isinstance(vcs, dict):
        ref = vcs.get("commit-id") or vcs.get("requested-revision")
        url = f"{vcs.get('type', 'git')}+{vcs.get('url')}" + (f"@{ref}" if ref else "")
        return LocalEntry(name, url, None, False, url)
    archive = raw.get("archive")
    if isinstance(archive, dict) and not archive.get("hashes"):
        if archive.get("path"):
            path = (base / str(archive["path"])).resolve()
            return LocalEntry(name, str(path), path, False, None)
        return LocalEntry(name, str(archive.get("url")), None, False, str(archive.get("url")))
    return None


def split_local(lock_file: Path, scratch: Path) -> tuple[Path, list[LocalEntry]]:
    """(a lock of the hashed entries only, the local ones); the lock itself when it has none."""
    text = lock_file.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    local = [e for raw in data.get("packages", []) if (e := _entry(raw, lock_file.parent))]
    if not local:
        return lock_file, []
    names = {e.name for e in local}
    data["packages"] = [raw for raw in data["packages"] if raw.get("name") not in names]
    out = scratch / "pylock.sync.toml"  # uv insists on the pylock.<name>.toml form
    out.write_text(tomli_w.dumps(data), encoding="utf-8")
    return out, local
