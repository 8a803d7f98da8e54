"""`pfnconsole bench`: the benchmark suite, kept in the checkout and out of the wheel.

``suite`` runs the figures (``decoding`` holds the decoder's, ``report`` turns the result
into text, ``common`` what they share), ``child`` holds the measurements that need a fresh
process (run as ``python -m bench.child NAME ...`` from the repository root), ``logs``
generates the kernel logs the decoder figure reads.  Nothing is imported here, so a
child's import-time and memory figures are its own.
"""
