"""The host outside the tissue section: what happens in marrow and blood (the systemic side of the model)."""
