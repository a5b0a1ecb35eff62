"""Parse and resolve URLs as a browser's `new URL(text, base)` does.

Design note: this is the basic URL parser of the WHATWG URL Standard, reduced
to what the serialized URL (`href`) and its origin need. `urllib.parse` follows
RFC 3986 and disagrees with browsers on case, default ports, dot segments,
backslashes and percent-encoding, all of which show in a resolved URL. Instead
of the standard's state machine, each `_parse_*` helper takes the text that is
left after one part and returns the URL, or None where the standard says the
parse fails; validation errors that do not fail the parse are not reported.
Hosts are mapped to ASCII by IDNA 2003's nameprep, as UTS #46 maps them except
that it keeps ß and ς; where the two differ otherwise, nameprep wins, so a host
with a code point that Unicode 3.2 did not assign fails to parse here though a
browser may accept it. Queries are always encoded as UTF-8.
"""

from __future__ import annotations

import encodings.idna
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

__all__ = ["URL", "parse_url"]

# Special schemes with their default ports.
_DEFAULT_PORTS: dict[str, int | None] = dict(
    ftp=21, file=None, http=80, https=443, ws=80, wss=443
)
# The percent-encode sets; code points above U+007E are always encoded.
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
_NORMALIZED_DRIVE_LETTER = re.compile("[A-Za-z]:")
_DRIVE_LETTER_START = re.compile(r"[A-Za-z][:|](?:[/\\?#]|\Z)")
_LABEL_DOTS = re.compile("[.\u3002\uff0e\uff61]")
_KEPT_BY_UTS46 = re.compile("([\u00df\u03c2])")
_DOT_SEGMENTS = {".": 1, "%2e": 1, "..": 2, ".%2e": 2, "%2e.": 2, "%2e%2e": 2}
_DIGITS = {8: "[0-7]+", 10: "[0-9]+", 16: "[0-9A-Fa-f]+"}  # by radix


@dataclass
class URL:
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
        """Whether the scheme is one of the standard's special schemes."""
        return self.scheme in _DEFAULT_PORTS

    def href(self) -> str:
        """Serialize the URL as a browser's `URL.href` does."""
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
        """Serialize the URL's origin as a browser's `URL.origin` does."""
        if self.scheme == "blob" and isinstance(self.path, str):
            inner = _parse(self.path, None)
            is_web = inner is not None and inner.scheme in ("http", "https")
            return inner.origin() if inner is not None and is_web else "null"
        if self.scheme in ("ftp", "http", "https", "ws", "wss"):
            port = "" if self.port is None else f":{self.port}"
            return f"{self.scheme}://{self.host or ''}{port}"
        return "null"


def parse_url(text: str, base_text: str | None = None) -> URL | None:
    """Parse like `new URL(text, base)`; return None where that throws."""
    if base_text is None:
        return _parse(text, None)
    base = _parse(base_text, None)
    return None if base is None else _parse(text, base)


def _parse(text: str, base: URL | None) -> URL | None:
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.strip(_STRIPPED).translate(_DROPPED)
    scheme = _SCHEME.match(text)
    if scheme is None:
        return _parse_schemeless(text, base)

    url, rest = URL(scheme.group()[:-1].lower()), text[scheme.end() :]
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


def _parse_schemeless(text: str, base: URL | None) -> URL | None:
    if base is None:
        return None
    if isinstance(base.path, str):
        if not text.startswith("#"):
            return None
        url = URL(base.scheme, path=base.path, query=base.query)
        return _parse_query_and_fragment(url, text)
    if base.scheme == "file":
        return _parse_file(text, base)
    return _parse_relative(text, base)


def _parse_relative(text: str, base: URL) -> URL | None:
    """Resolve schemeless `text` against a base URL that has a host or path."""
    url = URL(base.scheme)
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


def _parse_authority(url: URL, text: str) -> URL | None:
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


def _parse_file(text: str, base: URL | None) -> URL | None:
    """Parse what follows `file:`, with the standard's Windows drive letter rules."""
    url = URL("file", host="")
    base = base if base is not None and base.scheme == "file" else None
    if text[:1] in ("/", "\\") and text[1:2] in ("/", "\\"):
        return _parse_file_host(url, text[2:])
    if text[:1] in ("/", "\\"):
        if base is not None:
            url.host = base.host
            drive = base.path[0] if base.path else ""
            is_drive = _NORMALIZED_DRIVE_LETTER.fullmatch(drive) is not None
            if is_drive and not _DRIVE_LETTER_START.match(text[1:]):
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


def _parse_file_host(url: URL, text: str) -> URL | None:
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


def _parse_path(url: URL, text: str) -> URL | None:
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


def _shorten_path(url: URL) -> None:
    assert isinstance(url.path, list)
    only = url.path[0] if len(url.path) == 1 else ""
    if url.scheme == "file" and _NORMALIZED_DRIVE_LETTER.fullmatch(only):
        return
    if url.path:
        url.path.pop()


def _parse_opaque(url: URL, text: str) -> URL | None:
    end = _find(_PATH_END, text)
    path = _encode(text[:end], _C0)
    # A space is kept as is, unless a query or fragment follows it directly.
    if end < len(text) and path.endswith(" "):
        path = path[:-1] + "%20"
    url.path = path
    return _parse_query_and_fragment(url, text[end:])


def _parse_query_and_fragment(url: URL, text: str) -> URL:
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


def _ipv4_labels(host: str) -> list[str]:
    """Split `host` at its dots, ignoring one trailing dot."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    return labels


def _ends_in_number(host: str) -> bool:
    last = _ipv4_labels(host)[-1]
    return bool(re.fullmatch(_DIGITS[10], last)) or _ipv4_number(last) is not None


def _ipv4_number(text: str) -> int | None:
    radix = 16 if text[:2] in ("0x", "0X") else 8 if text[:1] == "0" else 10
    digits = text[2:] if radix == 16 else text[1:] if radix == 8 else text
    if text and not digits:
        return 0
    return int(digits, radix) if re.fullmatch(_DIGITS[radix], digits) else None


def _parse_ipv4(host: str) -> str | None:
    numbers = [_ipv4_number(label) for label in _ipv4_labels(host)]
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
