"""kabar: private chats only their participants can read, public voices anyone can follow."""

__version__ = "0.1.0"
