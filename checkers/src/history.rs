//! Client histories: invocations and completions with virtual times, written as JSON Lines.
