//! Readers for external history formats: Porcupine logs, Jepsen EDN (Knossos) and our own JSON Lines.
