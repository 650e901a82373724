#!/usr/bin/env python3
"""Prints an extension SQL file in a canonical form, to compare the
committed sql/rar--<version>.sql with what `cargo pgrx schema` generates:
source locations (`-- src/...:line`, which move with every edit) dropped,
and the blocks pgrx emits between `<begin connected objects>` markers
sorted (pgrx orders independent objects differently from build to build)."""
import sys

MARK = "/* <begin connected objects> */"
text = "".join(line for line in open(sys.argv[1]) if not line.startswith("-- src/"))
head, *blocks = text.split(MARK)
sys.stdout.write(head + "".join(MARK + b for b in sorted(blocks)))
