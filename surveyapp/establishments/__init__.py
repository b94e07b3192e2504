"""Schools, settings and trusts: the register, its GIAS import and its contacts."""
