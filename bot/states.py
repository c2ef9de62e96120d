"""One StatesGroup per dialog flow."""

from aiogram.fsm.state import State, StatesGroup


class Browsing(StatesGroup):
    """Moving through the menus; FSM data "screen" holds the packed current screen."""

    menu = State()
