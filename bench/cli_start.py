"""How soon a `retinue` command starts: `retinue --help` in a fresh process, against the same start with
the model stack (the OpenAI client and LangChain's chat models) loaded eagerly, as every command did
before `retinue.llms` loaded its names on first use.

Commands that call no model (`--help`, `runs list`, `games make`, `plan-training`, `serve`'s checks)
pay only the first; a command that calls a model loads the stack when it asks for it. Median of
`--starts` fresh processes each. Target: >= 2x sooner.

    python bench/cli_start.py [--starts 7] [--out DIR]
"""

import argparse
from pathlib import Path

from _report import OUT_HELP, finish, fresh_process_seconds

LAZY = "import sys; from retinue.cli import main; sys.argv = ['retinue', '--help']; main()"
EAGER = "import retinue.llms.providers, retinue.llms.structured, retinue.llms.cache; " + LAZY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=7, help="Fresh processes timed per variant.")
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    args = parser.parse_args()
    fresh_process_seconds(LAZY, 1)  # warm the file cache for both
    eager, lazy = fresh_process_seconds(EAGER, args.starts), fresh_process_seconds(LAZY, args.starts)
    report = {
        "help_seconds": round(lazy, 3),
        "help_seconds_eager_llms": round(eager, 3),
        "speedup": round(eager / lazy, 2),
    }
    for key, value in report.items():
        print(f"{key}: {value}")
    finish(
        report, "retinue --help >= 2x sooner than with the model stack loaded eagerly", report["speedup"] >= 2, args.out
    )


if __name__ == "__main__":
    main()
