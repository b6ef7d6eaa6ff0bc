"""One module per cell type: its parameters (with units and sources), its state and its rules."""
