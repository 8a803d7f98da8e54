"""Suite-wide settings: engine invariants are checked after every command, everywhere."""

import os

# read by pfnconsole.commands.session at import; subprocesses inherit it
os.environ["PFNCONSOLE_CHECK_INVARIANTS"] = "1"
# measured figures vary from run to run: answers and screenshots stay the same without them
# (tests of the measured figures turn them on for themselves)
os.environ["PFNCONSOLE_MEASURE"] = "0"
# the state directory (journals, history, lesson progress) is a fresh one for the suite
import tempfile

os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="pfnconsole-state-")
