"""Suite-wide settings: engine invariants are checked after every command, everywhere."""

import os

# read by pfnconsole.commands.session at import; subprocesses inherit it
os.environ["PFNCONSOLE_CHECK_INVARIANTS"] = "1"
