"""Agent teams, one package per method: roles, prompts (as data) and state schemas."""
