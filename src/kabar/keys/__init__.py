"""The end-to-end key directory: device identity keys, one-time and fallback keys, claims."""
