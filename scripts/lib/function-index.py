#!/usr/bin/env python3
"""Rewrites the function index in docs/QUEUE_ENGINE.md from migrations/repeatable/*.sql.

Every public function (a name not starting with `_`) gets a row naming its one canonical file;
SQLLayoutTests fails when the index and the files disagree. Run after adding or moving a function:
    python3 scripts/lib/function-index.py
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parents[2]
repeatable = root / "Sources/QueueStore/migrations/repeatable"
doc = root / "docs/QUEUE_ENGINE.md"
begin, end = "<!-- function-index:begin -->", "<!-- function-index:end -->"

definition = re.compile(r"create\s+or\s+replace\s+(function|procedure)\s+([a-z_][a-z0-9_]*)\s*\(", re.I)
rows = []
for path in sorted(repeatable.glob("*.sql")):
    seen = set()
    for kind, name in definition.findall(path.read_text()):
        name = name.lower()
        if name.startswith("_") or name in seen:
            continue
        seen.add(name)
        rows.append(f"| `{name}` | [{path.name}](../migrations/repeatable/{path.name}) | {kind.lower()} |")

table = "\n".join([begin, "| function | canonical file | kind |", "|---|---|---|", *rows, end])
text = doc.read_text()
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: table, text, flags=re.S)
else:
    text += "\n## Where each function lives\n\nEvery function, view and trigger has one canonical file " \
            "(docs/SQL_LAYOUT.md); a change to a function is a change to that file, and `git log -p` of it " \
            "is the function's history. Who may call each one is declared in " \
            "[90_privileges.sql](../migrations/repeatable/90_privileges.sql).\n\n" + table + "\n"
doc.write_text(text)
print(f"{len(rows)} functions indexed in {doc.relative_to(root)}")
