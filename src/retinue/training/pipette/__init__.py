"""Pipette (Yim et al., DATE 2024): 3D-parallel training configurations for real, uneven clusters."""
