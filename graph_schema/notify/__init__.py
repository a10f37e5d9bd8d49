"""Reminders that reach people: each user's inbox (visits due, certificate reminders, old problems,
an organiser's digest) and the outbox of text messages that tell them so, with its senders."""
