"""`python -m bot sandbox`: the real bot against the Bot API emulator, shown in a browser.

`runner` builds the sandbox's world (a moderators' group with two moderators, a few
users), its own settings and data folder, and runs the bot exactly as `python -m bot`
does, pointed at the emulator. `web` is the page's server: static files, a JSON API
over the emulator's control side, and a WebSocket of live events. The page itself is
plain HTML, CSS and JavaScript in `static/`.
"""
