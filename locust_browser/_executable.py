"""Choose the Chromium executable that workers launch.

Design note: the choice is a pure search over the file system, made once per
worker process before the first launch, so it is cheap and can be tested with
fake trees of executables. The order is:

1. an explicit path, from ``--browser-executable`` or ``LOCUST_BROWSER_EXECUTABLE``;
2. Playwright's own headless shell, newest revision first;
3. a system ``chromium-headless-shell``;
4. Playwright's own full Chromium, newest revision first;
5. a system Chromium or Chrome.

Headless shells come first because they cost several times less CPU per
virtual user than full Chromium in headless mode. An explicit path that cannot
be used is an error, never a reason to fall through to another browser: a user
who named a browser must not silently measure a different one.

``LAUNCH_ARGS`` is deliberately empty. Playwright already passes what a root
user in a container needs (``--no-sandbox``, ``--disable-dev-shm-usage``,
``--headless``, ``--enable-unsafe-swiftshader``), and ``--disable-gpu`` made no
measurable difference to CPU use or to what pages can do with the headless
shell or full Chromium of Debian 12, which fall back to SwiftShader by
themselves.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENV_EXECUTABLE",
    "LAUNCH_ARGS",
    "BrowserChoice",
    "BrowserNotFoundError",
    "playwright_browsers_dir",
    "resolve_browser",
]

logger = logging.getLogger(__name__)

ENV_EXECUTABLE = "LOCUST_BROWSER_EXECUTABLE"
"""Environment variable naming the browser executable to launch."""

LAUNCH_ARGS: tuple[str, ...] = ()
"""Chromium flags passed on every launch, beyond Playwright's own defaults."""

SOURCE_OPTION = "--browser-executable"
SOURCE_ENV = ENV_EXECUTABLE
SOURCE_PLAYWRIGHT = "playwright"
SOURCE_SYSTEM = "system"

SYSTEM_SHELL_NAMES: tuple[str, ...] = ("chromium-headless-shell",)
SYSTEM_SHELL_PATHS: tuple[str, ...] = ("/usr/lib/chromium/chromium-headless-shell",)
SYSTEM_BROWSER_NAMES: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

# Executables inside one revision directory of Playwright's browsers directory,
# as glob patterns: current Chrome for Testing builds first, then the layouts
# that Playwright releases before 1.49 unpacked.
_PLAYWRIGHT_SHELL_LAYOUTS = (
    "chrome-headless-shell-*/chrome-headless-shell",
    "chrome-linux/headless_shell",
    "chrome-mac/headless_shell",
)
_PLAYWRIGHT_CHROMIUM_LAYOUTS = (
    "chrome-linux64/chrome",
    "chrome-linux-arm64/chrome",
    "chrome-linux/chrome",
    "chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/"
    "Google Chrome for Testing",
    "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
)
_PLAYWRIGHT_SHELL_DIR = re.compile(r"chromium_headless_shell-(\d+)")
_PLAYWRIGHT_CHROMIUM_DIR = re.compile(r"chromium-(\d+)")

_APT_COMMAND = "apt-get install -y chromium-headless-shell"


@dataclass(frozen=True)
class BrowserChoice:
    """A browser executable and how it was found."""

    executable: str
    """Absolute path of the executable to launch."""

    source: str
    """Where it came from: ``"--browser-executable"``,
    ``"LOCUST_BROWSER_EXECUTABLE"``, ``"playwright"`` or ``"system"``."""

    is_headless_shell: bool
    """Whether it is a headless shell build rather than a full browser."""

    def describe(self) -> str:
        """Return one line for logs, naming the kind, the path and the source."""
        kind = "chromium-headless-shell" if self.is_headless_shell else "chromium"
        return f"{kind} at {self.executable} ({self.source})"


class BrowserNotFoundError(RuntimeError):
    """No usable browser executable was found, or the one named is unusable."""


def resolve_browser(
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    browsers_dir: Path | None = None,
    system_shell_paths: Sequence[str] = SYSTEM_SHELL_PATHS,
) -> BrowserChoice:
    """Find the browser executable to launch, in the order of the module note.

    Args:
        explicit: The ``--browser-executable`` option's value. A path, or a
            bare name looked up on ``PATH``. Empty means not given.
        environ: Environment to read ``LOCUST_BROWSER_EXECUTABLE``,
            ``PLAYWRIGHT_BROWSERS_PATH``, ``XDG_CACHE_HOME`` and ``PATH`` from;
            defaults to ``os.environ``.
        browsers_dir: Playwright's browsers directory; defaults to the one
            Playwright itself uses with ``environ``.
        system_shell_paths: Absolute paths tried for a system headless shell
            after ``PATH``.

    Returns:
        The first usable browser.

    Raises:
        BrowserNotFoundError: The explicit executable does not exist or is not
            executable, or no browser was found anywhere.
    """
    env = os.environ if environ is None else environ
    search_path = env.get("PATH", os.defpath)

    for value, source in (
        (explicit, SOURCE_OPTION),
        (env.get(ENV_EXECUTABLE), SOURCE_ENV),
    ):
        if value and value.strip():
            choice = _checked_explicit(value.strip(), source, search_path)
            logger.debug("Resolved browser: %s", choice.describe())
            return choice

    if browsers_dir is None:
        browsers_dir = playwright_browsers_dir(env)
    found = _first_found(browsers_dir, search_path, system_shell_paths)
    if found is None:
        raise BrowserNotFoundError(_not_found_message(browsers_dir, system_shell_paths))
    logger.debug("Resolved browser: %s", found.describe())
    return found


