"""The API's JSON, each shape declared once: request bodies (:mod:`.requests`, validated) and
responses (:mod:`.responses`, built from records)."""
