"""How model calls fail, in a module light enough for the command line's error handling to import.

A model endpoint that failed past its retries is told as one line the user can act on. Down servers and
wrong `--base-url` / `--model` values are the user's to fix, not bugs: front ends turn them into a
`RetinueError` naming the URL asked, what came back, and what to do next.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from retinue.errors import RetinueError


class ScriptExhaustedError(RuntimeError):
    """The code under test asked the scripted model for more responses than were scripted."""


class BrokenResponseError(ConnectionError):
    """The endpoint answered with something that is not a well-formed completion."""


def endpoint_failure(error: BaseException) -> str | None:
    """What failed and where, for an endpoint that was unreachable, refused the request or answered
    nonsense; None for any other error."""
    import httpx
    import openai

    if not isinstance(error, openai.APIError | httpx.HTTPError | BrokenResponseError):
        return None
    try:
        request = getattr(error, "request", None)
    except RuntimeError:  # httpx's errors raise on `.request` when none was set
        request = None
    where = f" at {request.url}" if request is not None else ""
    return f"the model endpoint{where} failed: {error} ({type(error).__name__})"


@contextmanager
def endpoint_failures_explained(advice: str) -> Iterator[None]:
    """Within the block, a failed endpoint becomes a `RetinueError`: what failed, where, then `advice`."""
    try:
        yield
    except Exception as error:
        failure = endpoint_failure(error)
        if failure is None:
            raise
        raise RetinueError(f"{failure}; {advice}") from None
