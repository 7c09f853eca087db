"""The guided method: a coarse band brought to the fine grid of sharper bands of the same scene."""
