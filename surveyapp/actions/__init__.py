"""Action plans: what each establishment will do about its gaps, updated through the year."""
