"""One part of docs/performance.md, written by one bench script between its own markers, the rest kept."""
import os


def write_section(doc, owner, lines):
    """Writes LINES between "<!-- OWNER begin -->" and "<!-- OWNER end -->" in DOC: in place of that part when
    the file has it, at the end otherwise. Returns the part's text."""
    begin, end = f"<!-- {owner} begin -->", f"<!-- {owner} end -->"
    text = "\n".join([begin, *lines, end]) + "\n"
    old = open(doc).read() if os.path.exists(doc) else ""
    if begin in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end + "\n", 1)[1] if end + "\n" in rest else ""
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text if old else text
    with open(doc, "w") as f:
        f.write(new)
    return text
