"""Browser resolution over fake trees of executables; no browser is launched."""

from __future__ import annotations

from pathlib import Path

import pytest

from locust_browser._executable import (
    ENV_EXECUTABLE,
    BrowserChoice,
    BrowserNotFoundError,
    playwright_browsers_dir,
    resolve_browser,
)

PW_SHELL = (
    "chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell"
)
PW_CHROMIUM = "chromium-1255/chrome-linux64/chrome"


class Machine:
    """A fake machine: Playwright's browsers directory, a PATH and a lib dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.browsers = root / "ms-playwright"
        self.bin = root / "bin"
        self.lib_shell = root / "lib" / "chromium" / "chromium-headless-shell"
        self.env: dict[str, str] = {"PATH": str(self.bin)}
        self.browsers.mkdir()
        self.bin.mkdir()

    def add(self, relative: str, *, under: Path | None = None) -> str:
        """Create an executable file and return its absolute path."""
        return make_executable((under or self.browsers) / relative)

    def add_on_path(self, name: str) -> str:
        return make_executable(self.bin / name)

    def resolve(self, explicit: str | None = None) -> BrowserChoice:
        return resolve_browser(
            explicit,
            environ=self.env,
            browsers_dir=self.browsers,
            system_shell_paths=(str(self.lib_shell),),
        )


def make_executable(path: Path, mode: int = 0o755) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(mode)
    return str(path)


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


@pytest.fixture
def full_machine(machine: Machine) -> Machine:
    """A machine with one browser of every kind."""
    machine.add(PW_SHELL)
    machine.add(PW_CHROMIUM)
    machine.add_on_path("chromium-headless-shell")
    make_executable(machine.lib_shell)
    machine.add_on_path("chromium")
    machine.add_on_path("google-chrome")
    return machine


def test_explicit_path_beats_environment_variable(full_machine: Machine) -> None:
    explicit = make_executable(full_machine.root / "opt" / "my-chrome")
    full_machine.env[ENV_EXECUTABLE] = make_executable(
        full_machine.root / "opt" / "env-chrome"
    )

    choice = full_machine.resolve(explicit)

    assert choice == BrowserChoice(explicit, "--browser-executable", False)


def test_environment_variable_beats_installed_browsers(
    full_machine: Machine,
) -> None:
    from_env = make_executable(full_machine.root / "opt" / "headless_shell")
    full_machine.env[ENV_EXECUTABLE] = from_env

    choice = full_machine.resolve()

    assert choice == BrowserChoice(from_env, ENV_EXECUTABLE, True)


def test_playwright_headless_shell_beats_system_headless_shell(
    full_machine: Machine,
) -> None:
    choice = full_machine.resolve()

    assert choice == BrowserChoice(
        str(full_machine.browsers / PW_SHELL), "playwright", True
    )


def test_system_headless_shell_on_path_beats_playwright_full_chromium(
    machine: Machine,
) -> None:
    machine.add(PW_CHROMIUM)
    on_path = machine.add_on_path("chromium-headless-shell")

    choice = machine.resolve()

    assert choice == BrowserChoice(on_path, "system", True)


def test_system_headless_shell_binary_beats_its_wrapper_on_path(
    machine: Machine,
) -> None:
    machine.add(PW_CHROMIUM)
    machine.add_on_path("chromium-headless-shell")
    in_lib = make_executable(machine.lib_shell)

    choice = machine.resolve()

    assert choice == BrowserChoice(in_lib, "system", True)


def test_playwright_full_chromium_beats_system_chromium(machine: Machine) -> None:
    full = machine.add(PW_CHROMIUM)
    machine.add_on_path("chromium")

    choice = machine.resolve()

    assert choice == BrowserChoice(full, "playwright", False)


@pytest.mark.parametrize(
    "name", ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
)
def test_system_chromium_or_chrome_is_the_last_resort(
    machine: Machine, name: str
) -> None:
    on_path = machine.add_on_path(name)

    choice = machine.resolve()

    assert choice == BrowserChoice(on_path, "system", False)


def test_system_chromium_is_preferred_to_google_chrome(machine: Machine) -> None:
    machine.add_on_path("google-chrome")
    chromium = machine.add_on_path("chromium")

    assert machine.resolve().executable == chromium


def test_newest_playwright_revision_wins(machine: Machine) -> None:
    machine.add("chromium_headless_shell-999/chrome-linux/headless_shell")
    newest = machine.add(
        "chromium_headless_shell-1300/chrome-headless-shell-linux64/"
        "chrome-headless-shell"
    )
    machine.add(PW_SHELL)

    assert machine.resolve().executable == newest


def test_revision_without_executable_falls_back_to_older_one(
    machine: Machine,
) -> None:
    older = machine.add(PW_SHELL)
    (machine.browsers / "chromium_headless_shell-1300" / "partial").mkdir(parents=True)

    assert machine.resolve().executable == older


def test_older_playwright_layouts_are_found(machine: Machine) -> None:
    shell = machine.add("chromium_headless_shell-1140/chrome-linux/headless_shell")
    assert machine.resolve() == BrowserChoice(shell, "playwright", True)

    (machine.browsers / "chromium_headless_shell-1140").rename(
        machine.root / "moved-away"
    )
    full = machine.add("chromium-1140/chrome-linux/chrome")
    assert machine.resolve() == BrowserChoice(full, "playwright", False)


def test_other_playwright_browsers_are_ignored(machine: Machine) -> None:
    machine.add("chromium_tip_of_tree-1400/chrome-linux64/chrome")
    machine.add("firefox-1572/firefox/firefox")

    with pytest.raises(BrowserNotFoundError):
        machine.resolve()


@pytest.mark.parametrize("source", ["--browser-executable", ENV_EXECUTABLE])
def test_missing_explicit_path_is_an_error_naming_it_and_its_source(
    full_machine: Machine, source: str
) -> None:
    missing = str(full_machine.root / "no" / "such" / "chrome")
    explicit = None
    if source == ENV_EXECUTABLE:
        full_machine.env[ENV_EXECUTABLE] = missing
    else:
        explicit = missing

    with pytest.raises(BrowserNotFoundError) as caught:
        full_machine.resolve(explicit)

    assert missing in str(caught.value)
    assert source in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_non_executable_explicit_path_is_an_error(full_machine: Machine) -> None:
    not_executable = make_executable(full_machine.root / "chrome", mode=0o644)

    with pytest.raises(BrowserNotFoundError, match="is not executable") as caught:
        full_machine.resolve(not_executable)

    assert not_executable in str(caught.value)


def test_directory_as_explicit_path_is_an_error(full_machine: Machine) -> None:
    with pytest.raises(BrowserNotFoundError, match="is not a file"):
        full_machine.resolve(str(full_machine.bin))


def test_explicit_bare_name_is_looked_up_on_path(machine: Machine) -> None:
    on_path = machine.add_on_path("my-chromium")

    assert machine.resolve("my-chromium").executable == on_path


def test_explicit_bare_name_not_on_path_is_an_error(full_machine: Machine) -> None:
    with pytest.raises(BrowserNotFoundError, match="'my-chromium' .* not found"):
        full_machine.resolve("my-chromium")


def test_empty_explicit_values_count_as_not_given(full_machine: Machine) -> None:
    full_machine.env[ENV_EXECUTABLE] = ""

    assert full_machine.resolve("  ").source == "playwright"


def test_nothing_found_raises_error_naming_the_install_command(
    machine: Machine,
) -> None:
    with pytest.raises(BrowserNotFoundError) as caught:
        machine.resolve()

    message = str(caught.value)
    assert "`locust-browser install`" in message
    assert "apt-get install -y chromium-headless-shell" in message
    assert "--browser-executable" in message
    assert ENV_EXECUTABLE in message
    assert str(machine.browsers) in message


def test_empty_path_finds_no_system_browser(machine: Machine) -> None:
    machine.add_on_path("chromium")
    machine.env["PATH"] = ""

    with pytest.raises(BrowserNotFoundError):
        machine.resolve()


def test_playwright_browsers_path_variable_is_searched(machine: Machine) -> None:
    shell = machine.add(PW_SHELL)
    environ = {"PATH": "", "PLAYWRIGHT_BROWSERS_PATH": str(machine.browsers)}

    choice = resolve_browser(environ=environ, system_shell_paths=())

    assert choice == BrowserChoice(shell, "playwright", True)


def test_default_browsers_dir_follows_playwright_rules(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    assert playwright_browsers_dir({"XDG_CACHE_HOME": str(cache)}) == (
        cache / "ms-playwright"
    )
    assert playwright_browsers_dir({"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path)}) == (
        tmp_path
    )
    inside_package = playwright_browsers_dir({"PLAYWRIGHT_BROWSERS_PATH": "0"})
    assert inside_package.parts[-4:] == (
        "playwright",
        "driver",
        "package",
        ".local-browsers",
    )


def test_describe_names_kind_path_and_source() -> None:
    shell = BrowserChoice("/usr/bin/chromium-headless-shell", "system", True)
    full = BrowserChoice("/opt/chrome", "LOCUST_BROWSER_EXECUTABLE", False)

    assert shell.describe() == (
        "chromium-headless-shell at /usr/bin/chromium-headless-shell (system)"
    )
    assert full.describe() == "chromium at /opt/chrome (LOCUST_BROWSER_EXECUTABLE)"
