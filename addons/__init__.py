"""The assistant's own NLU components (loaded by Rasa from the project directory)."""
