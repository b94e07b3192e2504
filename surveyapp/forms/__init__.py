"""WTForms forms, one module per area. Forms own their validation."""
