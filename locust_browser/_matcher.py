"""Compile URL patterns into predicates that answer as Playwright's matching does.

Design note: Playwright decides whether a URL matches a string by resolving the
string against the context's base URL, translating the result into an anchored
regular expression and searching the URL with it, and it redoes all of that on
every call. A load test asks once per response per waiter, so `url_matcher`
does the work once and returns a closure over a single compiled regex.

Resolution must give what a browser's `new URL(relative, base)` gives, since
that decides case, default ports, dot segments and percent-encoding in the
resolved pattern. `urllib.parse` follows RFC 3986 and disagrees on each of
those, so the lower half of this module parses URLs the WHATWG way, keeping
only what the serialized URL and its origin need. Glob tokens are swapped for
inert placeholders before parsing, so the parser cannot reinterpret them, and
restored afterwards. The tests compare every answer with Playwright's own
implementation; this module does not import Playwright's private code.
"""

from __future__ import annotations

import encodings.idna
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

__all__ = ["url_matcher"]

# Globs with these prefixes are never resolved against the base URL.
_UNRESOLVED_PREFIXES = ("about:", "data:", "chrome:", "edge:", "file:")
_GLOB_CHARS = re.compile(r"[*?{}\\]")

# WHATWG URL constants: special schemes with their default ports, then the
# percent-encode sets (code points above U+007E are always encoded).
_DEFAULT_PORTS: dict[str, int | None] = dict(
    ftp=21, file=None, http=80, https=443, ws=80, wss=443
)
_C0 = frozenset(map(chr, range(0x20)))
_FRAGMENT_SET = _C0 | frozenset(' "<>`')
_QUERY_SET = _C0 | frozenset(' "#<>')
_SPECIAL_QUERY_SET = _QUERY_SET | {"'"}
_PATH_SET = _QUERY_SET | frozenset("?^`{}")
_USERINFO_SET = _PATH_SET | frozenset("/:;=@[\\]|")
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|")
_FORBIDDEN_DOMAIN = _FORBIDDEN_HOST | _C0 | {"%", "\x7f"}
_STRIPPED = "".join(map(chr, range(0x21)))
_DROPPED = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_PATH_END = re.compile("[?#]")
_END_OF_AUTHORITY = re.compile("[/?#]")
_END_OF_SPECIAL_AUTHORITY = re.compile(r"[/?#\\]")
_SEPARATORS = re.compile("/")
_SPECIAL_SEPARATORS = re.compile(r"[/\\]")
_DRIVE_LETTER = re.compile("[A-Za-z][:|]")
_DRIVE_LETTER_START = re.compile(r"[A-Za-z][:|](?:[/\\?#]|\Z)")
_LABEL_DOTS = re.compile("[.\u3002\uff0e\uff61]")
_KEPT_BY_UTS46 = re.compile("([\u00df\u03c2])")
_DOT_SEGMENTS = {".": 1, "%2e": 1, "..": 2, ".%2e": 2, "%2e.": 2, "%2e%2e": 2}
_DIGITS = {8: "[0-7]+", 10: "[0-9]+", 16: "[0-9A-Fa-f]+"}  # by radix


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
            index = _translate_stars(glob, index, parts) - 1
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
    url = _parse_url(relative, base_url)
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


# The URL parser of the WHATWG URL Standard, reduced to what `href` and `origin`
# need. Each `_parse_*` helper takes the text that is left and returns the URL,
# or None where the standard says the parse fails.


