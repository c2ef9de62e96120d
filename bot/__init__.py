"""consult-bot: a Telegram consultation bot for conscientious objectors and conscripts."""