def playwright_browsers_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the directory where Playwright installs its browsers.

    Follows Playwright's own rules: ``PLAYWRIGHT_BROWSERS_PATH`` when set
    (``0`` meaning inside the installed package), else the user cache
    directory's ``ms-playwright``.

    Args:
        environ: Environment to read; defaults to ``os.environ``.

    Returns:
        An absolute path, which may not exist.
    """
    env = os.environ if environ is None else environ
    configured = env.get("PLAYWRIGHT_BROWSERS_PATH", "")
    if configured == "0":
        return _playwright_package_dir() / "driver" / "package" / ".local-browsers"
    if configured:
        return Path(configured).expanduser().absolute()

    if sys.platform == "darwin":
        cache = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        cache = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ms-playwright"


def _checked_explicit(value: str, source: str, search_path: str) -> BrowserChoice:
    """Turn a user-given executable into a choice, or explain why it is unusable."""
    is_bare_name = os.sep not in value and not value.startswith("~")
    if is_bare_name:
        path = shutil.which(value, path=search_path) or value
    else:
        path = os.path.abspath(os.path.expanduser(value))

    if is_bare_name and path == value:
        problem = "was not found on PATH"
    elif not os.path.exists(path):
        problem = "does not exist"
    elif not os.path.isfile(path):
        problem = "is not a file"
    elif not os.access(path, os.X_OK):
        problem = "is not executable"
    else:
        name = os.path.basename(path)
        return BrowserChoice(
            os.path.abspath(path), source, is_headless_shell="headless" in name
        )

    raise BrowserNotFoundError(
        f"The browser executable {path!r} given by {source} {problem}. "
        f"Fix or remove {source}, or run `locust-browser install` and leave "
        "it unset to use the browser found automatically."
    )


def _first_found(
    browsers_dir: Path, search_path: str, system_shell_paths: Sequence[str]
) -> BrowserChoice | None:
    """Return the first browser found in resolution order, after explicit ones."""
    shell = _newest_playwright(
        browsers_dir, _PLAYWRIGHT_SHELL_DIR, _PLAYWRIGHT_SHELL_LAYOUTS
    )
    if shell is not None:
        return BrowserChoice(shell, SOURCE_PLAYWRIGHT, is_headless_shell=True)

    # Debian's /usr/bin/chromium-headless-shell is a shell script that runs
    # the real binary as its child rather than exec'ing it: launched through
    # it, a browser whose launcher dies is orphaned, so the binary comes first.
    shell = _first_executable(system_shell_paths) or _first_on_path(
        SYSTEM_SHELL_NAMES, search_path
    )
    if shell is not None:
        return BrowserChoice(shell, SOURCE_SYSTEM, is_headless_shell=True)

    full = _newest_playwright(
        browsers_dir, _PLAYWRIGHT_CHROMIUM_DIR, _PLAYWRIGHT_CHROMIUM_LAYOUTS
    )
    if full is not None:
        return BrowserChoice(full, SOURCE_PLAYWRIGHT, is_headless_shell=False)

    full = _first_on_path(SYSTEM_BROWSER_NAMES, search_path)
    if full is not None:
        return BrowserChoice(full, SOURCE_SYSTEM, is_headless_shell=False)
    return None


def _newest_playwright(
    browsers_dir: Path, dir_name: re.Pattern[str], layouts: Sequence[str]
) -> str | None:
    """Return the executable of the newest complete revision, if any."""
    for revision_dir in _revision_dirs(browsers_dir, dir_name):
        for layout in layouts:
            for candidate in sorted(revision_dir.glob(layout)):
                if _is_executable_file(str(candidate)):
                    return str(candidate.absolute())
    return None


def _revision_dirs(browsers_dir: Path, dir_name: re.Pattern[str]) -> Iterator[Path]:
    """Yield the revision directories matching ``dir_name``, newest first."""
    try:
        entries = list(browsers_dir.iterdir())
    except OSError:
        return
    revisions = []
    for entry in entries:
        match = dir_name.fullmatch(entry.name)
        if match is not None and entry.is_dir():
            revisions.append((int(match.group(1)), entry))
    for _, entry in sorted(revisions, reverse=True):
        yield entry


def _first_on_path(names: Sequence[str], search_path: str) -> str | None:
    """Return the absolute path of the first of ``names`` found on the path."""
    for name in names:
        found = shutil.which(name, path=search_path)
        if found is not None:
            return os.path.abspath(found)
    return None


def _first_executable(paths: Sequence[str]) -> str | None:
    """Return the first of ``paths`` that is an executable file."""
    for path in paths:
        if _is_executable_file(path):
            return os.path.abspath(path)
    return None


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _playwright_package_dir() -> Path:
    """Return the installed ``playwright`` package's directory without importing it."""
    spec = importlib.util.find_spec("playwright")
    if spec is None or not spec.submodule_search_locations:
        raise BrowserNotFoundError(
            "PLAYWRIGHT_BROWSERS_PATH=0 points inside the playwright package, "
            "but playwright is not installed: run `pip install playwright`."
        )
    return Path(list(spec.submodule_search_locations)[0])


def _not_found_message(browsers_dir: Path, system_shell_paths: Sequence[str]) -> str:
    """Say where the search looked and exactly what to run to fix it."""
    shell_places = ", ".join(("PATH", *system_shell_paths))
    return (
        "No Chromium browser found. Looked for Playwright's browsers in "
        f"{browsers_dir}, for chromium-headless-shell on {shell_places}, and "
        f"for {', '.join(SYSTEM_BROWSER_NAMES)} on PATH. To fix it, run "
        f"`locust-browser install`; or, as root, `apt-get update && {_APT_COMMAND}`; "
        f"or pass {SOURCE_OPTION} PATH or set {ENV_EXECUTABLE}=PATH to use a "
        "Chromium or Chrome you already have."
    )
