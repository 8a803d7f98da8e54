"""pfnconsole: a simulator and console for Linux page frame numbers and the memmap."""

__version__ = "0.1.0"
