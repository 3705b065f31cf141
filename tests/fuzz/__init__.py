"""
Bounded fuzz tests, one module per parser family (issue 11): every parser
that reads bytes from the LAN or from an ACS is fed mutated copies of valid
inputs in a child process, which must answer each with a result or the
parser's documented error, within a second, without opening a file or a
connection. The harness is L{tests.fuzz._harness}; C{tools/fuzz} runs the
same targets for as long as asked.
"""

__all__: list[str] = []
