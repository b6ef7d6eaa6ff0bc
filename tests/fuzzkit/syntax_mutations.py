"""The mutation kinds below the schema: yaml (tags, aliases, merge keys, duplicate and complex keys, alias bombs)
and garbage (bytes inserted, replaced or cut, other encodings and line ends). Mostly judged by the line rule."""

from __future__ import annotations

import copy
import re

from hypothesis import strategies as st

from .documents import Doc, Mutation, Raw, dotted, existing_paths, flow, place
from .targets import mapping_targets, pick_target


def mut_yaml(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["tag", "tag", "alias", "undefined_alias", "recursive_alias", "merge",
                                "duplicate", "complex_key", "bomb"]))
    if how == "tag":
        slot = pick_target(draw, doc)
        snippet = draw(st.sampled_from([
            '!!python/object/apply:os.system ["echo hi"]', "!!python/name:os.system", "!!python/tuple [1, 2]",
            "!!binary aGVsbG8=", "!custom foo", "!custom {a: 1}", "!!set {a, b}", "!!timestamp 2001-12-14",
            "!!timestamp 2001-12-14t21:59:43.10-05:00", '!!float "abc"', '!!int "1.5"', "!!str 5", "!!omap [a: 1]",
            "!!pairs [a: 1, a: 2]", '!!null ""', "!!bool maybe", "!<tag:example.com,2000:x> 1", "!!float 1",
            "!!map [1]", "!!seq {a: 1}",
        ]))
        path = place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{dotted(path)} = {snippet}", path, "line")
    if how == "undefined_alias":
        slot = pick_target(draw, doc)
        path = place(doc, slot.path, Raw("*fz_nowhere"))
        return Mutation("yaml", f"{dotted(path)} = *fz_nowhere (undefined alias)", path, "line")
    if how == "recursive_alias":
        slot = pick_target(draw, doc)
        snippet = draw(st.sampled_from(["&fzr [*fzr]", "&fzr {a: *fzr}", "&fzr [1, [2, *fzr]]"]))
        path = place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{dotted(path)} = {snippet} (recursive alias)", path, "line")
    if how == "bomb":
        slot = pick_target(draw, doc)
        levels, fan = draw(st.integers(3, 9)), draw(st.integers(4, 10))
        parts = ["&fzb0 [" + ", ".join(["lol"] * fan) + "]"]
        parts += [f"&fzb{i} [" + ", ".join([f"*fzb{i - 1}"] * fan) + "]" for i in range(1, levels)]
        snippet = "[" + ", ".join(parts) + "]"
        path = place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{dotted(path)} = alias bomb {fan}^{levels}", path, "key_or_line")
    if how == "complex_key":
        mpath, _ = draw(st.sampled_from(mapping_targets(doc)))
        key = draw(st.sampled_from(["[a, b]", "{a: 1}", "!!binary aGk=", "~", "!!python/tuple [1]", "? [x]\n"]))
        if key.startswith("?"):
            key = "[x]"
        name = doc.key_sentinel(key)
        actual = doc.set(mpath + (name,), 1)
        return Mutation("yaml", f"{dotted(actual[:-1]) or '<top>'}: key {key}", actual[:-1] or None, "line")
    if how == "duplicate":
        candidates = [(p, v) for p, v in existing_paths(doc.data) if isinstance(p[-1], str) and p != ("extends",)]
        p, v = draw(st.sampled_from(candidates))
        name = doc.key_sentinel(p[-1])
        value = draw(st.sampled_from([v, 1, "x"])) if not isinstance(v, (dict, list)) else v
        doc.set(p[:-1] + (name,), copy.deepcopy(value))
        return Mutation("yaml", f"duplicate key {dotted(p)}", p, "key")
    # alias / merge: an anchor on one value, an alias (or merge) elsewhere
    anchors = [(p, v) for p, v in existing_paths(doc.data) if p != ("extends",)]
    apath, avalue = draw(st.sampled_from(anchors))
    anchor = doc.sentinel(Raw("&fza " + flow(avalue)))
    doc.set(apath, anchor)
    if how == "alias":
        slot = pick_target(draw, doc, lambda s: s.path[: len(apath)] != apath and apath[: len(s.path)] != s.path)
        path = place(doc, slot.path, Raw("*fza"))
        syntax = doc.render_text().find("*fza") < doc.render_text().find("&fza")
        return Mutation("yaml", f"{dotted(path)} = *fza (anchor on {dotted(apath)})"
                        + (" before its anchor" if syntax else ""), path, "line" if syntax else "key")
    mpath, _ = draw(st.sampled_from([m for m in mapping_targets(doc)
                                     if m[0][: len(apath)] != apath and apath[: len(m[0])] != m[0]]))
    merged = draw(st.sampled_from(["*fza", "{fz_merged: 1}", "5", "[*fza, 3]", "[{fz_merged: 1}]", "*fz_nowhere"]))
    name = doc.key_sentinel("<<")
    actual = doc.set(mpath + (name,), doc.sentinel(Raw(merged)))[:-1]
    text = doc.render_text()
    syntax = merged in ("5", "[*fza, 3]", "*fz_nowhere") or ("*fza" in merged and (
        text.find("*fza") < text.find("&fza") or not isinstance(avalue, dict)))
    return Mutation("yaml", f"merge key at {dotted(actual) or '<top>'}: <<: {merged} (anchor on {dotted(apath)})",
                    actual or None, "line" if syntax else "key")


