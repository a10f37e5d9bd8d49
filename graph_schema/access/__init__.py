"""Who may see and change what: users and their tokens, jurisdiction scopes, the audit trail."""
