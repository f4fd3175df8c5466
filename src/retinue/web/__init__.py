"""The local web front end: chat sessions with agent teams in a browser page."""
