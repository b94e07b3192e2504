"""A demo local authority."""


def build_demo(reset: bool = False) -> dict:
    raise NotImplementedError
