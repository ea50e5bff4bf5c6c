"""A config given as a Python dict, written as TOML text for engram's config reader.

Only what a config needs: tables (dicts), arrays (lists and tuples), arrays of tables
(lists of dicts), strings, booleans, integers and floats (numpy scalars too). ``None`` has
no TOML form and is refused with the field's path.
"""

import json
import math
import numbers
import re

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k, path):
    if not isinstance(k, str):
        raise TypeError(f"{path or 'config'}: keys must be strings, found {k!r}")
    return k if _BARE.match(k) else json.dumps(k)


def _join(path, k):
    return f"{path}.{k}" if path else str(k)


def value(v, path=""):
    """``v`` as an inline TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        text = repr(x)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        items = ", ".join(
            f"{_key(k, path)} = {value(x, _join(path, k))}" for k, x in v.items()
        )
        return "{ " + items + " }" if items else "{}"
    if isinstance(v, (list, tuple)) or hasattr(v, "tolist"):
        seq = v.tolist() if hasattr(v, "tolist") else v
        if not isinstance(seq, list):  # a numpy scalar
            return value(seq, path)
        return "[" + ", ".join(value(x, _join(path, i)) for i, x in enumerate(seq)) + "]"
    if v is None:
        raise ValueError(f"{path}: None has no TOML form; leave the field out instead")
    raise TypeError(f"{path}: cannot write {type(v).__name__} {v!r} as TOML")


def _is_table_array(v):
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _table(d, path, keys, header, out):
    # Plain values first (they belong to the header above them), then sub-tables and
    # arrays of tables, each under its own header.
    if header is not None:
        out.append("")
        out.append(header)
    for k, v in d.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            out.append(f"{_key(k, path)} = {value(v, _join(path, k))}")
    for k, v in d.items():
        sub, hk = _join(path, k), keys + [_key(k, path)]
        if isinstance(v, dict):
            _table(v, sub, hk, "[" + ".".join(hk) + "]", out)
        elif _is_table_array(v):
            for i, item in enumerate(v):
                _table(item, _join(sub, i), hk, "[[" + ".".join(hk) + "]]", out)


def dumps(config):
    """The TOML text of a config dict."""
    if not isinstance(config, dict):
        raise TypeError(f"a config must be a dict, found {type(config).__name__}")
    out = []
    _table(config, "", [], None, out)
    return "\n".join(out).lstrip("\n") + "\n"
