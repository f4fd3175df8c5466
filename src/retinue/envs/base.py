"""The environment protocol every environment follows (TextWorld-style reset/step)."""

from typing import Any, Protocol


class Env(Protocol):
    """reset() gives the first observation; step(action) gives (observation, reward, done, info)."""

    def reset(self) -> Any: ...

    def step(self, action: Any) -> tuple[Any, float, bool, dict[str, Any]]: ...
