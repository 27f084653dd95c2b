"""Where datasets are found, and downloads pinned by sha256.

Lookup order for a dataset folder: the ``data_dir`` argument, ``$ZOO_DATA_DIR``, the
``../shared/data`` folder beside the repository when present, then ``~/.cache/zoo/data``
(where downloads go).
"""
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from zoo.paths import REPO_ROOT

CACHE_DIR = Path(os.environ.get("ZOO_CACHE_DIR", Path.home() / ".cache" / "zoo"))


def data_root(data_dir=None):
    """The folder that holds one sub-folder per dataset."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("ZOO_DATA_DIR"):
        return Path(os.environ["ZOO_DATA_DIR"])
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return CACHE_DIR / "data"


def sha256_of(path, block=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, destination, sha256):
    """Downloads ``url`` to ``destination`` unless a file with the pinned ``sha256`` is already there.

    The file is written to a temporary name and moved into place only once its checksum
    matches, so an interrupted or tampered download never leaves a file that looks complete.
    """
    destination = Path(destination)
    if destination.exists() and sha256_of(destination) == sha256:
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".")
    os.close(fd)
    try:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as err:  # offline, a proxy, a 404: say which file is missing
            reason = getattr(err, "reason", err)
            raise FileNotFoundError(f"{destination} is missing and could not be downloaded from {url} ({reason}); "
                                    f"put the file there (see the dataset's SOURCE.md) or point $ZOO_DATA_DIR at "
                                    "a folder that holds it") from None
        actual = sha256_of(tmp)
        if actual != sha256:
            raise IOError(f"download of {url} has sha256 {actual}, expected {sha256}; not saved")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return destination
