"""Citation-network analytics (:mod:`pipeline.network.run`)."""

#: The tables of the network stage, written as ``<name>.parquet`` under ``network.out`` and
#: loaded into the database as ``network_<name>`` (:mod:`pipeline.db`).
TABLES = ("nodes", "edges", "main_paths", "removed", "clusters", "flows_applicants", "flows_regions",
          "ipc_cooccurrence")
