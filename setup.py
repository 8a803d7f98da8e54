"""The optional native probe (pfnconsole._probe, C); everything else is in pyproject.toml.

`optional=True`: without a working C compiler the build of the extension fails quietly and
pfnconsole installs without it (pfnconsole.native.probe() then returns None)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("pfnconsole._probe", ["pfnconsole/native/probe.c"], optional=True,
                             extra_compile_args=["-O2"])])
