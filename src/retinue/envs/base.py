"""The environment protocol every environment with episodes follows (TextWorld-style reset/step):
`MarketEnv` (a market replay) and `TextWorldEnv` (a cooking game). tests/contracts/test_env_contract.py
holds each to it."""

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Env(Protocol):
    """reset() gives the first observation; step(action) gives (observation, reward, done, info)."""

    def reset(self) -> Any: ...

    def step(self, action: Any) -> tuple[Any, float, bool, dict[str, Any]]: ...
