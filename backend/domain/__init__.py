"""Pure business rules of Caretaker: no I/O, no framework, easy to test."""
