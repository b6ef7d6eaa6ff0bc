"""Command-line option types: each turns the text of one option into a value, or says what is wrong with it
(argparse then prints the usage line and exits with code 2)."""

from __future__ import annotations

import argparse
import ipaddress
import math

MAX_PORT = 65535


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _parsed(text: str, kind: type, what: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def finite_float(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def seed(text: str) -> int:
    value = _parsed(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def days_of_week(text: str) -> tuple[int, ...]:
    try:
        days = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give weekdays 1-7 separated by commas, e.g. 1,3") from None
    if not days or any(not 1 <= d <= 7 for d in days):
        raise argparse.ArgumentTypeError(f"{text!r}: weekdays are 1-7 (1 = the first day), e.g. 1,3")
    return days


def count(text: str) -> int:
    value = seed(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def port(text: str) -> int:
    value = count(text)
    if value > MAX_PORT:
        raise argparse.ArgumentTypeError(f"ports are 1-{MAX_PORT}, got {text}")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False
