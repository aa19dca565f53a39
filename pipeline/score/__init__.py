"""Scoring: patent value, portfolios, regions and inventors (:mod:`pipeline.score.run`)."""

#: The tables of the score stage, written as ``<name>.parquet`` under ``score.out`` and
#: loaded into the database as ``score_<name>`` (:mod:`pipeline.db`).
TABLES = ("patents", "portfolios_industry", "portfolios_branch", "regions", "concentration", "inventors",
          "inventor_mentions")
