"""Services: every state change goes through here (verb_noun functions)."""
