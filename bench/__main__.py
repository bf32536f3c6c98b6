"""Run every benchmark module and print one table: python -m bench [name ...]."""

import importlib
import sys

from bench.table import print_table

MODULES = [
    "area", "grid", "maps", "report", "patrol", "patrol_store", "county", "county_map", "tuban", "notify",
    "rechecks",
]  # fmt: skip


def main(names: list[str]) -> None:
    """Import each bench module, run it and print the rows together."""
    rows = []
    for name in names or MODULES:
        try:
            module = importlib.import_module(f"bench.bench_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.bench_{name}":
                raise
            continue
        print(f"running {name} …", file=sys.stderr, flush=True)
        rows.extend(module.run())
    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
