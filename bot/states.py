"""One StatesGroup per dialog flow."""

from aiogram.fsm.state import State, StatesGroup


class Browsing(StatesGroup):
    """Moving through the menus; FSM data "screen" holds the packed current screen."""

    menu = State()


class AskQuestion(StatesGroup):
    """Writing a question (FSM data "draft"), then looking at its preview."""

    writing = State()
    preview = State()


class AddingToTicket(StatesGroup):
    """After "Add to the question": the next message goes to that ticket (FSM data
    "ticket")."""

    writing = State()
