"""The digest stage: build (pure: what to send), render (Jinja2 + babel: the mail), deliver (outbox | SMTP)."""
