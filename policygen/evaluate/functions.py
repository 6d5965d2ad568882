"""ARM template functions as Azure Policy evaluates them (the 50 the built-ins use, plus the rest of the
pure ARM library that policy rules may call).

Pure functions take evaluated arguments and raise `EvaluationFailure` the way ARM errors (wrong types,
out-of-range indexes, a missing property); Azure turns such a failure into an implicit deny.
Scope-dependent functions (`field`, `current`, `requestContext`, …) live in `expr.py`.
"""

from __future__ import annotations

import base64 as _b64
import ipaddress
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from policygen.evaluate.errors import EvaluationFailure
from policygen.evaluate.values import MISSING, get_ci, type_name

PURE: dict[str, Callable[..., Any]] = {}


def fn(*names: str) -> Callable:
    def deco(f: Callable) -> Callable:
        for n in names:
            PURE[n] = f
        return f

    return deco


def fail(msg: str) -> EvaluationFailure:
    return EvaluationFailure(msg)


MAX_STRING = 131_072  # evaluation-time limit on a string a function returns (RULE page; exceeding = deny)


def _limit(s: str, name: str) -> str:
    if len(s) > MAX_STRING:
        raise fail(f"{name}(): the result exceeds the {MAX_STRING:,}-character limit of policy evaluation")
    return s


MAX_NODES = 32_768  # evaluation-time limit on the members of an array a function returns (same page)


def _nodes(v: list, name: str) -> list:
    if len(v) > MAX_NODES:
        raise fail(f"{name}(): {len(v):,} members: over the {MAX_NODES:,}-node limit of policy evaluation")
    return v


def _need(name: str, args: tuple, lo: int, hi: int | None = None) -> None:
    if len(args) < lo or (hi is not None and len(args) > hi):
        want = f"{lo}" if hi == lo else f"{lo}..{hi if hi is not None else 'n'}"
        raise fail(f"{name}() takes {want} arguments, got {len(args)}")


def _int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise fail(f"{name}(): expected an integer, got {type_name(v)}")
    return int(v)


