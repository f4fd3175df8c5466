"""Writes items to a FaissStore as fast as it can, printing "ack KEY" after each put returns.

The kill test SIGKILLs this process mid-stream; every key it acknowledged must survive.
"""

import sys
from pathlib import Path

from retinue.memory import DIMENSIONS, FaissStore, MiniLMEmbeddings


def main() -> None:
    store = FaissStore(Path(sys.argv[1]), index={"dims": DIMENSIONS, "embed": MiniLMEmbeddings(), "fields": ["text"]})
    print("ready", flush=True)
    i = 0
    while True:
        key = f"k{i}"
        store.put(("notes", f"batch{i % 3}"), key, {"text": f"note {i} about trading day {i % 17}", "i": i})
        print(f"ack {key}", flush=True)
        i += 1


if __name__ == "__main__":
    main()
