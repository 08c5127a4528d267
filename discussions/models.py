"""Discussion rooms (see issue 7)."""
