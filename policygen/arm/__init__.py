"""Azure's vocabulary, below every stage: scopes, effects, the expression grammar, functions, aliases."""