def _str(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise fail(f"{name}(): expected a string, got {type_name(v)}")
    return v


def to_string(v: Any) -> str:
    """ARM `string()`: booleans as True/False (.NET), containers as compact JSON."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None or v is MISSING:
        return ""
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# ---- arithmetic -------------------------------------------------------------------------------------


@fn("add")
def f_add(*a: Any) -> int:
    _need("add", a, 2, 2)
    return _int("add", a[0]) + _int("add", a[1])


@fn("sub")
def f_sub(*a: Any) -> int:
    _need("sub", a, 2, 2)
    return _int("sub", a[0]) - _int("sub", a[1])


@fn("mul")
def f_mul(*a: Any) -> int:
    _need("mul", a, 2, 2)
    return _int("mul", a[0]) * _int("mul", a[1])


@fn("div")
def f_div(*a: Any) -> int:
    _need("div", a, 2, 2)
    x, y = _int("div", a[0]), _int("div", a[1])
    if y == 0:
        raise fail("div(): division by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q  # .NET truncates toward zero


@fn("mod")
def f_mod(*a: Any) -> int:
    _need("mod", a, 2, 2)
    x, y = _int("mod", a[0]), _int("mod", a[1])
    if y == 0:
        raise fail("mod(): division by zero")
    return x - f_div(x, y) * y


def _flat_numbers(name: str, a: tuple) -> list[int]:
    vals = list(a[0]) if len(a) == 1 and isinstance(a[0], list) else list(a)
    if not vals:
        raise fail(f"{name}(): needs at least one value")
    return [_int(name, v) for v in vals]


@fn("max")
def f_max(*a: Any) -> int:
    return max(_flat_numbers("max", a))


@fn("min")
def f_min(*a: Any) -> int:
    return min(_flat_numbers("min", a))


@fn("int")
def f_int(*a: Any) -> int:
    _need("int", a, 1, 1)
    v = a[0]
    if isinstance(v, bool):
        raise fail("int(): cannot convert a boolean")
    if isinstance(v, int | float):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            raise fail(f"int(): {v!r} is not an integer") from None
    raise fail(f"int(): cannot convert {type_name(v)}")


@fn("float")
def f_float(*a: Any) -> float | int:
    _need("float", a, 1, 1)
    if isinstance(a[0], int) and not isinstance(a[0], bool):
        return a[0]  # float(5) is the number 5: it must compare equal to 5 (an `equals` reads 5.0 as "5.0")
    if isinstance(a[0], bool) or not isinstance(a[0], str | float):
        raise fail(f"float(): expected a string or a number, got {type_name(a[0])}")
    try:
        f = float(a[0])
    except (TypeError, ValueError):
        raise fail(f"float(): cannot convert {a[0]!r}") from None
    # .NET prints an integral double without a fraction ("5"), which is how conditions compare numbers
    return int(f) if f.is_integer() else f


@fn("range")
def f_range(*a: Any) -> list[int]:
    _need("range", a, 2, 2)
    start, count = _int("range", a[0]), _int("range", a[1])
    if count < 0:
        raise fail("range(): count must be non-negative")
    return _nodes(list(range(start, start + min(count, MAX_NODES + 1))), "range")


# ---- logical / comparison ------------------------------------------------------------------------


def _bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise fail(f"{name}(): expected a boolean, got {type_name(v)}")


@fn("and")
def f_and(*a: Any) -> bool:
    _need("and", a, 2)
    return all(_bool("and", v) for v in a)


@fn("or")
def f_or(*a: Any) -> bool:
    _need("or", a, 2)
    return any(_bool("or", v) for v in a)


@fn("not")
def f_not(*a: Any) -> bool:
    _need("not", a, 1, 1)
    return not _bool("not", a[0])


@fn("bool")
def f_bool(*a: Any) -> bool:
    _need("bool", a, 1, 1)
    v = a[0]
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "1", "0"):
        return v.strip().lower() in ("true", "1")
    raise fail(f"bool(): cannot convert {v!r}")


@fn("true")
def f_true(*a: Any) -> bool:
    return True


@fn("false")
def f_false(*a: Any) -> bool:
    return False


@fn("null")
def f_null(*a: Any) -> None:
    return None


def strict_equals(a: Any, b: Any) -> bool:
    """ARM `equals()`: JSON deep equality, case-sensitive strings, 1 == 1.0, object keys ignore case."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equals(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        lb = {str(k).lower(): v for k, v in b.items()}
        return all(str(k).lower() in lb and strict_equals(v, lb[str(k).lower()]) for k, v in a.items())
    return type(a) is type(b) and a == b


@fn("equals")
def f_equals(*a: Any) -> bool:
    _need("equals", a, 2, 2)
    return strict_equals(a[0], a[1])


def _order(name: str, a: tuple) -> int:
    _need(name, a, 2, 2)
    x, y = a
    if (
        isinstance(x, int | float)
        and not isinstance(x, bool)
        and isinstance(y, int | float)
        and not isinstance(y, bool)
    ):
        return (x > y) - (x < y)
    if isinstance(x, str) and isinstance(y, str):
        return (x > y) - (x < y)  # ARM compares strings ordinally
    raise fail(f"{name}(): cannot compare {type_name(x)} with {type_name(y)}")


@fn("less")
def f_less(*a: Any) -> bool:
    return _order("less", a) < 0


@fn("lessorequals")
def f_lessorequals(*a: Any) -> bool:
    return _order("lessOrEquals", a) <= 0


@fn("greater")
def f_greater(*a: Any) -> bool:
    return _order("greater", a) > 0


@fn("greaterorequals")
def f_greaterorequals(*a: Any) -> bool:
    return _order("greaterOrEquals", a) >= 0


@fn("coalesce")
def f_coalesce(*a: Any) -> Any:
    _need("coalesce", a, 1)
    for v in a:
        if v is not None and v is not MISSING:
            return v
    return None


# ---- arrays, objects, strings ----------------------------------------------------------------------


@fn("array")
def f_array(*a: Any) -> list:
    _need("array", a, 1, 1)
    return a[0] if isinstance(a[0], list) else [a[0]]


@fn("createarray")
def f_createarray(*a: Any) -> list:
    return list(a)


@fn("createobject")
def f_createobject(*a: Any) -> dict:
    if len(a) % 2:
        raise fail("createObject(): needs key/value pairs")
    out: dict = {}
    for i in range(0, len(a), 2):
        out[_str("createObject", a[i])] = a[i + 1]
    return out


@fn("concat")
def f_concat(*a: Any) -> Any:
    if a and all(isinstance(v, list) for v in a):
        return _nodes([x for v in a for x in v], "concat")
    if any(isinstance(v, list | dict) for v in a):
        raise fail("concat(): cannot mix arrays with other values")
    return _limit("".join(to_string(v) for v in a), "concat")


@fn("contains")
def f_contains(*a: Any) -> bool:
    """Strings and arrays compare case-sensitively; object keys case-insensitively (ARM docs)."""
    _need("contains", a, 2, 2)
    container, item = a
    if isinstance(container, str):
        return to_string(item) in container
    if isinstance(container, list):
        return any(strict_equals(x, item) for x in container)
    if isinstance(container, dict):
        return get_ci(container, to_string(item)) is not MISSING
    raise fail(f"contains(): cannot search in {type_name(container)}")


@fn("empty")
def f_empty(*a: Any) -> bool:
    _need("empty", a, 1, 1)
    v = a[0]
    if v is None or v is MISSING:
        return True
    if isinstance(v, str | list | dict):
        return len(v) == 0
    return False


@fn("length")
def f_length(*a: Any) -> int:
    _need("length", a, 1, 1)
    v = a[0]
    if isinstance(v, str | list | dict):
        return len(v)
    raise fail(f"length(): expected a string, array or object, got {type_name(v)}")


@fn("first")
def f_first(*a: Any) -> Any:
    _need("first", a, 1, 1)
    v = a[0]
    if isinstance(v, str):
        return v[:1]
    if isinstance(v, list):
        return v[0] if v else None
    raise fail(f"first(): expected a string or array, got {type_name(v)}")


@fn("last")
def f_last(*a: Any) -> Any:
    _need("last", a, 1, 1)
    v = a[0]
    if isinstance(v, str):
        return v[-1:]
    if isinstance(v, list):
        return v[-1] if v else None
    raise fail(f"last(): expected a string or array, got {type_name(v)}")


@fn("skip")
def f_skip(*a: Any) -> Any:
    _need("skip", a, 2, 2)
    v, n = a[0], max(0, _int("skip", a[1]))
    if isinstance(v, str | list):
        return v[n:]
    raise fail(f"skip(): expected a string or array, got {type_name(v)}")


@fn("take")
def f_take(*a: Any) -> Any:
    _need("take", a, 2, 2)
    v, n = a[0], max(0, _int("take", a[1]))
    if isinstance(v, str | list):
        return v[:n]
    raise fail(f"take(): expected a string or array, got {type_name(v)}")


@fn("union")
def f_union(*a: Any) -> Any:
    _need("union", a, 1)
    if all(isinstance(v, list) for v in a):
        out: list = []
        for v in a:
            for x in v:
                if not any(strict_equals(x, y) for y in out):
                    out.append(x)
        return out
    if all(isinstance(v, dict) for v in a):
        merged: dict = {}
        for v in a:
            merged = _merge(merged, v)
        return merged
    raise fail("union(): arguments must all be arrays or all objects")


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    lower = {k.lower(): k for k in out}
    for k, v in extra.items():
        key = lower.get(k.lower(), k)
        if isinstance(out.get(key), dict) and isinstance(v, dict):
            out[key] = _merge(out[key], v)
        else:
            out[key] = v
            lower[k.lower()] = key
    return out


@fn("shallowmerge")
def f_shallowmerge(*a: Any) -> dict:
    _need("shallowMerge", a, 1, 1)
    out: dict = {}
    for v in a[0] if isinstance(a[0], list) else []:
        if isinstance(v, dict):
            out.update(v)
    return out


@fn("intersection")
def f_intersection(*a: Any) -> Any:
    _need("intersection", a, 2)
    if all(isinstance(v, list) for v in a):
        out: list = []
        for x in a[0]:
            if all(any(strict_equals(x, y) for y in v) for v in a[1:]) and not any(strict_equals(x, y) for y in out):
                out.append(x)
        return out
    if all(isinstance(v, dict) for v in a):
        return {k: x for k, x in a[0].items() if all(k in v and strict_equals(v[k], x) for v in a[1:])}
    raise fail("intersection(): arguments must all be arrays or all objects")


@fn("items")
def f_items(*a: Any) -> list:
    _need("items", a, 1, 1)
    if not isinstance(a[0], dict):
        raise fail("items(): expected an object")
    return [{"key": k, "value": a[0][k]} for k in sorted(a[0], key=str.lower)]


@fn("objectkeys")
def f_objectkeys(*a: Any) -> list:
    _need("objectKeys", a, 1, 1)
    if not isinstance(a[0], dict):
        raise fail("objectKeys(): expected an object")
    return list(a[0])


@fn("json")
def f_json(*a: Any) -> Any:
    _need("json", a, 1, 1)
    try:
        return json.loads(_str("json", a[0]))
    except json.JSONDecodeError as exc:
        raise fail(f"json(): invalid JSON: {exc.msg}") from None


@fn("tryget")
def f_tryget(*a: Any) -> Any:
    """`tryGet(obj, key, …)`: null instead of an error when a key or index is missing."""
    _need("tryGet", a, 2)
    v = a[0]
    for key in a[1:]:
        if isinstance(v, dict) and isinstance(key, str):
            v = get_ci(v, key)
            if v is MISSING:
                return None
        elif isinstance(v, list) and isinstance(key, int) and not isinstance(key, bool):
            if not -len(v) <= key < len(v):
                return None
            v = v[key]
        else:
            return None
    return v


@fn("indexof")
def f_indexof(*a: Any) -> int:
    _need("indexOf", a, 2, 2)
    v, item = a
    if isinstance(v, str):
        return v.lower().find(to_string(item).lower())
    if isinstance(v, list):
        return next((i for i, x in enumerate(v) if strict_equals(x, item)), -1)
    raise fail("indexOf(): expected a string or array")


@fn("lastindexof")
def f_lastindexof(*a: Any) -> int:
    _need("lastIndexOf", a, 2, 2)
    v, item = a
    if isinstance(v, str):
        return v.lower().rfind(to_string(item).lower())
    if isinstance(v, list):
        return next((i for i in range(len(v) - 1, -1, -1) if strict_equals(v[i], item)), -1)
    raise fail("lastIndexOf(): expected a string or array")


@fn("join")
def f_join(*a: Any) -> str:
    _need("join", a, 2, 2)
    if not isinstance(a[0], list):
        raise fail("join(): expected an array")
    return _limit(_str("join", a[1]).join(to_string(x) for x in a[0]), "join")


@fn("split")
def f_split(*a: Any) -> list[str]:
    _need("split", a, 2, 2)
    s = _str("split", a[0])
    seps = a[1] if isinstance(a[1], list) else [a[1]]
    seps = [_str("split", x) for x in seps]
    if not seps or any(x == "" for x in seps):
        return [s]
    return _nodes(re.split("|".join(re.escape(x) for x in seps), s), "split")


@fn("replace")
def f_replace(*a: Any) -> str:
    _need("replace", a, 3, 3)
    return _limit(_str("replace", a[0]).replace(_str("replace", a[1]), _str("replace", a[2])), "replace")


@fn("tolower")
def f_tolower(*a: Any) -> str:
    _need("toLower", a, 1, 1)
    return _str("toLower", a[0]).lower()


@fn("toupper")
def f_toupper(*a: Any) -> str:
    _need("toUpper", a, 1, 1)
    return _str("toUpper", a[0]).upper()


@fn("trim")
def f_trim(*a: Any) -> str:
    _need("trim", a, 1, 1)
    return _str("trim", a[0]).strip()


@fn("startswith")
def f_startswith(*a: Any) -> bool:
    _need("startsWith", a, 2, 2)
    return _str("startsWith", a[0]).lower().startswith(_str("startsWith", a[1]).lower())


@fn("endswith")
def f_endswith(*a: Any) -> bool:
    _need("endsWith", a, 2, 2)
    return _str("endsWith", a[0]).lower().endswith(_str("endsWith", a[1]).lower())


@fn("substring")
def f_substring(*a: Any) -> str:
    _need("substring", a, 2, 3)
    s = _str("substring", a[0])
    start = _int("substring", a[1])
    length = _int("substring", a[2]) if len(a) == 3 else len(s) - start
    if start < 0 or length < 0 or start + length > len(s):
        raise fail(f"substring(): index {start} and length {length} are out of range for {len(s)} characters")
    return s[start : start + length]


@fn("padleft")
def f_padleft(*a: Any) -> str:
    _need("padLeft", a, 2, 3)
    v = a[0]
    if isinstance(v, (list | dict, bool)):
        raise fail("padLeft(): expected a string or integer")
    s = to_string(v)
    width = _int("padLeft", a[1])
    pad = _str("padLeft", a[2]) if len(a) == 3 else " "
    if len(pad) != 1:
        raise fail("padLeft(): the padding character must be a single character")
    if width > MAX_STRING:
        raise fail(f"padLeft(): the result exceeds the {MAX_STRING:,}-character limit of policy evaluation")
    return s.rjust(width, pad)


@fn("string")
def f_string(*a: Any) -> str:
    _need("string", a, 1, 1)
    return to_string(a[0])


_FORMAT_RE = re.compile(r"\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}")


@fn("format")
def f_format(*a: Any) -> str:
    """.NET composite formatting: `{0}`, alignment `{0,5}` and the common `N`/`D`/`X` specifiers."""
    _need("format", a, 1)
    fmt, args = _str("format", a[0]), a[1:]

    def sub(m: re.Match) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        i = int(m.group(1))
        if i >= len(args):
            raise fail(f"format(): index {i} is out of range")
        v, spec = args[i], (m.group(3) or "")
        if spec and isinstance(v, int | float) and not isinstance(v, bool):
            kind, digits = spec[0].upper(), spec[1:]
            if kind == "N":
                text = f"{v:,.{int(digits or 2)}f}"
            elif kind == "D":
                text = str(int(v)).zfill(int(digits or 0))
            elif kind == "X":
                text = format(int(v), "X" if spec[0] == "X" else "x").zfill(int(digits or 0))
            else:
                text = to_string(v)
        else:
            text = to_string(v)
        if m.group(2):
            w = int(m.group(2))
            text = text.rjust(w) if w > 0 else text.ljust(-w)
        return text

    return _limit(_FORMAT_RE.sub(sub, fmt), "format")


@fn("base64")
def f_base64(*a: Any) -> str:
    _need("base64", a, 1, 1)
    return _b64.b64encode(_str("base64", a[0]).encode("utf-8")).decode("ascii")


@fn("base64tostring")
def f_base64tostring(*a: Any) -> str:
    _need("base64ToString", a, 1, 1)
    try:
        return _b64.b64decode(_str("base64ToString", a[0])).decode("utf-8")
    except ValueError:
        raise fail("base64ToString(): invalid base64") from None


@fn("base64tojson")
def f_base64tojson(*a: Any) -> Any:
    return f_json(f_base64tostring(*a))


@fn("uricomponent")
def f_uricomponent(*a: Any) -> str:
    _need("uriComponent", a, 1, 1)
    return urllib.parse.quote(_str("uriComponent", a[0]), safe="")


@fn("uricomponenttostring")
def f_uricomponenttostring(*a: Any) -> str:
    _need("uriComponentToString", a, 1, 1)
    return urllib.parse.unquote(_str("uriComponentToString", a[0]))


@fn("uri")
def f_uri(*a: Any) -> str:
    _need("uri", a, 2, 2)
    return urllib.parse.urljoin(_str("uri", a[0]), _str("uri", a[1]))


@fn("datauri")
def f_datauri(*a: Any) -> str:
    _need("dataUri", a, 1, 1)
    return "data:text/plain;charset=utf8;base64," + f_base64(to_string(a[0]))


@fn("datauritostring")
def f_datauritostring(*a: Any) -> str:
    _need("dataUriToString", a, 1, 1)
    s = _str("dataUriToString", a[0])
    return f_base64tostring(s.split(",", 1)[1]) if "," in s else ""


# ---- hashing --------------------------------------------------------------------------------------

_M32 = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _fmix(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def murmur64(data: bytes, seed: int = 0) -> int:
    """The 64-bit MurmurHash variant ARM's uniqueString() is built on (two 32-bit lanes)."""
    c1, c2 = 0x239B961B, 0xAB0E9789
    h1 = h2 = seed
    n = len(data)
    i = 0
    while i + 7 < n:
        k1 = int.from_bytes(data[i : i + 4], "little")
        k2 = int.from_bytes(data[i + 4 : i + 8], "little")
        k1 = (_rotl((k1 * c1) & _M32, 15) * c2) & _M32
        h1 = ((_rotl(h1 ^ k1, 19) + h2) * 5 + 0x561CCD1B) & _M32
        k2 = (_rotl((k2 * c2) & _M32, 17) * c1) & _M32
        h2 = ((_rotl(h2 ^ k2, 13) + h1) * 5 + 0x0BCAA747) & _M32
        i += 8
    tail = n - i
    if tail > 0:
        k1 = int.from_bytes(data[i : i + min(tail, 4)], "little")
        h1 ^= (_rotl((k1 * c1) & _M32, 15) * c2) & _M32
        if tail > 4:
            k2 = int.from_bytes(data[i + 4 : n], "little")
            h2 ^= (_rotl((k2 * c2) & _M32, 17) * c1) & _M32
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & _M32
    h2 = (h2 + h1) & _M32
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _M32
    h2 = (h2 + h1) & _M32
    return (h2 << 32) | h1


@fn("uniquestring")
def f_uniquestring(*a: Any) -> str:
    """13 base-32 characters of the hash of the arguments joined by '-' (not verified against Azure)."""
    _need("uniqueString", a, 1)
    h = murmur64("-".join(_str("uniqueString", v) for v in a).encode("utf-8"))
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    out = []
    for _ in range(13):
        out.append(alphabet[h >> 59])
        h = (h << 5) & 0xFFFFFFFFFFFFFFFF
    return "".join(out)


@fn("guid")
def f_guid(*a: Any) -> str:
    """Deterministic GUID from the arguments (UUID v5; ARM's exact namespace is not public)."""
    _need("guid", a, 1)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "-".join(_str("guid", v) for v in a)))


