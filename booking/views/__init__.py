"""Views of booking: the citizen's flow (citizen) and the staff's pages (staff)."""
