"""Environments the teams act on, each with reset()/step() and trivial baseline agents."""
