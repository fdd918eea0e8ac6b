"""``python -m lanner``: the same as the ``lanner`` command."""

from __future__ import annotations

from lanner.cli import main

if __name__ == "__main__":
    main(prog_name="lanner")
