"""Components that train (or plan the training of) the local models the tools load."""
