"""Domain rules with no I/O: errors, state machines, money, phones, references, severity."""
