"""The API's JSON shapes: records to camelCase dicts (:mod:`.shapes`), bodies in (:mod:`.bodies`)."""
