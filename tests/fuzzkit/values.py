"""Values of the wrong type for each kind of key, and spellings of numbers that are huge, tiny or not finite."""

from __future__ import annotations

from .documents import Raw
from .schema import Slot


R = Raw  # short


WRONG_FOR_NUMBER = ["abc", "1e3", "", [1, 2], [], {"a": 1}, {}, True, False, None, R("yes"), R("'12'"),
                    R("~"), R("12:30"), R("0x1F"), R("1_000"), "1.0e+3", R("!!str 5"), R(".5.5")]
WRONG_FOR_INT = WRONG_FOR_NUMBER + [1.5, 3.0, R("1.0e+3"), R(".inf")]
WRONG_FOR_BOOL = [1, 0, "true", R("'yes'"), "y", None, [], {}, 1.5]
WRONG_FOR_STR = [5, 1.5, True, None, [], ["a"], {}, {"a": 1}, R("2001-12-14"), R("!!binary aGk=")]
WRONG_FOR_SEQ = [5, "a", {"a": 1}, None, [[1]], ["a"], [None], [True], [{}], R("!!set {a, b}"), "1, 3"]
WRONG_FOR_MAP = [5, "text", [1], [], None, True, 1.5, [{"a": 1}], R("''")]

NUMBER_SPELLINGS = [".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "1.0e+300", "-1.0e+300", "1.0e+9", "1.0e+12",
                    "-1.0e+12", "1.0e-9", "1.0e-300", "4.9e-324", "1.7976931348623157e+308", "1.0e+309", "0", "0.0",
                    "-0.0", "-1", "-0.5", "-1.0e+9", "1e300", "1e-9", "9223372036854775808", "-9223372036854775809",
                    "100000000000000000000000000000000", "0x7fffffffffffffff", "1_000_000_000", "-1.0e-9"]


def wrong_values(slot: Slot) -> list:
    if slot.kind == "float":
        return WRONG_FOR_NUMBER
    if slot.kind == "int":
        return WRONG_FOR_INT
    if slot.kind == "bool":
        return WRONG_FOR_BOOL
    if slot.kind == "str":
        return WRONG_FOR_STR
    if slot.kind == "literal":
        words = [str(c) for c in slot.choices]
        return [w[:-1] for w in words if len(w) > 1] + [w.upper() for w in words] + [w + " " for w in words] + [
            1, None, [], {}, "nonesuch"]
    if slot.kind == "seq":
        return WRONG_FOR_SEQ + ([[1.5], [R(".nan")], [0]] if slot.item == "int" else [["x"], [R(".inf")]])
    if slot.kind in ("map", "section"):
        return WRONG_FOR_MAP
    return WRONG_FOR_NUMBER + WRONG_FOR_MAP
