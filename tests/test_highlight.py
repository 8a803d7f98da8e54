"""The Pygments lexers: no Error tokens on valid input, tokens join back, entry point works."""

import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name, Number

from pfnconsole.commands import COMMANDS
from pfnconsole.highlight import PfnCommandLexer, PfnOutputLexer

LINES = [e for c in COMMANDS.values() for e in c.examples] + [
    "kmap 0x100600 dev   # trailing comment",
    "machine x86_64-5level ram=64T pmem=4G@0x500000000 pmem=none",
    "encode 0x100600 dev map abi=pfn_t kver=4.16",
    "register my.range-1 0x1_0000_0000 16G base=0xffffc90000000000",
    "bogus words ~~ 12zz @@",
    "",
    "   ",
    "# only a comment",
]


@pytest.mark.parametrize("line", LINES)
def test_command_lexer_round_trips_without_errors(line):
    toks = list(PfnCommandLexer().get_tokens(line + "\n"))
    assert "".join(v for _, v in toks) == line + "\n"
    assert not [v for t, v in toks if t in Error]


def test_command_lexer_token_kinds():
    toks = [(t, v) for t, v in PfnCommandLexer().get_tokens("kmap 0x100600 dev abi=v5 4K")
            if v.strip()]
    assert toks[0] == (Keyword, "kmap")
    assert toks[1] == (Number.Hex, "0x100600")
    assert toks[2] == (Name.Constant, "dev")
    assert toks[3] == (Name.Attribute, "abi")
    assert toks[-1][0] in Number


def test_output_lexer_marks_errors_and_addresses():
    text = "error: unknown command 'x'\nlist path: pmem0 at node 1 -> 0xffffc90000600000\n"
    toks = list(PfnOutputLexer().get_tokens(text))
    assert "".join(v for _, v in toks) == text
    assert toks[0][0] in Error
    assert (Number.Hex, "0xffffc90000600000") in toks


def test_registered_under_the_entry_point():
    assert isinstance(get_lexer_by_name("pfnconsole"), PfnCommandLexer)
    assert isinstance(get_lexer_by_name("pfnconsole-output"), PfnOutputLexer)


PYGMENTIZE = Path(sys.executable).parent / "pygmentize"  # the one installed beside us


@pytest.mark.skipif(not PYGMENTIZE.exists(), reason="pygmentize is not installed beside python")
def test_pygmentize_highlights_without_error_tokens():
    p = subprocess.run([str(PYGMENTIZE), "-l", "pfnconsole", "-f", "raw"],
                       input="kmap 0x100600 dev\n", capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Token.Keyword\t'kmap'" in p.stdout and "Error" not in p.stdout
