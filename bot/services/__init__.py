"""Business logic. Services know nothing of aiogram; they take repositories."""
