"""The `like` / `notLike` condition: case-insensitive, `*` matches any run of characters, nothing else is special.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions
("When using the like and notLike conditions, you provide a wildcard character (`*`) in the value"; `?` is a
wildcard only for `match`). A regular expression with one `.*` per star backtracks exponentially on a
pattern with many stars, so the match is greedy over the literal pieces instead: the first piece must be
a prefix, the last a suffix, and each middle piece is found leftmost after the previous one. Leftmost is
always safe for `*`-only patterns, so there is never a reason to go back: at most one `str.find` per piece,
each scanning the text once - linear in the text whatever the pattern.
"""

from __future__ import annotations

from collections.abc import Callable


def like_pieces(pattern: str) -> list[str]:
    """The literal pieces between the stars, lower-cased (`a*b*` -> ['a', 'b', ''])."""
    return pattern.lower().split("*")


def match_pieces(pieces: list[str], text: str, steps: list[int] | None = None) -> bool:
    """Whether lower-cased `text` matches the pieces of a like pattern; `steps` (if given) counts the
    substring operations done, so tests can assert the bound without timing anything."""
    count = 0
    first, last = pieces[0], pieces[-1]
    if len(pieces) == 1:
        ok = text == first
        count = 1
    else:
        ok = len(text) >= len(first) + len(last) and text.startswith(first) and text.endswith(last)
        count = 2
        pos, end = len(first), len(text) - len(last)
        for piece in pieces[1:-1]:
            if not ok:
                break
            if not piece:
                continue
            count += 1
            at = text.find(piece, pos, end)
            if at < 0:
                ok = False
            else:
                pos = at + len(piece)
    if steps is not None:
        steps[0] += count
    return ok


def like_matcher(pattern: str) -> Callable[[str], bool]:
    """A test `text -> bool` for one pattern (case-insensitive: pass the text in any case)."""
    pieces = like_pieces(pattern)
    if len(pieces) == 1:
        exact = pieces[0]
        return lambda s: s.lower() == exact
    if len(pieces) == 2:
        pre, suf = pieces
        if not suf:
            return lambda s: s.lower().startswith(pre)
        if not pre:
            return lambda s: s.lower().endswith(suf)
    if len(pieces) == 3 and not pieces[0] and not pieces[2]:
        mid = pieces[1]
        return lambda s: mid in s.lower()
    return lambda s: match_pieces(pieces, s.lower())


def like(text: str, pattern: str) -> bool:
    """`text like pattern`, as Azure Policy evaluates it."""
    return like_matcher(pattern)(text)
