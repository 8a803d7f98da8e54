"""core/ (and later decode/) must load without any UI library."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["pfnconsole.core", "pfnconsole.core.machine",
                                    "pfnconsole.commands"])
def test_no_ui_library_loaded(module):
    code = (f"import sys, {module}; "
            "bad = [m for m in ('textual', 'prompt_toolkit', 'rich') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"{module} pulled in {out}"
