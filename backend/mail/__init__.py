"""E-mail: the outbox a service queues into, the messages, the SMTP sender."""
