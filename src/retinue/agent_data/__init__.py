"""Training examples for the agents' roles, labelled by the project's own environments on train splits
only, in exactly the prompts the agents see at run time (the same templates, the same option
presentation through the choice seam). `retinue train agent-data` writes one JSONL per role.

Each line: {"role", "messages", "stem", "options" (in the order shown), "target", "provenance"}. A role
that writes a structured reply (the Tips introspector) has the reply as its one option and no stem.
"""

from retinue.agent_data.effiqa import planner_examples, reflector_examples, tog_examples, train_questions
from retinue.agent_data.examples import Example, write_examples
from retinue.agent_data.fincon import analyst_examples, manager_days, manager_examples
from retinue.agent_data.tips import actor_examples, introspector_examples, tips_from_play

__all__ = [
    "Example",
    "actor_examples",
    "analyst_examples",
    "introspector_examples",
    "manager_days",
    "manager_examples",
    "planner_examples",
    "reflector_examples",
    "tips_from_play",
    "tog_examples",
    "train_questions",
    "write_examples",
]
