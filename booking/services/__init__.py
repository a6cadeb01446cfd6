"""Every write that matters in booking: the slot grid (slots), holds and appointments."""