@dataclass
class _Url:
    """The parts of a WHATWG URL record that its serialization needs."""

    scheme: str
    username: str = ""
    password: str = ""
    host: str | None = None
    port: int | None = None
    path: list[str] | str = field(default_factory=list)  # str when opaque
    query: str | None = None
    fragment: str | None = None

    @property
    def is_special(self) -> bool:
        return self.scheme in _DEFAULT_PORTS

    def href(self) -> str:
        text = self.scheme + ":"
        if self.host is not None:
            text += "//"
            if self.username or self.password:
                password = ":" + self.password if self.password else ""
                text += self.username + password + "@"
            text += self.host + ("" if self.port is None else f":{self.port}")
        if isinstance(self.path, str):
            text += self.path
        else:
            if self.host is None and len(self.path) > 1 and self.path[0] == "":
                text += "/."  # so that `//` at the path's start is not a host
            text += "".join("/" + segment for segment in self.path)
        if self.query is not None:
            text += "?" + self.query
        if self.fragment is not None:
            text += "#" + self.fragment
        return text

    def origin(self) -> str:
        if self.scheme == "blob" and isinstance(self.path, str):
            inner = _parse(self.path, None)
            is_web = inner is not None and inner.scheme in ("http", "https")
            return inner.origin() if inner is not None and is_web else "null"
        if self.scheme in ("ftp", "http", "https", "ws", "wss"):
            port = "" if self.port is None else f":{self.port}"
            return f"{self.scheme}://{self.host or ''}{port}"
        return "null"


def _parse_url(text: str, base_text: str | None) -> _Url | None:
    """Parse like `new URL(text, base)`; return None where that throws."""
    base = None if base_text is None else _parse(base_text, None)
    if base_text is not None and base is None:
        return None
    return _parse(text, base)


def _parse(text: str, base: _Url | None) -> _Url | None:
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.strip(_STRIPPED).translate(_DROPPED)
    scheme = _SCHEME.match(text)
    if scheme is None:
        return _parse_schemeless(text, base)

    url, rest = _Url(scheme.group()[:-1].lower()), text[scheme.end() :]
    if url.scheme == "file":
        return _parse_file(rest, base)
    if url.is_special and base is not None and base.scheme == url.scheme:
        return _parse_relative(rest, base)
    if url.is_special:
        return _parse_authority(url, rest.lstrip("/\\"))
    if rest.startswith("//"):
        return _parse_authority(url, rest[2:])
    if rest.startswith("/"):
        return _parse_path(url, rest[1:])
    return _parse_opaque(url, rest)


def _parse_schemeless(text: str, base: _Url | None) -> _Url | None:
    if base is None or (isinstance(base.path, str) and not text.startswith("#")):
        return None
    if isinstance(base.path, str):
        url = _Url(base.scheme, path=base.path, query=base.query)
        return _parse_query_and_fragment(url, text)
    if base.scheme == "file":
        return _parse_file(text, base)
    return _parse_relative(text, base)


def _parse_relative(text: str, base: _Url) -> _Url | None:
    """Resolve schemeless `text` against a base URL that has a host or path."""
    url = _Url(base.scheme)
    slashes = ("/", "\\") if url.is_special else ("/",)
    if text[:1] in slashes and text[1:2] in slashes:
        rest = text[2:].lstrip("/\\") if url.is_special else text[2:]
        return _parse_authority(url, rest)

    url.username, url.password = base.username, base.password
    url.host, url.port = base.host, base.port
    if text[:1] in slashes:
        return _parse_path(url, text[1:])
    url.path, url.query = list(base.path), base.query
    if text == "" or text[0] in "?#":
        return _parse_query_and_fragment(url, text)
    url.query = None
    _shorten_path(url)
    return _parse_path(url, text)


def _parse_authority(url: _Url, text: str) -> _Url | None:
    """Parse user info, host and port, then the rest, after the `//`."""
    ends = _END_OF_SPECIAL_AUTHORITY if url.is_special else _END_OF_AUTHORITY
    end = _find(ends, text)
    userinfo, at_sign, host_and_port = text[:end].rpartition("@")
    if at_sign and not host_and_port:
        return None
    username, _, password = userinfo.partition(":")
    url.username = _encode(username, _USERINFO_SET)
    url.password = _encode(password, _USERINFO_SET)

    host, port = _split_port(host_and_port)
    if (port is not None or url.is_special) and not host:
        return None
    url.host = _parse_host(host, url.is_special)
    if url.host is None or (port and not re.fullmatch(_DIGITS[10], port)):
        return None
    if port and int(port) > 65535:
        return None
    if port and int(port) != _DEFAULT_PORTS.get(url.scheme):
        url.port = int(port)

    rest = text[end:]
    if url.is_special or rest.startswith("/"):
        return _parse_path(url, rest[1:] if rest[:1] in ("/", "\\") else rest)
    return _parse_query_and_fragment(url, rest)


