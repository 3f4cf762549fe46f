"""Caretaker: field operations for residential property management."""
