#!/usr/bin/env python3
"""Finds closures the compiler dropped because two of them got one symbol (Swift 6.3.1).

A closure literal written inside an #expect/#require argument is re-parsed into the macro's
expansion buffer; when the macro sits in a closure body, that copy can receive the same
discriminator (hence symbol) as a later closure of the body, SILGen emits only one of them and
both call sites run it. In raw SIL (-emit-silgen) that shows as a `function_ref` to a closure
defined in another buffer than the reference (a macro expansion's versus the source file, or
another expansion's): a closure is only ever referenced from the buffer it was written in.

Usage: closure-symbol-check.py FILE.sil...   (prints each mismatch; exit 1 when there is one)
"""
import re
import sys

DEF = re.compile(r'^// (closure #.*), loc "([^"]+)":(\d+):(\d+)')
SIL = re.compile(r'^sil [^@]*@(\S+) :')
REF = re.compile(r'function_ref @(\S+) :.*, loc "([^"]+)":(\d+):(\d+)')


def check(path):
    defs, refs = {}, []
    pending = None
    with open(path, encoding="utf-8", errors="replace") as sil:
        for line in sil:
            m = DEF.match(line)
            if m:
                pending = m.groups()
                continue
            m = SIL.match(line)
            if m and pending:
                defs[m.group(1)] = pending
                pending = None
                continue
            m = REF.search(line)
            if m:
                refs.append(m.groups())
    if not defs or not refs:
        # Without locations (no -g) nothing can be compared: say so rather than pass.
        return [f"{path}: no closure definitions or references with locations (emit with -g)"]
    found = []
    for symbol, file, line, col in refs:
        if symbol not in defs:
            continue
        name, def_file, def_line, def_col = defs[symbol]
        if def_file != file:
            found.append(f"{file}:{line}:{col}: runs {name} defined at {def_file}:{def_line}:{def_col}")
    return found


def main(paths):
    found = [f for p in paths for f in check(p)]
    for f in sorted(set(found)):
        print(f)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