# ---- dates ---------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_datetime(s: Any) -> datetime | None:
    """ISO 8601 (any fraction length, optional zone; naive = UTC); None when not a date."""
    if not isinstance(s, str) or len(s) < 10 or not s[:4].isdigit():
        return None
    return _parse_datetime(s)


@lru_cache(maxsize=8192)
def _parse_datetime(s: str) -> datetime | None:
    m = _ISO_RE.match(s.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro, tzinfo=UTC)
    except ValueError:
        return None
    if tz and tz.upper() != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt


def format_utc(dt: datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss.fffffffZ` (seven fraction digits, as utcNow() returns)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


_NET_FORMAT = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("yy", "%y"),
    ("d", "%d"),
    ("M", "%m"),
    ("H", "%H"),
]


def format_net(dt: datetime, fmt: str) -> str:
    """The subset of .NET custom date formats used with utcNow(format)."""
    standard = {"u": "%Y-%m-%d %H:%M:%SZ", "s": "%Y-%m-%dT%H:%M:%S", "d": "%m/%d/%Y"}
    if fmt in standard:
        return dt.strftime(standard[fmt])
    if fmt == "o":
        return format_utc(dt)
    out, i = [], 0
    while i < len(fmt):
        if fmt.startswith("fffffff", i):
            out.append(f"{dt.microsecond:06d}0")
            i += 7
            continue
        if fmt.startswith("fff", i):
            out.append(f"{dt.microsecond // 1000:03d}")
            i += 3
            continue
        for net, py in _NET_FORMAT:
            if fmt.startswith(net, i):
                out.append(dt.strftime(py))
                i += len(net)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


@fn("adddays")
def f_adddays(*a: Any) -> str:
    _need("addDays", a, 2, 2)
    dt = parse_datetime(a[0])
    if dt is None:
        raise fail(f"addDays(): {a[0]!r} is not an ISO 8601 date-time")
    return format_utc_trimmed(dt + timedelta(days=_int("addDays", a[1])))


def format_utc_trimmed(dt: datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss.FFFFFFFZ`, addDays' documented format: `F` digits are optional, so trailing
    zero fractions are dropped (and the dot with them). https://learn.microsoft.com/azure/governance/
    policy/concepts/definition-structure-policy-rule#policy-functions"""
    dt = dt.astimezone(UTC)
    frac = f"{dt.microsecond:06d}0".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


# ---- IP ranges -------------------------------------------------------------------------------------


def _ip_range(name: str, s: Any) -> tuple[int, int, int]:
    """(version, first, last) for a single address, CIDR, or `start-end`; failure when empty/invalid."""
    s = _str(name, s).strip()
    try:
        if "-" in s:
            lo_s, hi_s = (p.strip() for p in s.split("-", 1))
            lo, hi = ipaddress.ip_address(lo_s), ipaddress.ip_address(hi_s)
            if lo.version != hi.version or int(lo) > int(hi):
                raise ValueError
            return lo.version, int(lo), int(hi)
        if "/" in s:
            net = ipaddress.ip_network(s, strict=False)
            return net.version, int(net.network_address), int(net.broadcast_address)
        ip = ipaddress.ip_address(s)
        return ip.version, int(ip), int(ip)
    except ValueError:
        raise fail(f"{name}(): {s!r} is not an IP address, CIDR range or start-end range") from None


@fn("iprangecontains")
def f_iprangecontains(*a: Any) -> bool:
    _need("ipRangeContains", a, 2, 2)
    v1, lo1, hi1 = _ip_range("ipRangeContains", a[0])
    v2, lo2, hi2 = _ip_range("ipRangeContains", a[1])
    if v1 != v2:
        raise fail("ipRangeContains(): cannot mix IPv4 and IPv6 ranges")
    return lo1 <= lo2 and hi2 <= hi1


@fn("parsecidr")
def f_parsecidr(*a: Any) -> dict:
    _need("parseCidr", a, 1, 1)
    try:
        net = ipaddress.ip_network(_str("parseCidr", a[0]), strict=False)
    except ValueError:
        raise fail(f"parseCidr(): invalid CIDR {a[0]!r}") from None
    hosts = list(net.hosts()) if net.num_addresses <= 4 else None
    first = hosts[0] if hosts else net.network_address + (1 if net.num_addresses > 2 else 0)
    last = hosts[-1] if hosts else net.broadcast_address - (1 if net.num_addresses > 2 else 0)
    return {
        "network": str(net.network_address),
        "netmask": str(net.netmask),
        "broadcast": str(net.broadcast_address),
        "firstUsable": str(first),
        "lastUsable": str(last),
        "cidr": net.prefixlen,
    }
