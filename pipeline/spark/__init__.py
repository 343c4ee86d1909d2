"""engine: spark: the record-level stages on Apache Spark, from the same SQL as the DuckDB path.

One job a module:

* :mod:`~pipeline.spark.session`: what `insight validate` asks (the extra installed, Java 17+), and
  the run's SparkSession (built from the config's spark block, or passed in from Python);
* :mod:`~pipeline.spark.transpile`: pipeline/sql/*.sql, DuckDB's dialect, to Spark's with sqlglot;
* :mod:`~pipeline.spark.functions`: the DuckDB macros as pandas UDFs registered once per session;
* :mod:`~pipeline.spark.ingest`: the ingest stage on Spark (CSV and Parquet extracts read by Spark,
  with the DuckDB path's rules transpiled; other files read by DuckDB and handed over);
* :mod:`~pipeline.spark.stages`: geocode and assign on Spark, and the aggregates handed back to the
  run's DuckDB warehouse.

pyspark, pyarrow and sqlglot are the optional `spark` extra: nothing here imports them at module
level except `functions` and `stages`, which only a Spark run imports. docs/spark.md.
"""
