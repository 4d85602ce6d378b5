"""The seven scenarios of issue 16, each a function of a world returning one ``Result``."""
