"""The symbolic translator: x86-64 assembly to AArch64 or RV64 assembly with no model.

x86 semantics come from Ghidra's SLEIGH specification through ``pypcode`` (p-code lifted from
the assembled machine code); what cannot be translated exactly is refused with the reason.
"""
