"""Views of booking: the citizen's flow (citizen); the staff's pages are the desk's."""
