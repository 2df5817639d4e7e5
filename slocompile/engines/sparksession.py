"""The process's Spark session: its settings from the target, started once and shared by the
builds of the process (a JVM takes seconds to start), and Spark's own error messages.

Split from engines/spark.py (the Engine itself), which imports the session from here."""
from __future__ import annotations

import os
import re

from slocompile.errors import Problem, SlocompileError

# The process-wide session: (settings key, SparkSession)
_SHARED: dict = {}


def _defaults(local: bool) -> dict:
    """Settings sent unless the target's `conf` overrides them (a Spark Connect server refuses
    static settings: only session ones are sent there)."""
    conf = {"spark.sql.session.timeZone": "UTC"}
    if local:
        conf.update({"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                     "spark.sql.shuffle.partitions": "2",
                     # CREATE TABLE without USING: the session's default source (parquet), not Hive text
                     "spark.sql.legacy.createHiveTableByDefault": "false"})
    return conf


# Spark's default logging prints WARN lines and, for failed tasks, ERROR stack traces on the
# terminal; a build reports failures itself, so a JVM it starts logs only FATAL messages
# (override with conf: {spark.driver.extraJavaOptions: -Dlog4j2.configurationFile=...}).
_LOG4J2 = """rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = fatal
logger.pygateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.pygateway.level = fatal
"""


def _log_config() -> str:
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"slocompile-spark-log4j2-{os.getuid()}.properties")
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == _LOG4J2:
                return path
    except OSError:
        pass
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_LOG4J2)
    os.replace(tmp, path)
    return path


def session_settings(target, project_root: str) -> dict:
    """The settings a target's session is started with (also the key for sharing it)."""
    opts = dict(target.options)
    remote = opts.get("remote")
    extra = {str(k): str(v) for k, v in (opts.get("conf") or {}).items()}
    if remote:
        return {"remote": str(remote), "conf": {**_defaults(False), **extra}}
    master = str(opts.get("master") or "local[2]")
    local = master.startswith("local")
    warehouse = _abs(opts.get("warehouse") or "spark-warehouse", project_root)
    catalog = str(opts.get("catalog") or "hive")
    if catalog not in ("hive", "in-memory"):
        raise SlocompileError([Problem(target.loc, f"target '{target.name}': catalog must be hive or in-memory, "
                                                   f"not {catalog!r}")])
    conf = {**_defaults(local), "spark.sql.warehouse.dir": warehouse, "spark.sql.catalogImplementation": catalog}
    java = [f"-Dlog4j2.configurationFile=file:{_log_config()}"]
    dirs = [warehouse] if _is_local_path(warehouse) else []
    if catalog == "hive" and (local or "metastore" in opts):
        # an embedded Derby metastore beside the warehouse (a cluster's own metastore is set with
        # conf: {spark.hadoop.hive.metastore.uris: thrift://...}, which takes precedence)
        metastore = _abs(opts.get("metastore") or os.path.join(warehouse, "metastore_db"), project_root)
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = f"jdbc:derby:;databaseName={metastore};create=true"
        java.append(f"-Dderby.stream.error.file={os.path.join(os.path.dirname(metastore), 'derby.log')}")
        dirs.append(os.path.dirname(metastore))
    conf["spark.driver.extraJavaOptions"] = " ".join(java)
    for k, v in extra.items():
        conf[k] = f"{conf[k]} {v}" if k == "spark.driver.extraJavaOptions" else v
    return {"master": master, "conf": conf, "dirs": dirs}


def _is_local_path(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def _abs(path: str, root: str) -> str:
    path = os.path.expanduser(str(path))
    if not _is_local_path(path) or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(root, path))


