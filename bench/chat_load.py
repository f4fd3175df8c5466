"""Chat server load: 20 concurrent sessions over loopback HTTP with the scripted model.

Every session sends --turns messages through a real uvicorn server (server-sent events read to the end).
The baseline is the same turns run straight through `ChatSessions.turn` in this process, one session
at a time; the server's overhead per turn is the same turns over HTTP one at a time minus the baseline,
and the concurrent figures add the wait for the shared checkpointer, store and cores. Checks that every
turn completed and that no session saw another's messages. Prints p50/p95 per turn and the ratio to the
baseline.

    python bench/chat_load.py [--sessions 20] [--turns 3] [--out DIR]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from _report import finish

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.conftest: the hash embedding
from retinue.config import LLMConfig  # noqa: E402
from retinue.llms import ScriptedChatModel, UsageRecorder  # noqa: E402
from retinue.scenarios.chat_sessions import ChatSessions  # noqa: E402
from retinue.web.app import create_app  # noqa: E402
from tests.conftest import HashEmbeddings  # noqa: E402
from tests.real_parts import free_port  # noqa: E402

REPLY = "A scripted reply of about a dozen words, streamed as the model would."


def _sessions(folder: Path, turns: int) -> ChatSessions:
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[REPLY] * turns * 2, callbacks=[usage])
    return ChatSessions(folder, model, usage, LLMConfig(cache=False), None, embed=HashEmbeddings(64))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    total = args.sessions * args.turns
    with tempfile.TemporaryDirectory() as tmp:
        with _sessions(Path(tmp) / "direct", total) as direct:
            baseline = []
            for s in range(args.sessions):
                for t in range(args.turns):
                    started = time.perf_counter()
                    list(direct.turn(f"s{s}", "assistant", f"session {s} turn {t}"))
                    baseline.append(time.perf_counter() - started)
        with _sessions(Path(tmp) / "served", total) as served:
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_level="error"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)

            def session(s: int) -> list[float]:
                times = []
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                    for t in range(args.turns):
                        started = time.perf_counter()
                        body = client.post(f"/api/sessions/s{s}/messages", json={"text": f"session {s} turn {t}"}).text
                        times.append(time.perf_counter() - started)
                        assert "event: done" in body and "event: error" not in body, body
                return times

            one_at_a_time = [t for s in range(args.sessions, 2 * args.sessions) for t in session(s)]
            with ThreadPoolExecutor(args.sessions) as pool:
                started = time.perf_counter()
                served_times = [t for times in pool.map(session, range(args.sessions)) for t in times]
                wall = time.perf_counter() - started
            isolated = all(
                [m["text"] for m in served.history(f"s{s}") if m["speaker"] == "you"]
                == [f"session {s} turn {t}" for t in range(args.turns)]
                for s in range(args.sessions)
            )
            completed = sum(len(served.history(f"s{s}")) for s in range(2 * args.sessions)) == 4 * total
            server.should_exit = True
            thread.join(timeout=10)
    report = {
        "sessions": args.sessions,
        "turns": total,
        "direct_p50_ms": round(1000 * percentile(baseline, 50), 1),
        "direct_p95_ms": round(1000 * percentile(baseline, 95), 1),
        "served_one_at_a_time_p50_ms": round(1000 * percentile(one_at_a_time, 50), 1),
        "served_one_at_a_time_p95_ms": round(1000 * percentile(one_at_a_time, 95), 1),
        "served_p50_ms": round(1000 * percentile(served_times, 50), 1),
        "served_p95_ms": round(1000 * percentile(served_times, 95), 1),
        "served_wall_seconds": round(wall, 2),
        "turns_per_second": round(total / wall, 1),
    }
    # The server's own cost per turn (HTTP, JSON, server-sent events), then the wait under 20 at once.
    report["overhead_p50_ms"] = round(report["served_one_at_a_time_p50_ms"] - report["direct_p50_ms"], 1)
    report["overhead_p95_ms"] = round(report["served_one_at_a_time_p95_ms"] - report["direct_p95_ms"], 1)
    report["concurrent_over_direct_p50"] = round(report["served_p50_ms"] / report["direct_p50_ms"], 1)
    for key, value in report.items():
        print(f"{key}: {value}")
    print(f"all turns completed: {completed}; sessions isolated: {isolated}")
    finish(report, "all turns complete, sessions isolated", completed and isolated, args.out)


if __name__ == "__main__":
    main()
