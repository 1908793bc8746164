"""Say what happened: on the terminal for people, as versioned JSON for tools."""
