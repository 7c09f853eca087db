"""The blind method: estimate each image's blur and noise, solve its filter."""
