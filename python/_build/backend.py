"""A PEP 517 build backend for memalot, standard library only.

pip needs no package index to build memalot (no setuptools, no wheel): this
backend writes the wheel itself. A wheel built with memalot/_bin in place
(`make wheel` puts the engine there) carries the engine and is tagged for
this platform; without it the wheel is pure Python and the package finds
the engine through $MEMALOT_BIN or PATH.
"""
import base64
import hashlib
import io
import os
import platform
import tarfile
import zipfile

NAME = "memalot"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version() -> str:
    with open(os.path.join(HERE, NAME, "__init__.py"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip("\"'")
    raise RuntimeError("no __version__ in memalot/__init__.py")


def _metadata() -> str:
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: Finds memory leaks in Python programs, from outside the process\n"
            "License: MIT\nRequires-Python: >=3.8\nPlatform: Linux\n"
            "Classifier: Operating System :: POSIX :: Linux\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Description-Content-Type: text/markdown\n\n%s" % (NAME, _version(), readme))


def _files():
    """(path in the wheel, path on disk) of the package."""
    root = os.path.join(HERE, NAME)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, name)
            yield os.path.relpath(full, HERE).replace(os.sep, "/"), full


def _tag(files) -> str:
    if any(arc.startswith(NAME + "/_bin/") for arc, _ in files):
        return "py3-none-linux_%s" % platform.machine()
    return "py3-none-any"


def _record_line(arc: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arc, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = list(_files())
    tag = _tag(files)
    version = _version()
    dist_info = "%s-%s.dist-info" % (NAME, version)
    path = os.path.join(wheel_directory, "%s-%s-%s.whl" % (NAME, version, tag))
    record = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        def add(arc: str, data: bytes, mode: int = 0o644) -> None:
            nonlocal record
            info = zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            record += _record_line(arc, data)

        for arc, full in files:
            with open(full, "rb") as f:
                add(arc, f.read(), 0o755 if os.access(full, os.X_OK) and "/_bin/" in arc else 0o644)
        add(dist_info + "/METADATA", _metadata().encode())
        add(dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: memalot-backend\nRoot-Is-Purelib: %s\nTag: %s\n"
                                   % ("true" if tag.endswith("any") else "false", tag)).encode())
        add(dist_info + "/entry_points.txt", (b"[console_scripts]\nmemalot = memalot.__main__:main\n\n"
                                                 # the name pytest -p uses too: -p memalot.pytest_plugin is a no-op then
                                                 b"[pytest11]\nmemalot.pytest_plugin = memalot.pytest_plugin\n"))
        record += dist_info + "/RECORD,,\n"
        z.writestr(dist_info + "/RECORD", record)
    return os.path.basename(path)


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/backend.py"]:
            t.add(os.path.join(HERE, rel), base + "/" + rel)
        for arc, full in _files():
            if "/_bin/" not in arc:
                t.add(full, base + "/" + arc)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return os.path.basename(path)
