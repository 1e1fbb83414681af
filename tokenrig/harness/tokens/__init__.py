"""Tokens: the one interface every token offers, and the model capability table."""