def _split_port(text: str) -> tuple[str, str | None]:
    in_brackets = False
    for index, char in enumerate(text):
        if char in "[]":
            in_brackets = char == "["
        elif char == ":" and not in_brackets:
            return text[:index], text[index + 1 :]
    return text, None


def _parse_file(text: str, base: _Url | None) -> _Url | None:
    """Parse what follows `file:`, with the standard's Windows drive letter rules."""
    url = _Url("file", host="")
    base = base if base is not None and base.scheme == "file" else None
    if text[:1] in ("/", "\\") and text[1:2] in ("/", "\\"):
        return _parse_file_host(url, text[2:])
    if text[:1] in ("/", "\\"):
        if base is not None:
            url.host = base.host
            drive = base.path[0] if base.path else ""
            if _DRIVE_LETTER.fullmatch(drive) and drive[1] == ":":
                if not _DRIVE_LETTER_START.match(text[1:]):
                    url.path = [drive]
        return _parse_path(url, text[1:])
    if base is None:
        return _parse_path(url, text)

    url.host, url.path, url.query = base.host, list(base.path), base.query
    if text == "" or text[0] in "?#":
        return _parse_query_and_fragment(url, text)
    url.query = None
    if _DRIVE_LETTER_START.match(text):
        url.path = []
    else:
        _shorten_path(url)
    return _parse_path(url, text)


def _parse_file_host(url: _Url, text: str) -> _Url | None:
    end = _find(_END_OF_SPECIAL_AUTHORITY, text)
    host = text[:end]
    if _DRIVE_LETTER.fullmatch(host):
        return _parse_path(url, text)
    if host:
        url.host = _parse_host(host, True)
        if url.host is None:
            return None
        url.host = "" if url.host == "localhost" else url.host
    rest = text[end:]
    return _parse_path(url, rest[1:] if rest[:1] in ("/", "\\") else rest)


def _parse_path(url: _Url, text: str) -> _Url | None:
    """Append the path segments of `text` to `url`, then parse what follows."""
    assert isinstance(url.path, list)
    end = _find(_PATH_END, text)
    separators = _SPECIAL_SEPARATORS if url.is_special else _SEPARATORS
    segments = separators.split(text[:end])
    for index, segment in enumerate(segments):
        segment = _encode(segment, _PATH_SET)
        dots = _DOT_SEGMENTS.get(segment.lower(), 0)
        if dots == 2:
            _shorten_path(url)
        if dots and index == len(segments) - 1:
            url.path.append("")  # a final dot segment leaves a trailing slash
        elif not dots:
            is_first = url.scheme == "file" and not url.path
            if is_first and _DRIVE_LETTER.fullmatch(segment):
                segment = segment[0] + ":"
            url.path.append(segment)
    return _parse_query_and_fragment(url, text[end:])


def _shorten_path(url: _Url) -> None:
    assert isinstance(url.path, list)
    only = url.path[0] if len(url.path) == 1 else ""
    if url.scheme == "file" and _DRIVE_LETTER.fullmatch(only) and only[1] == ":":
        return
    if url.path:
        url.path.pop()


def _parse_opaque(url: _Url, text: str) -> _Url | None:
    end = _find(_PATH_END, text)
    path = _encode(text[:end], _C0)
    # A space is kept as is, unless a query or fragment follows it directly.
    if end < len(text) and path.endswith(" "):
        path = path[:-1] + "%20"
    url.path = path
    return _parse_query_and_fragment(url, text[end:])


