//! Black-box linearizability checking (Wing & Gong / Lowe search with memoisation), generic over a model.
