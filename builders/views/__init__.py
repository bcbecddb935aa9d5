"""The builders app's edges: webhook endpoints and the back-office pull page."""
