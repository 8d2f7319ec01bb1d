"""``python -m central.store.migrations revision -m "what changes"``: draft a store revision.

For maintainers, from a source checkout (the draft is written beside the
other revisions); see ``central.store.migrations.drafting``.
"""

from __future__ import annotations

import argparse
import sys

from central.store.migrations.drafting import draft_revision


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and draft the revision; 0 when written, 1 when nothing changed."""
    parser = argparse.ArgumentParser(prog="python -m central.store.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="draft the next revision from tables.py")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")
    args = parser.parse_args(argv)
    written = draft_revision(args.message)
    if written is None:
        print("the revisions already lay out what tables.py declares: nothing written")
        return 1
    print(f"drafted {written}: review it, then test it (docs/operations.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
