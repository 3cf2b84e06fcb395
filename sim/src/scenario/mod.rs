//! The scenario schema (RON) and its validation.
