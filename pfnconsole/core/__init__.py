"""The simulator: imports nothing from the front ends, nor textual, prompt_toolkit or rich."""

from .errors import EngineError
from .machine import Machine, MachineSpec

__all__ = ["EngineError", "Machine", "MachineSpec"]