def _parse_query_and_fragment(url: _Url, text: str) -> _Url:
    """Set the query and fragment from `text`, which is empty or starts with ?/#."""
    if text.startswith("?"):
        query, hash_sign, fragment = text[1:].partition("#")
        query_set = _SPECIAL_QUERY_SET if url.is_special else _QUERY_SET
        url.query = _encode(query, query_set)
        text = hash_sign + fragment
    if text.startswith("#"):
        url.fragment = _encode(text[1:], _FRAGMENT_SET)
    return url


def _parse_host(text: str, is_special: bool) -> str | None:
    if text.startswith("["):
        return _parse_ipv6(text[1:-1]) if text.endswith("]") else None
    if not is_special:
        return None if _FORBIDDEN_HOST.intersection(text) else _encode(text, _C0)
    domain = unquote_to_bytes(text).decode("utf-8", "replace")
    labels = [_label_to_ascii(label) for label in _LABEL_DOTS.split(domain)]
    if None in labels:
        return None
    host = ".".join(label for label in labels if label is not None)
    if not host or _FORBIDDEN_DOMAIN.intersection(host):
        return None
    return _parse_ipv4(host) if _ends_in_number(host) else host


def _label_to_ascii(label: str) -> str | None:
    # UTS #46 maps as IDNA 2003's nameprep does, except that it keeps ß and ς.
    if label.isascii():
        return label.lower()
    try:
        parts = _KEPT_BY_UTS46.split(label)
        mapped = "".join(
            part if _KEPT_BY_UTS46.fullmatch(part) else encodings.idna.nameprep(part)
            for part in parts
        )
    except UnicodeError:
        return None
    if mapped.isascii():
        return mapped.lower()
    if mapped.startswith("xn--"):
        return None
    return "xn--" + mapped.encode("punycode").decode("ascii").lower()


def _ends_in_number(host: str) -> bool:
    labels = host.split(".")
    last = labels[-2] if labels[-1] == "" and len(labels) > 1 else labels[-1]
    return bool(re.fullmatch(_DIGITS[10], last)) or _ipv4_number(last) is not None


def _ipv4_number(text: str) -> int | None:
    radix = 16 if text[:2] in ("0x", "0X") else 8 if text[:1] == "0" else 10
    digits = text[2:] if radix == 16 else text[1:] if radix == 8 else text
    if text and not digits:
        return 0
    return int(digits, radix) if re.fullmatch(_DIGITS[radix], digits) else None


def _parse_ipv4(host: str) -> str | None:
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or None in numbers:
        return None
    *leading, last = [number or 0 for number in numbers]
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(number << (24 - 8 * i) for i, number in enumerate(leading))
    return str(ipaddress.IPv4Address(value))


def _parse_ipv6(text: str) -> str | None:
    if "%" in text:
        return None
    try:
        value = int(ipaddress.IPv6Address(text))
    except ValueError:
        return None
    pieces = [format(value >> (112 - 16 * i) & 0xFFFF, "x") for i in range(8)]
    # The first longest run of two or more zero pieces is written as `::`.
    zeros = "".join("0" if piece == "0" else "1" for piece in pieces)
    runs = [match.span() for match in re.finditer("00+", zeros)]
    if not runs:
        return "[" + ":".join(pieces) + "]"
    start, end = max(runs, key=lambda span: span[1] - span[0])
    return "[" + ":".join(pieces[:start]) + "::" + ":".join(pieces[end:]) + "]"


def _encode(text: str, encode_set: frozenset[str]) -> str:
    """Percent-encode, as UTF-8, the characters of `encode_set` and above `~`."""
    return "".join(
        char
        if char <= "~" and char not in encode_set
        else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


def _find(stops: re.Pattern[str], text: str) -> int:
    found = stops.search(text)
    return len(text) if found is None else found.start()