def get_session(settings: dict, what: str = "spark"):
    """The shared SparkSession for these settings, started on first use."""
    key = repr(sorted((k, repr(v)) for k, v in settings.items()))
    if _SHARED.get("key") == key:
        return _SHARED["session"]
    stop_session()
    from pyspark.sql import SparkSession

    for d in settings.get("dirs", ()):
        os.makedirs(d, exist_ok=True)

    builder = SparkSession.builder.appName("slocompile")
    if "remote" in settings:
        builder = builder.remote(settings["remote"])
    else:
        builder = builder.master(settings["master"])
    for k, v in settings["conf"].items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except ImportError as e:  # Spark Connect's client needs grpcio, pandas, pyarrow, ...
        raise SlocompileError(f"{what}: Spark Connect needs more packages ({e}): pip install 'pyspark[connect]'") \
            from None
    except Exception as e:
        text = message(e)
        if "JAVA_GATEWAY_EXITED" in text or "JAVA_HOME" in text or "java" in text.lower().split(":")[0]:
            text += " (pyspark needs Java 17 or newer on PATH or in JAVA_HOME)"
        raise SlocompileError(f"{what}: cannot start Spark: {text}") from None
    _SHARED.update(key=key, session=session)
    _quiet_query_context_loggers()
    return session


def _quiet_query_context_loggers() -> None:
    """pyspark 4 logs every failed SQL statement from Python (logger SQLQueryContextLogger, JSON
    with the JVM stack trace on stderr) before raising it; the build and `slocompile debug` report
    failures themselves, so those loggers are raised to CRITICAL unless their level was changed
    from pyspark's default (WARN)."""
    import logging

    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark < 4 has no such logging
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logger = PySparkLogger.getLogger(name)
        if logger.level in (logging.NOTSET, logging.WARN):
            logger.setLevel(logging.CRITICAL)


class DriverStopped(SlocompileError):
    """The session's JVM is gone (killed, or out of memory): every later call would fail alike."""


def stopped(error: Exception, where: str) -> DriverStopped | None:
    """A DriverStopped for `error` when it says the JVM behind the session is gone (Py4J cannot
    reach it), else None; the dead session is forgotten, so the process's next build starts one."""
    text = f"{type(error).__name__}: {error}"
    if not (isinstance(error, ConnectionError) or any(k in text for k in _GONE)):
        return None
    _forget_dead_session()
    return DriverStopped(f"{where}: the Spark driver stopped (its JVM exited; out of memory? a local session "
                         "gets more with conf: {spark.driver.memory: 4g} in the target): " + message(error))


def _forget_dead_session() -> None:
    """Drop the shared session and pyspark's own references to its gateway: getOrCreate() would
    otherwise hand back the dead session (stop() cannot reach the JVM to clean up)."""
    _SHARED.pop("key", None)
    session = _SHARED.pop("session", None)
    if session is None:
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    for cls, names in ((SparkContext, ("_active_spark_context", "_gateway", "_jvm")),
                       (SparkSession, ("_instantiatedSession", "_activeSession"))):
        for name in names:
            if hasattr(cls, name):
                setattr(cls, name, None)


_GONE = ("Py4JNetworkError", "Answer from Java side is empty", "Error while receiving", "Connection refused",
         "Java gateway process exited")


def stop_session() -> None:
    """Stop the shared session, if any (tests and long-lived processes)."""
    session = _SHARED.pop("session", None)
    _SHARED.pop("key", None)
    if session is not None:
        try:
            session.stop()
        except Exception:
            pass


def message(e: Exception) -> str:
    """Spark's own message: the [ERROR_CLASS] line, without JVM stack traces or Py4J wrapping."""
    text = str(e).strip()
    marker = text.find("[USER_RAISED_EXCEPTION]")
    if marker >= 0:  # a blocked view; possibly wrapped in Py4JJavaError / SparkException text
        line = text[marker:].splitlines()[0]
        return re.sub(r"\s*SQLSTATE: \w+\s*$", "", line)
    java = getattr(e, "java_exception", None)
    if java is not None and type(e).__name__ == "Py4JJavaError":
        try:
            text = str(java.getMessage())
        except Exception:
            pass
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("at ")]
    return lines[0] if lines else type(e).__name__
