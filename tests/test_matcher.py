"""Tests for `url_matcher`: Playwright's URL rules, compiled once per pattern.

Every answer is also checked against Playwright's own `url_matches`, imported
from its private package here as the oracle (the package itself never does).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright._impl.errors import Error as PlaywrightError
from playwright._impl.isomorphic.url_match import resolve_glob_base, url_matches

from locust_browser._matcher import url_matcher

SHOP = "http://shop.test"

# (pattern, base_url, url, expected)
CASES: list[tuple[str | re.Pattern[str], str | None, str, bool]] = [
    # Relative globs resolve against the base URL, as a browser resolves links.
    ("/api/items", SHOP, f"{SHOP}/api/items", True),
    ("/api/items", f"{SHOP}/app/page", f"{SHOP}/api/items", True),
    ("/api/items", None, f"{SHOP}/api/items", False),
    ("api/items", f"{SHOP}/app/", f"{SHOP}/app/api/items", True),
    ("api/items", f"{SHOP}/app", f"{SHOP}/api/items", True),
    ("./x", f"{SHOP}/a/b", f"{SHOP}/a/x", True),
    ("../x", f"{SHOP}/a/b/c", f"{SHOP}/a/x", True),
    ("../x", f"{SHOP}/a/b/c", f"{SHOP}/a/b/x", False),
    ("/api/*", SHOP, f"{SHOP}/api/items", True),
    ("/a b", SHOP, f"{SHOP}/a%20b", True),
    ("http://shop.test/a/../b", None, f"{SHOP}/b", True),
    ("/x", "HTTP://SHOP.TEST:80", f"{SHOP}/x", True),
    # `*` stays within a segment, `**` crosses segments.
    ("**/api/*", None, f"{SHOP}/v1/api/items", True),
    ("**/api/*", None, f"{SHOP}/api/", True),
    ("**/api/*", None, f"{SHOP}/api/items/1", False),
    ("**/api/**", None, f"{SHOP}/api/items/1", True),
    ("**/*.js", None, f"{SHOP}/static/app.js", True),
    ("**/*.js", None, f"{SHOP}/static/app.json", False),
    ("**/*.js", SHOP, f"{SHOP}/app.js", True),
    # `**/` at the start needs a slash; right after a slash it may match nothing.
    ("**/x", None, f"{SHOP}/x", True),
    ("**/x", None, "x", False),
    ("http://shop.test/**/x", None, f"{SHOP}/x", True),
    ("http://shop.test/**/x", None, f"{SHOP}/a/b/x", True),
    ("/**/x", SHOP, f"{SHOP}/x", True),
    ("http://shop.test/a**/x", None, f"{SHOP}/ab/c/x", True),
    ("http://shop.test/a**/x", None, f"{SHOP}/a/x", True),
    # `{a,b}` is an alternation, a comma outside braces is a comma.
    ("**/{cart,checkout}", None, f"{SHOP}/checkout", True),
    ("**/{cart,checkout}", None, f"{SHOP}/wishlist", False),
    ("**/api/{items,orders}/*", None, f"{SHOP}/api/orders/7", True),
    ("**/a,b", None, f"{SHOP}/a,b", True),
    ("**/{,x}y", None, f"{SHOP}/y", True),
    # `\` makes the next character literal; `?` is always literal.
    ("**/a\\*b", None, f"{SHOP}/a*b", True),
    ("**/a\\*b", None, f"{SHOP}/axb", False),
    ("**/\\{a\\}", None, f"{SHOP}/{{a}}", True),
    ("**/q\\?x", None, f"{SHOP}/q?x", True),
    ("**/q?x", None, f"{SHOP}/qax", False),
    ("**/end\\", None, f"{SHOP}/end\\", True),
    ("/q\\?x=*", SHOP, f"{SHOP}/q?x=1", True),
    # Query strings.
    ("**/search?q=*", None, f"{SHOP}/search?q=shoes", True),
    ("**/search?q=*", None, f"{SHOP}/searchXq=shoes", False),
    ("**/search?q=*", None, f"{SHOP}/search?q=a/b", False),
    ("/search?q=*", SHOP, f"{SHOP}/search?q=shoes", True),
    ("/search", SHOP, f"{SHOP}/search?q=shoes", False),
    # Ports: default ones are dropped, others must match.
    ("http://shop.test:8080/api", None, f"{SHOP}:8080/api", True),
    ("http://shop.test:8080/api", None, f"{SHOP}/api", False),
    ("http://shop.test:80/api", None, f"{SHOP}/api", True),
    ("https://shop.test:443/", None, "https://shop.test/", True),
    ("/api", "http://shop.test:8089", "http://shop.test:8089/api", True),
    ("http://shop.test:*/api", None, f"{SHOP}:8089/api", True),
    # Scheme and host are case-insensitive, the path is not.
    ("HTTP://Shop.TEST/API", None, f"{SHOP}/API", True),
    ("HTTP://Shop.TEST/API", None, f"{SHOP}/api", False),
    ("http://*.SHOP.test/", None, "http://cdn.shop.test/", True),
    ("http://bücher.test/", None, "http://xn--bcher-kva.test/", True),
    # A globbed scheme.
    ("http*://shop.test/**", None, "https://shop.test/a", True),
    ("http*://shop.test/**", None, f"{SHOP}/a", True),
    ("http*://shop.test/**", None, "ws://shop.test/a", False),
    ("{http,https}://shop.test/", None, "https://shop.test/", True),
    # A bare origin gains the trailing slash of its empty path.
    ("http://shop.test", None, f"{SHOP}/", True),
    ("http://shop.test", None, SHOP, False),
    ("http://shop.test/", None, SHOP, False),
    # Globs that are not resolved.
    ("about:blank", SHOP, "about:blank", True),
    ("data:**", SHOP, "data:text/plain,hi", True),
    ("*/x", SHOP, f"{SHOP}/x", False),
    ("", SHOP, "anything at all", True),
    # A regex is searched, not anchored.
    (re.compile(r"/api/items/\d+"), None, f"{SHOP}/api/items/42?x=1", True),
    (re.compile(r"/api/items/\d+$"), None, f"{SHOP}/api/items/42?x=1", False),
    (re.compile("^/api"), SHOP, f"{SHOP}/api", False),
    (re.compile("SHOP", re.IGNORECASE), None, f"{SHOP}/", True),
]

INVALID_GLOBS = [
    ("**/api/{a,{b}", "nested '{' is not supported"),
    ("**/api/a}", "unmatched '}'"),
    ("**/api/{a,b", "unmatched '{'"),
    ("/api/{a", "unmatched '{'"),
]

# Pieces for generated globs and URLs: URL syntax and every glob token.
GLOB_STARTS = ["", "/", "./", "../", "http://h", "HTTP://H:80", "http*://h", "//h"]
GLOB_PIECES = ["/", "*", "**", "api", "{a,b}", "?", ".", "..", "x", "a", ","]
GLOB_PIECES += ["\\*", "\\?", "\\{", "\\\\", "\\", "{", "}", "=", "#", ":8080"]
# One way to spell each piece in a URL it matches; other pieces spell themselves.
SPELLINGS = {"*": ["", "a", "api"], "**": ["", "a/", "a/b", "x"], "{a,b}": ["a", "b"]}
SPELLINGS |= {"\\*": ["*"], "\\?": ["?"], "\\{": ["{"], "\\\\": ["\\"]}
SPELLINGS |= {"http*://h": ["http://h", "https://h"]}
URL_PIECES = ["/", "api", "a", "b", "x", "?", ".", ",", "*", "{", "\\", "=1", "#"]
ORIGINS = ["http://h", "https://h", "http://h:8080", "ws://h"]
BASE_URLS = [None, "", "http://h", "http://h/", "http://h/app/", "HTTP://H:80/a/b/c"]
BASE_URLS += ["https://h:8080/app/page?x=1#top", "foo:opaque", "file:///srv/site/"]
# Characters that the URL parser treats specially, for resolution edge cases.
ODD_PIECES = ["/", "\\", ":", "@", "?", "#", ".", "..", "%2e", "%41", "[::1]", " "]
ODD_PIECES += ["é", "ß", "H", "0x7f.1", "80", "*", "{a,b}", "c:", "|", "'", "`"]


@pytest.mark.parametrize(("pattern", "base_url", "url", "expected"), CASES)
def test_pattern_matches_as_documented(
    pattern: str | re.Pattern[str], base_url: str | None, url: str, expected: bool
) -> None:
    assert url_matcher(pattern, base_url=base_url)(url) is expected


@pytest.mark.parametrize(("pattern", "base_url", "url", "expected"), CASES)
def test_pattern_matches_as_playwright_does(
    pattern: str | re.Pattern[str], base_url: str | None, url: str, expected: bool
) -> None:
    assert url_matcher(pattern, base_url=base_url)(url) is url_matches(
        base_url, url, pattern
    )


def test_relative_glob_resolves_against_base_url() -> None:
    matches = url_matcher("../api/*", base_url="https://Shop.test:443/app/page/")

    assert matches("https://shop.test/app/api/items")
    assert not matches("https://shop.test/api/items")


def test_relative_glob_without_base_url_is_matched_as_written() -> None:
    matches = url_matcher("/api/*")

    assert matches("/api/items")
    assert not matches(f"{SHOP}/api/items")


def test_regex_pattern_is_searched_anywhere_in_the_url() -> None:
    matches = url_matcher(re.compile("items"), base_url=SHOP)

    assert matches(f"{SHOP}/api/items?page=2")
    assert not matches(f"{SHOP}/api/orders")


@pytest.mark.parametrize(("glob", "problem"), INVALID_GLOBS)
def test_invalid_glob_raises_value_error_naming_it(glob: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        url_matcher(glob, base_url=SHOP)

    assert repr(glob) in str(raised.value)
    assert str(raised.value).endswith(problem)
    with pytest.raises(PlaywrightError):
        url_matches(SHOP, f"{SHOP}/api/a", glob)


def test_invalid_glob_message_names_pattern_and_problem() -> None:
    with pytest.raises(ValueError) as raised:
        url_matcher("**/api/{a,{b}")

    assert str(raised.value) == (
        "invalid glob '**/api/{a,{b}': nested '{' is not supported"
    )


def test_invalid_relative_glob_message_shows_its_resolution() -> None:
    with pytest.raises(ValueError) as raised:
        url_matcher("/api/{a", base_url=SHOP)

    assert str(raised.value) == (
        "invalid glob '/api/{a' (resolved to 'http://shop.test/api/{a'): unmatched '{'"
    )


@pytest.mark.parametrize(
    "pattern", [5, None, b"**/api", re.compile(b"api"), ["**/api"], print]
)
def test_non_glob_non_regex_raises_type_error_naming_argument(pattern: Any) -> None:
    with pytest.raises(TypeError) as raised:
        url_matcher(pattern)

    message = str(raised.value)
    assert message.startswith("url_or_predicate must be a glob string, ")
    assert f"not {type(pattern).__name__}: {pattern!r}" in message


def test_type_error_message_is_exact_and_names_given_argument() -> None:
    with pytest.raises(TypeError) as raised:
        url_matcher(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError) as renamed:
        url_matcher(5.0, argument="url")  # type: ignore[arg-type]

    assert str(raised.value) == (
        "url_or_predicate must be a glob string, a compiled regex or a callable, "
        "not int: 5"
    )
    assert str(renamed.value).startswith("url must be ")


def test_predicate_compiles_nothing_per_url(monkeypatch: pytest.MonkeyPatch) -> None:
    matches = url_matcher("/api/{items,orders}/*", base_url=SHOP)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a regex was compiled while matching")

    monkeypatch.setattr(re, "compile", refuse)
    monkeypatch.setattr(re, "_compile", refuse)
    assert matches(f"{SHOP}/api/orders/7")
    assert not matches(f"{SHOP}/api/carts/7")


@st.composite
def globs_and_urls(
    draw: st.DrawFn,
) -> tuple[str, str | None, list[str]]:
    """Draw a glob, a base URL, and URLs of which some spell the glob out."""
    start = draw(st.sampled_from(GLOB_STARTS))
    pieces = draw(st.lists(st.sampled_from(GLOB_PIECES), max_size=7))
    base_url = draw(st.sampled_from(BASE_URLS))

    # A URL that spells the glob out, resolved as Playwright resolves the glob,
    # makes matches common.
    spelled = [draw(st.sampled_from(SPELLINGS.get(p, [p]))) for p in [start, *pieces]]
    spelled_url = resolve_glob_base(base_url, "".join(spelled))
    random_url = st.tuples(
        st.sampled_from(ORIGINS),
        st.lists(st.sampled_from(URL_PIECES), max_size=7).map("".join),
    ).map("".join)
    urls = [spelled_url, *draw(st.lists(random_url, min_size=1, max_size=3))]
    return start + "".join(pieces), base_url, urls


def assert_agrees_with_playwright(
    glob: str, base_url: str | None, urls: list[str]
) -> None:
    try:
        matches = url_matcher(glob, base_url=base_url)
    except ValueError:
        for url in urls:
            with pytest.raises(PlaywrightError):
                url_matches(base_url, url, glob)
        return
    for url in urls:
        assert matches(url) is url_matches(base_url, url, glob), (glob, url)


@settings(max_examples=400, deadline=None)
@given(globs_and_urls())
def test_generated_glob_agrees_with_playwright(
    case: tuple[str, str | None, list[str]],
) -> None:
    assert_agrees_with_playwright(*case)


@settings(max_examples=300, deadline=None)
@given(
    glob=st.lists(st.sampled_from(ODD_PIECES), max_size=8).map("".join),
    base_url=st.sampled_from(BASE_URLS),
    urls=st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=2),
)
def test_glob_with_url_syntax_resolves_as_playwright_does(
    glob: str, base_url: str | None, urls: list[str]
) -> None:
    # The URL spelled like Playwright's resolution of the glob is where a
    # difference in resolution would show.
    urls.append(resolve_glob_base(base_url, glob))
    assert_agrees_with_playwright(glob, base_url, urls)
