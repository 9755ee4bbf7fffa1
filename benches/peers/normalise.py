"""Answer checking: every engine's rows brought to one form, then compared.

Values are normalised one by one, whatever the engine returned them as (CSV text from
`chatlake sql` and chDB, Python objects from DuckDB and psycopg): NULL / empty / `\\N` ->
None; booleans; integers (also integral floats and Decimals) -> int; other numbers -> float
rounded to the query's digits; dates and timestamps -> ISO text; the rest -> str. Rows are
then sorted, so no query needs an ORDER BY.
"""

import datetime
import decimal
import difflib
import re

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.I)


def value(v, digits=6):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, (float, decimal.Decimal)):
        f = float(v)
        if f == int(f) and abs(f) < 2**63:
            return int(f)
        return round(f, digits)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    s = str(v)
    if s in ("", "\\N", "NULL"):
        return None
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return value(float(s), digits)
    return s


def _key(row):
    # None sorts first; values of mixed types sort by type name, then value.
    return tuple((v is not None, type(v).__name__, v) for v in row)


def rows(raw, digits=6):
    return sorted((tuple(value(v, digits) for v in r) for r in raw), key=_key)


def diff(name_a, rows_a, name_b, rows_b, limit=40):
    """A unified diff of two normalised answers (first `limit` lines)."""
    a = [repr(r) for r in rows_a]
    b = [repr(r) for r in rows_b]
    lines = list(difflib.unified_diff(a, b, name_a, name_b, lineterm="", n=1))
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"... {more} more lines"] if more > 0 else []))
