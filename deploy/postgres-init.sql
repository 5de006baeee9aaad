-- Run once, when the PostgreSQL volume is new (deploy/compose.yml): Rasa's conversations get a
-- database of their own (TRACKER_STORE_URL), apart from the product's (DATABASE_URL, Alembic's).
CREATE DATABASE tms_rasa OWNER tms;