CONTROL = [b"\x00", b"\x01", b"\x07", b"\x0b", b"\x1b", b"\x7f", b"\x00" * 8]
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
YAML_PUNCT = [b"[", b"{", b"]", b"}", b'"', b"'", b":", b"- ", b"? ", b"%", b"@", b"`", b"|", b">", b"&", b"*", b"!",
              b"#", b",", b"\t", b"\n  ", b"\n    x", b": :", b"---\n", b"...\n"]


def mut_garbage(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["insert", "replace", "invalid_utf8", "control", "truncate", "tabs", "punct",
                                "utf16", "bom_mid", "crlf", "indent", "delete_line"]))
    base = doc.render()
    pos = draw(st.integers(0, len(base)))
    if how == "insert":
        blob = draw(st.binary(min_size=1, max_size=16))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"insert {blob!r} at byte {pos}"
    elif how == "replace":
        blob, n = draw(st.binary(min_size=1, max_size=16)), draw(st.integers(1, 16))
        op, note = (lambda b, p=pos, x=blob, n=n: b[:p] + x + b[p + n:]), f"replace {n} bytes at {pos} with {blob!r}"
    elif how == "invalid_utf8":
        blob = draw(st.sampled_from(INVALID_UTF8))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"invalid UTF-8 {blob!r} at byte {pos}"
    elif how == "control":
        blob = draw(st.sampled_from(CONTROL))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"control {blob!r} at byte {pos}"
    elif how == "punct":
        blob = draw(st.sampled_from(YAML_PUNCT))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"insert {blob!r} at byte {pos}"
    elif how == "truncate":
        op, note = (lambda b, p=pos: b[:p]), f"truncate to {pos} bytes"
    elif how == "tabs":
        op, note = (lambda b: re.sub(rb"(?m)^  ", b"\t", b)), "indent with tabs"
    elif how == "utf16":
        enc = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-32"]))
        op, note = (lambda b, e=enc: b.decode("utf-8").encode(e)), f"encoded as {enc}"
    elif how == "bom_mid":
        op, note = (lambda b, p=pos: b[:p] + "\ufeff".encode() + b[p:]), f"BOM at byte {pos}"
    elif how == "crlf":
        sep = draw(st.sampled_from([b"\r\n", b"\r", b"\x85".decode("latin-1").encode(), "\u2028".encode()]))
        op, note = (lambda b, s=sep: b.replace(b"\n", s)), f"line ends {sep!r}"
    else:
        lines = base.split(b"\n")
        n = draw(st.integers(0, max(0, len(lines) - 1)))
        if how == "indent":
            shift = draw(st.sampled_from([b" ", b"   ", b"-"]))
            op, note = (lambda b, n=n, s=shift: b"\n".join(s + l if i == n else l for i, l in enumerate(b.split(b"\n")))
                        ), f"prefix line {n + 1} with {shift!r}"
        else:
            op, note = (lambda b, n=n: b"\n".join(l for i, l in enumerate(b.split(b"\n")) if i != n)
                        ), f"delete line {n + 1}"
    doc.byte_ops.append(op)
    return Mutation("garbage", note, None, "line")
