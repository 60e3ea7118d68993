# Entry point of the Stratus Python runtime (see _stratus_runtime.py).
#
# A main script is compiled from source at every start (~6 ms for the whole
# shim) while an imported module is loaded from its cached bytecode, which
# the platform writes once per interpreter.  So this file stays tiny.
import _stratus_runtime

_stratus_runtime.main()
