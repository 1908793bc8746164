"""From what the project asks for to what will be installed."""
