package dev.kiln.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One {@code local[2]} Spark session for all of this module's tests: the driver JVM is the one
 * executor, so the tests can count what it compiled. Started on first use, stopped with the JVM.
 */
final class LocalSpark {
    private LocalSpark() {
    }

    static SparkSession session() {
        return Holder.SESSION;
    }

    private static final class Holder {
        static final SparkSession SESSION = SparkSession.builder()
                .master("local[2]")
                .appName("kiln-spark-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }
}
