"""Compile URL patterns into predicates that answer as Playwright's matching does.

Design note: Playwright decides whether a URL matches a string by resolving the
string against the context's base URL, translating the result into an anchored
regular expression and searching the URL with it, and it redoes all of that on
every call. A load test asks once per response per waiter, so `url_matcher`
does the work once and returns a closure over a single compiled regex.

Resolution must give what a browser's `new URL(relative, base)` gives, since
that decides case, default ports, dot segments and percent-encoding in the
resolved pattern, so it goes through the WHATWG parser in `_whatwg_url` rather
than `urllib.parse`. Glob tokens are swapped for inert placeholders before
parsing, so the parser cannot reinterpret them, and restored afterwards. The
tests compare every answer with Playwright's own implementation; this module
does not import Playwright's private code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from locust_browser._whatwg_url import parse_url

__all__ = ["url_matcher"]

# Globs with these prefixes are never resolved against the base URL.
_UNRESOLVED_PREFIXES = ("about:", "data:", "chrome:", "edge:", "file:")
_GLOB_CHARS = re.compile(r"[*?{}\\]")


def url_matcher(
    pattern: str | re.Pattern[str],
    *,
    base_url: str | None = None,
    argument: str = "url_or_predicate",
) -> Callable[[str], bool]:
    """Compile a URL pattern once into a predicate that answers as Playwright does.

    A string is a glob that must match the whole URL: `*` matches within one
    path segment, `**` across segments, `{a,b}` either alternative and `\\`
    makes the next character literal; `?` and every other character match
    themselves. A relative glob is first resolved against `base_url` as a
    browser resolves a link, unless it starts with `*`, `about:`, `data:`,
    `chrome:`, `edge:` or `file:`. The empty glob matches every URL. A compiled
    regex is searched anywhere in the URL.

    Args:
        pattern: A glob string or a compiled `str` regex.
        base_url: The URL relative globs are resolved against, if any.
        argument: The caller's name for `pattern`, used in error messages.

    Returns:
        A predicate over URL strings that costs one regex call.

    Raises:
        TypeError: `pattern` is neither a string nor a compiled `str` regex.
        ValueError: `pattern` is a glob with a nested or unmatched brace.
    """
    if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
        regex = pattern
        return lambda url: regex.search(url) is not None
    if not isinstance(pattern, str):
        raise TypeError(
            f"{argument} must be a glob string, a compiled regex or a callable, "
            f"not {type(pattern).__name__}: {pattern!r}"
        )
    if pattern == "":
        return lambda url: True

    resolved = _resolve_glob(pattern, base_url)
    # Anchored as Playwright anchors it: `$` also passes one trailing newline,
    # which no URL reported by a browser has.
    anchored = re.compile(_glob_to_regex(pattern, resolved) + "$")
    return lambda url: anchored.match(url) is not None


def _glob_to_regex(pattern: str, glob: str) -> str:
    """Translate the resolved `glob` of `pattern` into an unanchored regex."""
    parts: list[str] = []
    in_group = False
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "\\" and index + 1 < len(glob):
            parts.append(re.escape(glob[index + 1]))
            index += 1
        elif char == "*":
            index = _translate_stars(glob, index, parts)
            continue
        elif char == "{":
            if in_group:
                raise _invalid_glob(pattern, glob, "nested '{' is not supported")
            in_group = True
            parts.append("(?:")
        elif char == "}":
            if not in_group:
                raise _invalid_glob(pattern, glob, "unmatched '}'")
            in_group = False
            parts.append(")")
        else:
            parts.append("|" if char == "," and in_group else re.escape(char))
        index += 1

    if in_group:
        raise _invalid_glob(pattern, glob, "unmatched '{'")
    return "".join(parts)


def _translate_stars(glob: str, start: int, parts: list[str]) -> int:
    """Append the regex for the run of stars at `start`; return where it ends."""
    end = start
    while end < len(glob) and glob[end] == "*":
        end += 1
    if end - start == 1:
        parts.append("[^/]*")
    elif glob[end : end + 1] != "/":
        parts.append(".*")
    else:
        # `**/` takes its slash along; right after a slash it may match nothing.
        parts.append("(?:.+/)?" if glob[start - 1 : start] == "/" else ".*/")
        end += 1
    return end


def _invalid_glob(pattern: str, glob: str, problem: str) -> ValueError:
    resolved = "" if glob == pattern else f" (resolved to {glob!r})"
    return ValueError(f"invalid glob {pattern!r}{resolved}: {problem}")


def _resolve_glob(glob: str, base_url: str | None) -> str:
    """Resolve a relative glob against `base_url` the way Playwright does."""
    if glob.startswith("*"):
        return glob
    # Playwright reads an escaped backslash followed by `?` as a plain `?`.
    glob = glob.replace("\\\\?", "?")
    if glob.startswith(_UNRESOLVED_PREFIXES):
        return glob

    masked: dict[str, str] = {}
    tokens = [
        _mask(index, token, masked) for index, token in enumerate(glob.split("/"))
    ]
    relative = "/".join(tokens)
    url = parse_url(relative, base_url)
    if url is None:
        resolved, origin = relative, ""
    else:
        resolved, origin = url.href(), url.origin()

    # Scheme and host are case-insensitive, so globs that landed there are too.
    for placeholder, original in masked.items():
        original = original.lower() if placeholder in origin else original
        resolved = resolved.replace(placeholder, original, 1)
    return resolved


def _mask(index: int, token: str, masked: dict[str, str]) -> str:
    """Hide the glob syntax of one `/`-separated token from the URL parser."""
    if token in ("", ".", "..") or not _GLOB_CHARS.search(token):
        return token
    if index == 0 and token.endswith(":"):
        if "*" not in token and "{" not in token:
            return token
        # Any web scheme keeps the parser's slashes after the host: use http.
        masked["http:"] = token
        return "http:"
    # A `?` in the token still starts the query, so it stays visible.
    head, question, tail = token.partition("?")
    return _placeholder(head, masked) + question + _placeholder(tail, masked)


def _placeholder(text: str, masked: dict[str, str]) -> str:
    if not text:
        return ""
    placeholder = f"$~{len(masked)}~$"
    masked[placeholder] = text
    return placeholder
