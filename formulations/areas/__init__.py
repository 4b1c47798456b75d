"""One module per model area: each adds its block's variables and rows (declaring their row families) and registers its terms in the shared balances."""
